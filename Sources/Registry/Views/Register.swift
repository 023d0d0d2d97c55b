/// A record folded into a last-writer-wins register.
protocol RegisterRecord: Sendable {
    var order: EventOrder { get }
}

extension ReserveRecord: RegisterRecord {}
extension TargetRecord: RegisterRecord {}

/// A last-writer-wins register that keeps every write: `latest` is the write greatest in
/// `EventOrder` (commutative, associative, idempotent given distinct entries, which the fold's
/// seen-set guarantees); `history` holds all writes in arrival order and is sorted on reading.
struct Register<Record: RegisterRecord>: Sendable {
    private(set) var latest: Record
    private(set) var history: [Record]

    init(_ first: Record) {
        latest = first
        history = []
    }

    mutating func write(_ record: Record) {
        history.append(record)
        if latest.order < record.order { latest = record }
    }

    var orderedHistory: [Record] { history.sorted { $0.order < $1.order } }
}
