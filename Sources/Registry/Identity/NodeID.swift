import OpenSSLCrypto

/// A node: its participant and its name within that participant (`EU/brussels-1`).
/// Every feed belongs to exactly one node; the certificate that signs it names the same node.
public struct NodeID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let participant: ParticipantID
    public let name: String

    public init(participant: ParticipantID, name: String) throws(RegistryValueError) {
        guard SPIFFEIdentity.isValidNodeName(name) else { throw .invalidNodeName(name) }
        self.participant = participant
        self.name = name
    }

    public init(participant: String, name: String) throws(RegistryValueError) {
        try self.init(participant: try ParticipantID(participant), name: name)
    }

    /// Parses `EU/brussels-1`.
    public init(_ text: String) throws(RegistryValueError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .invalidNodeName(text) }
        try self.init(participant: String(parts[0]), name: String(parts[1]))
    }

    /// The node a verified certificate names.
    public init(_ identity: SPIFFEIdentity) throws(RegistryValueError) {
        try self.init(participant: identity.participant, name: identity.node)
    }

    public var description: String { "\(participant)/\(name)" }

    public static func < (a: Self, b: Self) -> Bool {
        a.participant == b.participant ? a.name < b.name : a.participant < b.participant
    }
}
