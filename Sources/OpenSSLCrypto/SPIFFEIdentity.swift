/// The node identity a certificate carries in its URI SAN:
/// `spiffe://<trust-domain>/participant/<ID>/node/<name>`.
///
/// The syntax rules for participant ids and node names live here, once, and the domain types
/// (`ParticipantID`, `NodeID`) use them, so a name valid in a certificate is valid in the registry.
public struct SPIFFEIdentity: Sendable, Hashable, CustomStringConvertible {
    public let trustDomain: String
    public let participant: String
    public let node: String

    public init(trustDomain: String, participant: String, node: String) throws(SPIFFEIdentityError) {
        guard Self.isValidTrustDomain(trustDomain) else { throw .invalidTrustDomain(trustDomain) }
        guard Self.isValidParticipant(participant) else { throw .invalidParticipant(participant) }
        guard Self.isValidNodeName(node) else { throw .invalidNodeName(node) }
        self.trustDomain = trustDomain
        self.participant = participant
        self.node = node
    }

    /// Parses the URI form; anything that is not exactly the shape above is refused.
    public init(uri: String) throws(SPIFFEIdentityError) {
        let scheme = "spiffe://"
        guard uri.hasPrefix(scheme) else { throw .notSPIFFE(uri) }
        let parts = uri.dropFirst(scheme.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[1] == "participant", parts[3] == "node" else { throw .unexpectedPath(uri) }
        try self.init(trustDomain: String(parts[0]), participant: String(parts[2]), node: String(parts[4]))
    }

    public var uri: String { "spiffe://\(trustDomain)/participant/\(participant)/node/\(node)" }
    public var description: String { uri }

    /// 2–8 characters of A–Z and 0–9 (`EU`, `US`, `JP`, `KR`, `AU2`).
    public static func isValidParticipant(_ text: String) -> Bool {
        text.withUTF8Bytes { utf8 in
            (2...8).contains(utf8.count) && utf8.allSatisfy { (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) }
        }
    }

    /// 1–63 characters of a–z, 0–9 and '-', not starting or ending with '-' (a DNS label).
    public static func isValidNodeName(_ text: String) -> Bool {
        text.withUTF8Bytes { utf8 in
            guard (1...63).contains(utf8.count), utf8.first != 0x2D, utf8.last != 0x2D else { return false }
            return utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
        }
    }

    /// Lower-case DNS-like name: letters, digits, '-', '.'; 1–255 characters.
    public static func isValidTrustDomain(_ text: String) -> Bool {
        let utf8 = text.utf8
        return (1...255).contains(utf8.count)
            && utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x2E }
    }
}

public enum SPIFFEIdentityError: Error, Sendable, Hashable, CustomStringConvertible {
    case notSPIFFE(String)
    case unexpectedPath(String)
    case invalidTrustDomain(String)
    case invalidParticipant(String)
    case invalidNodeName(String)

    public var description: String {
        switch self {
        case .notSPIFFE(let uri): "\(uri) is not a spiffe:// URI"
        case .unexpectedPath(let uri): "\(uri) is not of the form spiffe://<trust-domain>/participant/<ID>/node/<name>"
        case .invalidTrustDomain(let text): "trust domain \"\(text)\" must be lower-case letters, digits, '-' and '.'"
        case .invalidParticipant(let text): "participant id \"\(text)\" must be 2–8 characters of A–Z and 0–9"
        case .invalidNodeName(let text): "node name \"\(text)\" must be 1–63 characters of a–z, 0–9 and '-', not starting or ending with '-'"
        }
    }
}
