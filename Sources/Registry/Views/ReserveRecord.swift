/// Where a reserve level is kept: one last-writer-wins register per participant × mineral × site.
public struct ReserveKey: Sendable, Hashable, Comparable {
    public let participant: ParticipantID
    public let mineral: MineralID
    /// Empty for the participant's reported total.
    public let site: String

    public init(participant: ParticipantID, mineral: MineralID, site: String = "") {
        self.participant = participant
        self.mineral = mineral
        self.site = site
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.participant.rawValue, a.mineral.rawValue, a.site) < (b.participant.rawValue, b.mineral.rawValue, b.site)
    }
}

/// One reserve report as folded: what was reported and when, by which node, in which entry.
public struct ReserveRecord: Sendable, Hashable {
    public let report: ReserveReport
    public let order: EventOrder

    public var key: ReserveKey { ReserveKey(participant: report.participant, mineral: report.mineral, site: report.site) }
}

extension ReserveRecord: RegisterRecord {
    /// Only reserve reports are written to reserve registers.
    init(written entry: Entry) {
        guard case .reportReserve(let report) = entry.operation else { preconditionFailure("\(entry) in a reserve register") }
        self.init(report: report, order: EventOrder(entry))
    }
}

/// Where a target is kept: one last-writer-wins register per participant × mineral.
public struct TargetKey: Sendable, Hashable, Comparable {
    public let participant: ParticipantID
    public let mineral: MineralID

    public init(participant: ParticipantID, mineral: MineralID) {
        self.participant = participant
        self.mineral = mineral
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.participant.rawValue, a.mineral.rawValue) < (b.participant.rawValue, b.mineral.rawValue)
    }
}

/// One strategic target as folded.
public struct TargetRecord: Sendable, Hashable {
    public let target: ReserveTarget
    public let order: EventOrder

    public var key: TargetKey { TargetKey(participant: target.participant, mineral: target.mineral) }
}

extension TargetRecord: RegisterRecord {
    /// Only targets are written to target registers.
    init(written entry: Entry) {
        guard case .setTarget(let target) = entry.operation else { preconditionFailure("\(entry) in a target register") }
        self.init(target: target, order: EventOrder(entry))
    }
}
