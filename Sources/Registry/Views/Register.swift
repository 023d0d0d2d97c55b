import OpenSSLCrypto

/// A record read out of a register: built from the entry that wrote it, on reading only.
protocol RegisterRecord: Sendable {
    init(written entry: Entry)
    /// The write's place in the order every last-writer-wins rule follows.
    var order: EventOrder { get }
}

/// A last-writer-wins register that keeps what it shows, not its history: the writes no other
/// write supersedes (usually one), how many writes it has had, and per feed a chain of their ids
/// for the digest. The writes themselves stay in the store (`RegistryViews.history(of:in:)`).
///
/// Causality first, clocks second (entry.proto, "Causality"): a write that another held write
/// names in `supersedes` is superseded; so is a write without `supersedes` (older nodes) that
/// a greater write without it follows. The latest is the greatest in `EventOrder` of the writes
/// not superseded. Both are functions of the set of writes, whatever order the feeds interleave in.
///
/// Memory is one entry per write not superseded (one, or a few after concurrent writes), the
/// greatest write without `supersedes`, plus one id per `supersedes` naming a write not folded
/// here (yet): a write of a feed not caught up, or one a concurrent write already superseded.
/// After any number of writes a register holds a handful of entries.
///
/// Writes come as `RegistryViews` folds them: each feed in ascending seq, each write once.
struct Register<Record: RegisterRecord>: Sendable {
    /// The writes no folded write supersedes, ascending in `EventOrder`: the last is the latest.
    /// Kept as entries (a few per register) so that a snapshot carries them as signed.
    private(set) var heads: [Entry] = []
    /// The greatest write without `supersedes`: it supersedes every smaller one.
    private(set) var greatestUnlinked: Entry?
    /// Ids that folded writes name in `supersedes` and that are not among the writes folded
    /// when they were named: such a write, once folded, is superseded and never a head.
    private var awaited: Set<EntryID> = []
    /// Every write folded here.
    private(set) var count = 0
    /// Per feed that wrote here, its writes' ids chained in seq order (`IDChain`), sorted by
    /// feed. A feed's entries are folded in seq order, so each chain only grows, one hash per
    /// write, however the feeds interleave; the register's digest combines them.
    private var feedChains: [FeedChain] = []

    struct FeedChain: Sendable, Equatable {
        let feed: NodeID
        var chain = IDChain.empty
        var count = 0
    }

    /// The digest of every write's id, for `RegistryViews.digest`: the feeds' chains in feed
    /// order, each with its count. A register of a million writes costs the same to digest as
    /// one of ten.
    var idDigest: SHA256Digest {
        var hasher = SHA256Hasher()
        for feed in feedChains {
            hasher.update(feed.feed.description)
            hasher.update(bigEndian: UInt64(feed.count))
            hasher.update(feed.chain)
        }
        return hasher.finalize()
    }

    init() {}

    /// A register as a snapshot keeps it (`ViewsSnapshot`): its heads, the ids it awaits, and
    /// its feeds' chains (which give its count).
    init(heads: [Entry], greatestUnlinked: Entry?, awaited: Set<EntryID>, chains: [FeedChain]) {
        self.heads = heads.sorted { EventOrder.precedes($0, $1) }
        self.greatestUnlinked = greatestUnlinked
        self.awaited = awaited
        feedChains = chains.sorted { $0.feed < $1.feed }
        count = chains.reduce(0) { $0 + $1.count }
    }

    /// What a snapshot keeps besides the heads.
    var awaitedIDs: Set<EntryID> { awaited }
    var chains: [FeedChain] { feedChains }

    /// Only read once something was written: a register exists from its first write on.
    var latest: Record { Record(written: latestEntry) }
    var latestEntry: Entry { heads[heads.count - 1] }

    /// Adds a write the views have not folded before.
    mutating func insert(_ entry: Entry) {
        count += 1
        chain(entry)
        let named = !awaited.isEmpty && awaited.remove(entry.id) != nil
        guard let supersedes = entry.supersedes else {
            // Among writes without `supersedes`, only the greatest can be the latest.
            if let greatest = greatestUnlinked {
                if EventOrder.precedes(entry, greatest) { return }
                removeHead(greatest.id)
            }
            greatestUnlinked = entry
            if !named { addHead(entry) }
            return
        }
        if !named { addHead(entry) }
        if !removeHead(supersedes) { awaited.insert(supersedes) }
    }

    private mutating func addHead(_ entry: Entry) {
        if let last = heads.last, EventOrder.precedes(entry, last) {
            heads.insert(entry, at: heads.firstIndex { EventOrder.precedes(entry, $0) }!)
        } else {
            heads.append(entry)
        }
    }

    @discardableResult
    private mutating func removeHead(_ id: EntryID) -> Bool {
        guard let index = heads.firstIndex(where: { $0.id == id }) else { return false }
        heads.remove(at: index)
        return true
    }

    private mutating func chain(_ entry: Entry) {
        var low = 0
        var high = feedChains.count
        while low < high {
            let middle = (low + high) / 2
            if feedChains[middle].feed < entry.origin { low = middle + 1 } else { high = middle }
        }
        if low == feedChains.count || feedChains[low].feed != entry.origin {
            feedChains.insert(FeedChain(feed: entry.origin), at: low)
        }
        feedChains[low].chain = IDChain.extend(feedChains[low].chain, with: entry.id)
        feedChains[low].count += 1
    }
}
