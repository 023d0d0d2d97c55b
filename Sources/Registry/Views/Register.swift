/// A record folded into a last-writer-wins register.
protocol RegisterRecord: Sendable {
    var order: EventOrder { get }
}

extension ReserveRecord: RegisterRecord {}
extension TargetRecord: RegisterRecord {}

/// A last-writer-wins register that keeps every write: `latest` is the write greatest in
/// `EventOrder` (commutative, associative, idempotent given distinct entries, which the fold's
/// seen-set guarantees); `history` holds all writes in arrival order and is sorted on reading.
/// The latest write is found by its place in the history, not kept as a second copy.
struct Register<Record: RegisterRecord>: Sendable {
    private(set) var history: [Record] = []
    private var latestIndex = 0

    /// Only read once something was written: a register exists from its first write on.
    var latest: Record { history[latestIndex] }

    mutating func write(_ record: Record) {
        if !history.isEmpty && history[latestIndex].order < record.order { latestIndex = history.count }
        history.append(record)
    }

    var orderedHistory: [Record] { history.sorted { $0.order < $1.order } }
}
