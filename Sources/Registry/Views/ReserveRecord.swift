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

    /// Feeds the hasher exactly what hashing the three strings in turn would: for ASCII text,
    /// `String` hashes its bytes and a 0xFF terminator, and `Hasher` depends only on the bytes
    /// fed, not on how they were split. Equal keys therefore hash equally whichever path each
    /// takes (a test checks this). The usual key, all ASCII, costs one call instead of six.
    public func hash(into hasher: inout Hasher) {
        participant.rawValue.withUTF8Bytes { p in
            mineral.rawValue.withUTF8Bytes { m in
                site.withUTF8Bytes { s in
                    guard p.allSatisfy({ $0 < 0x80 }), m.allSatisfy({ $0 < 0x80 }), s.allSatisfy({ $0 < 0x80 }) else {
                        hasher.combine(participant.rawValue)
                        hasher.combine(mineral.rawValue)
                        hasher.combine(site)
                        return
                    }
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: p.count + m.count + s.count + 3) { buffer in
                        var end = 0
                        func append(_ part: UnsafeBufferPointer<UInt8>) {
                            _ = UnsafeMutableBufferPointer(rebasing: buffer[end...]).initialize(fromContentsOf: part)
                            buffer[end + part.count] = 0xFF
                            end += part.count + 1
                        }
                        append(p)
                        append(m)
                        append(s)
                        hasher.combine(bytes: UnsafeRawBufferPointer(buffer))
                    }
                }
            }
        }
    }
}

/// One reserve report as folded: what was reported and when, by which node, in which entry.
public struct ReserveRecord: Sendable, Hashable {
    public let report: ReserveReport
    public let order: EventOrder

    public var key: ReserveKey { report.key }
}

extension ReserveReport {
    /// The register this report writes.
    public var key: ReserveKey { ReserveKey(participant: participant, mineral: mineral, site: site) }
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
