import OpenSSLCrypto

/// Fired inbound once the handshake is done *and* the peer's identity is verified, before
/// `TLSUserEvent.handshakeCompleted`: the next handler learns who is on the other end (the
/// participant and node its certificate names, checked against that participant's anchor).
public struct PeerIdentityEvent: Sendable, Hashable {
    public let peer: VerifiedPeer
    public let applicationProtocol: String
    public let version: String
}
