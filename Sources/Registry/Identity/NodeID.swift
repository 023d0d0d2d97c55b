import OpenSSLCrypto

/// A node: its participant and its name within that participant (`EU/brussels-1`), and, as the
/// origin of a feed, which segment of that node's feed (`EU/brussels-1@7`; segment 0, the node's
/// first feed, is written without the suffix). Certificates name nodes, never segments: every
/// segment of a node is signed under that node's certificates.
public struct NodeID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let participant: ParticipantID
    public let name: String
    /// 0 for the node itself and its first feed; a new segment after a restart that could not
    /// prove the store was the newest (entry.proto, "Segments").
    public let segment: UInt32

    public init(participant: ParticipantID, name: String, segment: UInt32 = 0) throws(RegistryValueError) {
        guard SPIFFEIdentity.isValidNodeName(name) else { throw .invalidNodeName(name) }
        self.participant = participant
        self.name = name
        self.segment = segment
    }

    public init(participant: String, name: String, segment: UInt32 = 0) throws(RegistryValueError) {
        try self.init(participant: try ParticipantID(participant), name: name, segment: segment)
    }

    /// Parses `EU/brussels-1`, or `EU/brussels-1@7` for a segment.
    public init(_ text: String) throws(RegistryValueError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .invalidNodeName(text) }
        let name = parts[1].split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        var segment: UInt32 = 0
        if name.count == 2 {
            guard let number = UInt32(name[1]), number > 0, String(number) == name[1] else { throw .invalidNodeName(text) }
            segment = number
        }
        try self.init(participant: String(parts[0]), name: String(name[0]), segment: segment)
    }

    /// The node a verified certificate names.
    public init(_ identity: SPIFFEIdentity) throws(RegistryValueError) {
        try self.init(participant: identity.participant, name: identity.node)
    }

    /// The node this feed belongs to (itself, for segment 0): what certificates name.
    public var node: NodeID { segment == 0 ? self : try! NodeID(participant: participant, name: name) }

    /// Segment `number` of this node's feed.
    public func segment(_ number: UInt32) -> NodeID { try! NodeID(participant: participant, name: name, segment: number) }

    public var description: String { segment == 0 ? "\(participant)/\(name)" : "\(participant)/\(name)@\(segment)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.participant, a.name, a.segment) < (b.participant, b.name, b.segment)
    }
}
