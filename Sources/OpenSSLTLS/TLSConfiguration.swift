import NIOCore
import OpenSSLCrypto

/// How one side of a node's TLS connections is set up. A value type: build it from config, then
/// turn it into a `TLSContext` (expensive) once, off the event loop.
///
/// Fixed by design, not configurable: TLS 1.3 only; a certificate required from the peer on
/// both sides, checked against the trust anchor of the participant it names; no renegotiation
/// (TLS 1.3 has none); no session tickets or resumption (every connection re-authenticates the
/// peer against the *current* trust store and CRLs, and handshakes are cheap enough).
public struct TLSConfiguration: Sendable {
    public enum Role: Sendable, Hashable { case server, client }

    /// ALPN for MineralSync sync sessions.
    public static let applicationProtocol = "mineral-sync/1"

    public var role: Role
    /// Our certificate first, then any intermediates to send.
    public var certificateChain: [Certificate]
    public var privateKey: PrivateKey
    public var trustStore: TrustStore
    public var applicationProtocols: [String]
    public var handshakeTimeout: TimeAmount
    /// Protocol versions offered; TLS 1.3 only in the product. Tests widen it to play a legacy client.
    @_spi(Testing) public var versions: ClosedRange<Int32> = 0x0304...0x0304
    /// ALPN list a test client offers instead of ours, to play a foreign client.
    @_spi(Testing) public var offeredProtocolsOverride: [String]?
    /// Sends no certificate (a test client playing an anonymous one).
    @_spi(Testing) public var omitCertificate = false

    public init(
        role: Role, certificateChain: [Certificate], privateKey: PrivateKey, trustStore: TrustStore,
        applicationProtocols: [String] = [TLSConfiguration.applicationProtocol],
        handshakeTimeout: TimeAmount = .seconds(10)
    ) {
        self.role = role
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.trustStore = trustStore
        self.applicationProtocols = applicationProtocols
        self.handshakeTimeout = handshakeTimeout
    }

    /// The accepting side of a node: requires and verifies a client certificate.
    public static func makeServerConfiguration(
        certificateChain: [Certificate], privateKey: PrivateKey, trustStore: TrustStore,
        handshakeTimeout: TimeAmount = .seconds(10)
    ) -> TLSConfiguration {
        TLSConfiguration(
            role: .server, certificateChain: certificateChain, privateKey: privateKey,
            trustStore: trustStore, handshakeTimeout: handshakeTimeout)
    }

    /// The dialling side of a node: presents its certificate and verifies the server's.
    public static func makeClientConfiguration(
        certificateChain: [Certificate], privateKey: PrivateKey, trustStore: TrustStore,
        handshakeTimeout: TimeAmount = .seconds(10)
    ) -> TLSConfiguration {
        TLSConfiguration(
            role: .client, certificateChain: certificateChain, privateKey: privateKey,
            trustStore: trustStore, handshakeTimeout: handshakeTimeout)
    }
}
