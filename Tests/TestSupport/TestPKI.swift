import Foundation
import OpenSSLCrypto
import Registry

/// A throw-away public-key infrastructure for tests: one CA per participant and node
/// certificates with the SPIFFE identity, all generated in-process with the system OpenSSL.
public final class TestPKI: @unchecked Sendable {
    public let trustDomain: String
    public private(set) var authorities: [String: CertificateIssuer] = [:]
    private var nextSerial: UInt64 = 100

    public init(
        trustDomain: String = "critical-minerals", participants: [String] = ["EU", "US", "JP"], algorithm: KeyAlgorithm = .ed25519,
        authorityName: (String) -> String = { "\($0) MineralSync CA" }
    ) throws {
        self.trustDomain = trustDomain
        for participant in participants {
            authorities[participant] = try CertificateIssuer.selfSignedAuthority(
                commonName: authorityName(participant), key: try PrivateKey.generate(algorithm))
        }
    }

    public func authority(_ participant: String) -> CertificateIssuer { authorities[participant]! }

    public func serial() -> UInt64 {
        nextSerial += 1
        return nextSerial
    }

    /// A node key and certificate issued by `issuer` (default: the node's own participant's CA).
    public func node(
        _ participant: String, _ name: String,
        issuedBy issuer: String? = nil,
        algorithm: KeyAlgorithm = .ed25519,
        // From the epoch: tests date entries with small clocks, which a certificate must cover.
        notBefore: Date = Date(timeIntervalSince1970: 0),
        notAfter: Date = Date(timeIntervalSinceNow: 86400)
    ) throws -> TestNode {
        let key = try PrivateKey.generate(algorithm)
        let serial = serial()
        let identity = try SPIFFEIdentity(trustDomain: trustDomain, participant: participant, node: name)
        let certificate = try authority(issuer ?? participant).issue(
            commonName: "\(participant) \(name)", publicKey: key.publicKey, uris: [identity.uri],
            notBefore: notBefore, notAfter: notAfter, serial: serial)
        return TestNode(id: try NodeID(identity), key: key, certificate: certificate, serial: serial)
    }

    public func trustStore(revoked: [String: [UInt64]] = [:]) throws -> TrustStore {
        let crls = try revoked.map { participant, serials in try authority(participant).revocationList(revoking: serials) }
        return try TrustStore(trustDomain: trustDomain, anchors: authorities.mapValues { [$0.certificate] }, revocationLists: crls)
    }
}

/// A node of a test alliance: its identity, signing key and certificate.
public struct TestNode: Sendable {
    public let id: NodeID
    public let key: PrivateKey
    public let certificate: Certificate
    public let serial: UInt64

    /// Its feed's author, naming this certificate in every entry.
    public func author() -> FeedAuthor { FeedAuthor(node: id, key: key, signer: certificate.fingerprint) }
}
