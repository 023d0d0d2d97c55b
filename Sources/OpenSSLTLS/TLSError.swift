import NIOCore
import OpenSSLCrypto

/// Why a TLS connection failed. Each refusal has its own case, so that logs and peer health say
/// *which* check a peer failed (no certificate, wrong authority, revoked, expired, ALPN, version).
public enum TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    case configuration(String)
    case handshakeTimedOut(TimeAmount)
    /// The peer's certificate chain failed our trust store (the case says which check).
    case peerCertificateRejected(TrustStoreError)
    /// The peer sent no certificate although one is required.
    case noPeerCertificate
    /// The peer refused *our* certificate, or the handshake otherwise ended with an alert from it.
    case alertReceived(String)
    case applicationProtocolMismatch(selected: String?)
    case protocolVersionRefused(String)
    /// Bytes that are not TLS records (a port scanner, HTTP, garbage).
    case malformedRecord(String)
    /// An extra identity check (an expected peer, a policy) refused the verified peer.
    case peerRefused(String)
    case closedDuringHandshake
    /// The transport closed without a close_notify: data may have been truncated.
    case uncleanShutdown
    case openSSL(OpenSSLError)

    public var description: String {
        switch self {
        case .configuration(let text): "TLS configuration: \(text)"
        case .handshakeTimedOut(let time): "TLS handshake did not complete within \(time)"
        case .peerCertificateRejected(let reason): "peer certificate rejected: \(reason)"
        case .noPeerCertificate: "peer presented no certificate"
        case .alertReceived(let alert): "peer ended the handshake with alert: \(alert)"
        case .applicationProtocolMismatch(let selected):
            "ALPN mismatch: expected \(TLSConfiguration.applicationProtocol), got \(selected ?? "none")"
        case .protocolVersionRefused(let detail): "TLS version refused (TLS 1.3 only): \(detail)"
        case .malformedRecord(let detail): "not a TLS peer: \(detail)"
        case .peerRefused(let reason): "peer refused: \(reason)"
        case .closedDuringHandshake: "connection closed during the TLS handshake"
        case .uncleanShutdown: "connection closed without TLS close_notify"
        case .openSSL(let error): "TLS failure: \(error)"
        }
    }
}
