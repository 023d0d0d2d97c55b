/// Why a key, certificate or file was refused. Each case names what is wrong in words an
/// operator can act on; `.openSSL` carries OpenSSL's whole error queue.
public enum CryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    case fileUnreadable(path: String, reason: String)
    case privateKeyTooOpen(path: String, mode: UInt16)
    case malformedPEM(source: String, expected: String)
    case noCertificate(source: String)
    case unsupportedKeyAlgorithm(String)
    case keyMismatch(certificate: String)
    case invalidSignatureEncoding
    case openSSL(OpenSSLError)

    public var description: String {
        switch self {
        case .fileUnreadable(let path, let reason):
            "cannot read \(path): \(reason)"
        case .privateKeyTooOpen(let path, let mode):
            "private key \(path) is readable by group or others (mode \(String(mode, radix: 8))); run `chmod 600 \(path)`"
        case .malformedPEM(let source, let expected):
            "\(source) is not a valid PEM \(expected)"
        case .noCertificate(let source):
            "\(source) holds no PEM certificate"
        case .unsupportedKeyAlgorithm(let name):
            "unsupported key algorithm \(name); node keys must be Ed25519 or P-256"
        case .keyMismatch(let certificate):
            "the private key does not match the public key of certificate \(certificate)"
        case .invalidSignatureEncoding:
            "the signature is not a valid encoding for its algorithm"
        case .openSSL(let error):
            error.description
        }
    }
}
