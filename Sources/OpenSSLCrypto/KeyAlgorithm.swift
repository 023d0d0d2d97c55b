/// The signature algorithms a node key may use. Ed25519 is the default: deterministic, fast to
/// verify, and its signatures are not malleable. P-256 is accepted for partners whose certified
/// crypto module requires it; its signatures are normalised to low-S so they are not malleable
/// either (a relay cannot produce a second valid signature for the same entry).
public enum KeyAlgorithm: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ed25519 = "ed25519"
    case p256 = "p256"

    public var description: String {
        switch self {
        case .ed25519: "Ed25519"
        case .p256: "P-256"
        }
    }
}
