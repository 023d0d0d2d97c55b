/// A record read out of a register: built from the entry that wrote it, on reading only.
protocol RegisterRecord: Sendable {
    init(written entry: Entry)
}

/// A register that keeps every write: the entries themselves (shared with the rest of the node,
/// one reference each), ascending in `EventOrder`.
///
/// Causality first, clocks second (entry.proto, "Causality"): a write that another held write
/// names in `supersedes` is superseded; the latest is the greatest in `EventOrder` of the writes
/// no held write names (`heads`: one, unless writers did not see each other's writes). Both are
/// functions of the set of writes, so the register stays commutative, associative and
/// idempotent. Writes without `supersedes` (older nodes) are ordered by clock alone, as before.
///
/// `insert` is a set insertion: an entry already written is found by its order (which ends in
/// the entry id) and changes nothing. Writes usually arrive in order (a feed's clock only grows)
/// and cost an append; an older write is placed by binary search.
struct Register<Record: RegisterRecord>: Sendable {
    private(set) var writes: [Entry] = []
    /// The latest write's clock, kept here so that the usual write, a later clock, is placed
    /// without reading the latest entry (an older allocation, seldom still in cache).
    private var latestClock = HybridTimestamp.zero
    /// The writes no held write supersedes, ascending in `EventOrder`: the last is the latest.
    private var heads: [Entry] = []
    /// Ids named in `supersedes` by held writes that were not heads when named (not held yet,
    /// or superseded already): a write arriving later with such an id is superseded at once.
    private var namedElsewhere: Set<EntryID> = []

    /// Only read once something was written: a register exists from its first write on.
    var latest: Record { Record(written: latestEntry) }
    var latestEntry: Entry { heads[heads.count - 1] }

    /// Every write, each after the write it supersedes, otherwise in `EventOrder`.
    var orderedHistory: [Record] {
        CausalOrder.sorted(writes, id: \.id, supersedes: \.operation.supersedes).map(Record.init(written:))
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
        if let named = entry.operation.supersedes {
            // The usual write supersedes the latest; any other head is found by a short scan
            // (there are few, unless the register holds writes of nodes that predate the field).
            if let index = heads.lastIndex(where: { $0.id == named }) { heads.remove(at: index) } else { namedElsewhere.insert(named) }
        }
        guard namedElsewhere.remove(entry.id) == nil else { return true }
        if let last = heads.last, EventOrder.precedes(entry, last) {
            heads.insert(entry, at: Self.position(of: entry, in: heads))
        } else {
            heads.append(entry)
        }
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
