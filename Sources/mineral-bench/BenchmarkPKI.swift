import Foundation
import OpenSSLCrypto
import OpenSSLTLS

/// Two node identities under their participants' CAs, for TLS benchmarks.
struct BenchmarkPKI {
    let server: TLSContext
    let client: TLSContext

    init(algorithm: KeyAlgorithm) throws {
        let trustDomain = "critical-minerals"
        var anchors: [String: [Certificate]] = [:]
        var contexts: [TLSConfiguration.Role: TLSContext] = [:]
        var issuers: [String: CertificateIssuer] = [:]
        for participant in ["EU", "JP"] {
            let issuer = try CertificateIssuer.selfSignedAuthority(commonName: "\(participant) bench CA", key: try PrivateKey.generate(algorithm))
            issuers[participant] = issuer
            anchors[participant] = [issuer.certificate]
        }
        let trust = try TrustStore(trustDomain: trustDomain, anchors: anchors)
        for (role, participant, name) in [(TLSConfiguration.Role.server, "JP", "tokyo-1"), (.client, "EU", "brussels-1")] {
            let key = try PrivateKey.generate(algorithm)
            let uri = try SPIFFEIdentity(trustDomain: trustDomain, participant: participant, node: name).uri
            let certificate = try issuers[participant]!.issue(commonName: name, publicKey: key.publicKey, uris: [uri], serial: 2)
            contexts[role] = try TLSContext(configuration: TLSConfiguration(
                role: role, certificateChain: [certificate], privateKey: key, trustStore: trust))
        }
        server = contexts[.server]!
        client = contexts[.client]!
    }
}
