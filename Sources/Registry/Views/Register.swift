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
    /// The first `chained` writes' ids chained in order (`IDChain`). Writes are only counted
    /// here: `settle()` extends the chain over those since, and a write placed among the
    /// chained ones starts it again.
    private var chain = IDChain.empty
    private var chained = 0

    /// The digest of the writes' ids in order, for `RegistryViews.digest`: the settled chain
    /// extended over the writes since, so that a register of a million settled writes costs the
    /// same to digest as one of ten.
    var idChain: SHA256Digest { writes[chained...].reduce(chain) { IDChain.extend($0, with: $1.id) } }

    var isSettled: Bool { chained == writes.count }

    /// Extends the chain over every write (from the start if one was placed among the chained).
    mutating func settle() {
        chain = idChain
        chained = writes.count
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
            if index < chained { (chain, chained) = (IDChain.empty, 0) }
        } else {
            writes.append(entry)
            latestClock = entry.clock
        }
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
