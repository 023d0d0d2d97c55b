/// What the store indexes an entry by, so that the history behind a view is read without a scan
/// (the views keep none of it): `reserve/EU/gallium` (every site's reports), `target/EU/gallium`,
/// `alert/<id hex>` (the raise and every entry about the alert), `cut`. nil for other entries.
extension Entry {
    public var subject: String? { Self.subject(of: operation, id: id) }

    public static func subject(of operation: EntryOperation, id: EntryID) -> String? {
        switch operation {
        case .reportReserve(let report): reserveSubject(report.participant, report.mineral)
        case .setTarget(let target): "target/\(target.participant.rawValue)/\(target.mineral.rawValue)"
        case .raiseAlert: alertSubject(id)
        case .updateAlert(let update): alertSubject(update.alertID)
        case .acknowledgeAlert(let ack): alertSubject(ack.alertID)
        case .resolveAlert(let resolution): alertSubject(resolution.alertID)
        case .cutFeed: cutSubject
        case .setConsumption(let consumption): "consumption/\(consumption.participant.rawValue)/\(consumption.mineral.rawValue)"
        case .unknown, .malformed: nil
        }
    }

    public static func reserveSubject(_ participant: ParticipantID, _ mineral: MineralID) -> String {
        "reserve/\(participant.rawValue)/\(mineral.rawValue)"
    }

    public static func alertSubject(_ id: EntryID) -> String { "alert/\(id.hex)" }
    public static let cutSubject = "cut"
    /// Every alert subject sorts from this one, below `alertSubjectEnd`.
    public static let alertSubjectStart = "alert/", alertSubjectEnd = "alert0"
}
