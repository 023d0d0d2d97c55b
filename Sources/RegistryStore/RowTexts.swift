import Registry

/// The texts one append binds, each made once per transaction instead of once per row: a
/// feed's name for every entry of its run (a batch comes feed by feed), and a register's
/// subject for every report to it (reports are most of any history). Making them per row
/// (string interpolation, a heap allocation each) was about a fifth of the append's CPU.
struct RowTexts {
    private var origin: NodeID?
    private var originText = ""
    private var reserveSubjects: [TargetKey: String] = [:]

    /// `entry.origin.description`.
    mutating func origin(of entry: Entry) -> String {
        if entry.origin != origin {
            origin = entry.origin
            originText = entry.origin.description
        }
        return originText
    }

    /// `entry.subject`.
    mutating func subject(of entry: Entry) -> String? {
        guard case .reportReserve(let report) = entry.operation else { return entry.subject }
        let key = TargetKey(participant: report.participant, mineral: report.mineral)
        if let subject = reserveSubjects[key] { return subject }
        let subject = Entry.reserveSubject(report.participant, report.mineral)
        reserveSubjects[key] = subject
        return subject
    }
}
