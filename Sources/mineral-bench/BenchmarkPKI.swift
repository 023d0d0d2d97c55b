import Foundation
import OpenSSLCrypto
import OpenSSLTLS
import TestSupport

/// Two node identities under their participants' CAs (TestSupport's PKI), for TLS benchmarks.
struct BenchmarkPKI {
    let server: TLSContext
    let client: TLSContext

    init(algorithm: KeyAlgorithm) throws {
        let pki = try TestPKI(participants: ["EU", "JP"], algorithm: algorithm, authorityName: { "\($0) bench CA" })
        let trust = try pki.trustStore()
        var contexts: [TLSConfiguration.Role: TLSContext] = [:]
        for (role, participant, name) in [(TLSConfiguration.Role.server, "JP", "tokyo-1"), (.client, "EU", "brussels-1")] {
            let node = try pki.node(participant, name, algorithm: algorithm)
            contexts[role] = try TLSContext(
                configuration: TLSConfiguration(
                    role: role, certificateChain: [node.certificate], privateKey: node.key, trustStore: trust))
        }
        server = contexts[.server]!
        client = contexts[.client]!
    }
}
