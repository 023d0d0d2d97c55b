import OpenSSLCrypto

/// A record read out of a register: built from the entry that wrote it, on reading only.
protocol RegisterRecord: Sendable {
    init(written entry: Entry)
}

/// A register that keeps every write: the entries themselves (shared with the rest of the node,
/// one reference each), ascending in `EventOrder`.
///
/// Causality first, clocks second (entry.proto, "Causality"): a write that another held write
/// names in `supersedes` is superseded; the latest is the greatest in `EventOrder` of the writes
/// no held write names. Both are functions of the set of writes, so the register stays
/// commutative, associative and idempotent. Writes without `supersedes` (older nodes) are
/// ordered by clock alone, as before.
///
/// `insert` is a set insertion: an entry already written is found by its order (which ends in
/// the entry id) and changes nothing. Writes usually arrive in order (a feed's clock only grows)
/// and cost an append; an older write is placed by binary search.
struct Register<Record: RegisterRecord>: Sendable {
    private(set) var writes: [Entry] = []
    /// The latest write's clock, kept here so that the usual write, a later clock, is placed
    /// without reading the latest entry (an older allocation, seldom still in cache).
    private var latestClock = HybridTimestamp.zero
    /// Every id that a held write names in `supersedes`: those writes are superseded. Empty
    /// while no write names another (older nodes' writes).
    private var superseded: Set<EntryID> = []
    /// Per feed that wrote here, its writes' ids chained in seq order (`IDChain`), sorted by
    /// feed. A feed's entries are released in seq order, so each chain only grows, one hash per
    /// write, however the feeds interleave in event order; the register's digest combines them.
    private var feedChains: [FeedChain] = []
    private struct FeedChain: Sendable {
        let feed: NodeID
        /// The feed's name as the digest writes it, made once.
        let name: String
        var chain = IDChain.empty
        var count = 0
        var lastSeq: UInt64 = 0
    }

    /// The digest of every write's id, for `RegistryViews.digest`: the feeds' chains in feed
    /// order, each with its count. A register of a million writes costs the same to digest as
    /// one of ten.
    var idDigest: SHA256Digest {
        var hasher = SHA256Hasher()
        for feed in feedChains {
            hasher.update(feed.name)
            hasher.update(bigEndian: UInt64(feed.count))
            hasher.update(feed.chain)
        }
        return hasher.finalize()
    }

    /// Adds `entry` to its feed's chain; a write older than its feed's last (never from the
    /// ledger, which releases a feed in order) rebuilds that feed's chain from the writes.
    private mutating func chain(_ entry: Entry) {
        var low = 0, high = feedChains.count
        while low < high {
            let middle = (low + high) / 2
            if feedChains[middle].feed < entry.origin { low = middle + 1 } else { high = middle }
        }
        if low == feedChains.count || feedChains[low].feed != entry.origin {
            feedChains.insert(FeedChain(feed: entry.origin, name: entry.origin.description), at: low)
        }
        if entry.seq > feedChains[low].lastSeq {
            feedChains[low].chain = IDChain.extend(feedChains[low].chain, with: entry.id)
            feedChains[low].count += 1
            feedChains[low].lastSeq = entry.seq
        } else {
            let own = writes.filter { $0.origin == entry.origin }.sorted { $0.seq < $1.seq }
            feedChains[low].chain = IDChain.over(own)
            feedChains[low].count = own.count
            feedChains[low].lastSeq = own.last?.seq ?? 0
        }
    }

    /// Only read once something was written: a register exists from its first write on.
    var latest: Record { Record(written: latestEntry) }
    /// The greatest write in `EventOrder` that no held write supersedes: the last write, unless
    /// a write made after seeing it has a smaller clock (a skewed clock), found from the end.
    var latestEntry: Entry {
        guard !superseded.isEmpty else { return writes[writes.count - 1] }
        return writes.last { !superseded.contains($0.id) } ?? writes[writes.count - 1]
    }

    /// Every write, each after the write it supersedes, otherwise in `EventOrder`.
    var orderedHistory: [Record] {
        CausalOrder.sorted(writes, id: \.id, supersedes: \.supersedes).map(Record.init(written:))
    }

    /// Adds a write; false when this entry was already written.
    mutating func insert(_ entry: Entry) -> Bool {
        if let last = writes.last, latestClock >= entry.clock, !EventOrder.precedes(last, entry) {
            let index = Self.position(of: entry, in: writes)
            if writes[index].id == entry.id { return false }
            writes.insert(entry, at: index)
        } else {
            writes.append(entry)
            latestClock = entry.clock
        }
        chain(entry)
        if let named = entry.supersedes { superseded.insert(named) }
        return true
    }

    /// Where `entry` goes in `entries` (ascending in `EventOrder`), by binary search.
    private static func position(of entry: Entry, in entries: [Entry]) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if EventOrder.precedes(entries[middle], entry) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
