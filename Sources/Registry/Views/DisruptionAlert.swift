/// An alert as the registry shows it: the raise, with the issuer's updates applied field by
/// field (last writer wins by event order), the set of participants that acknowledged it, and
/// its resolution, which is terminal: updates ordered after it do not apply.
public struct DisruptionAlert: Sendable, Hashable {
    public struct Acknowledgement: Sendable, Hashable {
        public let node: NodeID
        public let at: HybridTimestamp
        public let note: String
    }

    public struct Resolution: Sendable, Hashable {
        public let node: NodeID
        public let at: HybridTimestamp
        public let note: String
    }

    public let id: EntryID
    public let issuer: NodeID
    public let raisedAt: HybridTimestamp
    public var mineral: MineralID
    public var severity: Severity
    public var category: AlertCategory
    public var region: String
    public var summary: String
    public var expiresAtMillis: UInt64?
    public var updatedAt: HybridTimestamp
    /// First acknowledgement of each participant (by event order).
    public var acknowledgements: [ParticipantID: Acknowledgement]
    public var resolution: Resolution?

    public var isResolved: Bool { resolution != nil }

    public func isExpired(nowMillis: UInt64) -> Bool {
        expiresAtMillis.map { $0 <= nowMillis } ?? false
    }
}
