import OpenSSLCrypto

/// A partner of the alliance: `EU`, `US`, `JP`, ... (2–8 of A–Z, 0–9). The same rule governs
/// the participant in a node certificate's SPIFFE URI, so the two can never disagree.
public struct ParticipantID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(_ rawValue: String) throws(RegistryValueError) {
        guard SPIFFEIdentity.isValidParticipant(rawValue) else { throw .invalidParticipant(rawValue) }
        self.rawValue = rawValue
    }

    /// For literals in code and tests; traps on an invalid id.
    public init(stringLiteral: String) {
        precondition(SPIFFEIdentity.isValidParticipant(stringLiteral), "invalid participant id \(stringLiteral)")
        rawValue = stringLiteral
    }

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
