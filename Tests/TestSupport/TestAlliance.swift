import Foundation
import OpenSSLCrypto
import Registry

/// Nodes with keys (no certificates: registry tests need only the keys) and a key directory.
public struct TestAlliance: Sendable {
    public let nodes: [NodeID: PrivateKey]

    /// The same five keys for every test in a process: key generation is the slow part.
    public static let standard = TestAlliance(names: ["EU/eu-1", "EU/eu-2", "US/us-1", "US/us-2", "JP/jp-1"])

    public init(names: [String], algorithm: KeyAlgorithm = .ed25519) {
        var nodes: [NodeID: PrivateKey] = [:]
        for name in names { nodes[try! NodeID(name)] = try! PrivateKey.generate(algorithm) }
        self.nodes = nodes
    }

    public var ids: [NodeID] { nodes.keys.sorted() }

    public func node(_ name: String) -> NodeID { try! NodeID(name) }

    public func author(_ name: String) -> FeedAuthor {
        let id = node(name)
        return FeedAuthor(node: id, key: nodes[id]!)
    }

    /// The key directory the ledger consults.
    public var keys: @Sendable (NodeID) -> PublicKey? {
        let publicKeys = nodes.mapValues(\.publicKey)
        return { publicKeys[$0] }
    }
}

/// Operations with sensible defaults, for tests and benchmarks.
public enum Ops {
    public static func report(
        _ participant: ParticipantID, _ mineral: String = "gallium", _ amount: String = "100", unit: MassUnit = .tonne, site: String = "",
        asOf: UInt64 = 1_700_000_000_000
    ) -> EntryOperation {
        .reportReserve(
            ReserveReport(
                participant: participant, mineral: try! MineralID(mineral), site: site,
                quantity: Quantity(amount: try! Amount(amount), unit: unit), asOfMillis: asOf))
    }

    public static func target(_ participant: ParticipantID, _ mineral: String = "gallium", _ amount: String = "200") -> EntryOperation {
        .setTarget(ReserveTarget(participant: participant, mineral: try! MineralID(mineral), quantity: Quantity(amount: try! Amount(amount), unit: .tonne)))
    }

    public static func raise(_ mineral: String = "gallium", _ summary: String = "export licence regime", severity: Severity = .high) -> EntryOperation {
        .raiseAlert(AlertRaise(mineral: try! MineralID(mineral), severity: severity, category: .exportRestriction, region: "CN", summary: summary))
    }

    public static func ack(_ alert: EntryID, _ participant: ParticipantID) -> EntryOperation {
        .acknowledgeAlert(AlertAcknowledgement(alertID: alert, participant: participant))
    }

    public static func resolve(_ alert: EntryID, _ note: String = "lifted") -> EntryOperation {
        .resolveAlert(AlertResolution(alertID: alert, note: note))
    }

    public static func update(_ alert: EntryID, severity: Severity? = nil, summary: String? = nil) -> EntryOperation {
        .updateAlert(AlertUpdate(alertID: alert, severity: severity, summary: summary))
    }
}

extension FeedAuthor {
    /// Drafts and adopts in one step, skipping policy: for building histories in tests,
    /// including ones that break the rules on purpose.
    public mutating func write(_ operation: EntryOperation, at now: UInt64) -> Entry {
        let (entry, next) = try! drafting(operation, now: now)
        self = next
        return entry
    }
}
