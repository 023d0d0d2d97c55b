/// A record read out of a register: built from the entry that wrote it, on reading only.
protocol RegisterRecord: Sendable {
    init(written entry: Entry)
}

/// A last-writer-wins register that keeps every write: the entries themselves (shared with the
/// rest of the node, one reference each), ascending in `EventOrder`, so the last is the latest
/// and the history is already in order.
///
/// `insert` is a set insertion: an entry already written is found by its order (which ends in
/// the entry id) and changes nothing. That makes the register commutative, associative and
/// idempotent on its own, without a separate set of seen ids. Writes usually arrive in order
/// (a feed's clock only grows) and cost an append; an older write is placed by binary search.
struct Register<Record: RegisterRecord>: Sendable {
    private(set) var writes: [Entry] = []
    /// The latest write's clock, kept here so that the usual write, a later clock, is placed
    /// without reading the latest entry (an older allocation, seldom still in cache).
    private var latestClock = HybridTimestamp.zero

    /// Only read once something was written: a register exists from its first write on.
    var latest: Record { Record(written: writes[writes.count - 1]) }

    var orderedHistory: [Record] { writes.map(Record.init(written:)) }

    /// Adds a write; false when this entry was already written.
    mutating func insert(_ entry: Entry) -> Bool {
        guard let last = writes.last, latestClock >= entry.clock, !EventOrder.precedes(last, entry) else {
            writes.append(entry)
            latestClock = entry.clock
            return true
        }
        var low = 0, high = writes.count
        while low < high {
            let middle = (low + high) / 2
            if EventOrder.precedes(writes[middle], entry) { low = middle + 1 } else { high = middle }
        }
        if writes[low].id == entry.id { return false }
        writes.insert(entry, at: low)
        return true
    }
}
