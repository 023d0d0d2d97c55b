import Foundation
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import Registry
import SyncNode
import SyncProtocol
import TestSupport
import Testing

/// A relay hands on the certificate of an origin its peer never met, so that the origin's
/// entries can be verified. The relay is not trusted for that: every relayed chain is checked
/// against the origin participant's own anchor and CRLs, and must name the origin it claims.
@Suite(.serialized) struct RelayedCertificateTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let pki: TestPKI

    init() throws { pki = try TestPKI() }

    /// JP/jp-1's first entries, and the relay (US/us-1) they come through.
    func origin() throws -> (node: TestNode, entries: [SignedEntry], relay: NodeID) {
        let jp = try pki.node("JP", "jp-1")
        var author = jp.author()
        let entries = (0..<3).map { author.write(Ops.report("JP", "tungsten", "\($0)"), at: 1_000 + UInt64($0)).signed }
        return (jp, entries, try NodeID("US/us-1"))
    }

    func expectRefused(_ certificate: OriginCertificate, trust: TrustStore? = nil, _ label: String) async throws {
        let (jp, entries, relay) = try origin()
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group, trust: trust)
        let result = await eu.engine.ingest(entries, certificates: [certificate], from: relay)
        #expect(result.accepted.isEmpty, "\(label): entries accepted on a refused certificate")
        #expect(result.rejected.map(\.reason) == [.unknownOrigin, .unknownOrigin, .unknownOrigin], "\(label)")
        #expect(eu.engine.certificates(for: [jp.id]).isEmpty, "\(label): the refused chain would be relayed onward")
        #expect(eu.engine.vector[jp.id] == 0)
        // The genuine chain, relayed afterwards, is taken.
        let genuine = OriginCertificate(node: jp.id, chain: [jp.certificate.der])
        if trust == nil {
            let after = await eu.engine.ingest(entries, certificates: [genuine], from: relay)
            #expect(after.accepted.count == 3, "\(label)")
        }
        await eu.engine.close()
    }

    /// Each distinct chain costs one verification, however often peers relay it: a chain held
    /// already is skipped (not stored again), a refused one refused from memory.
    @Test func eachChainIsVerifiedOnce() async throws {
        let (jp, entries, relay) = try origin()
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        let genuine = OriginCertificate(node: jp.id, chain: [jp.certificate.der])
        let byUS = try pki.authority("US").issue(
            commonName: "JP jp-1", publicKey: jp.key.publicKey,
            uris: ["spiffe://critical-minerals/participant/JP/node/jp-1"], serial: pki.serial())
        let forged = OriginCertificate(node: jp.id, chain: [byUS.der])
        for _ in 0..<100 { _ = await eu.engine.ingest([], certificates: [forged], from: relay) }
        #expect(await eu.engine.chainVerifications == 1)
        for _ in 0..<100 { _ = await eu.engine.ingest([], certificates: [genuine, forged], from: relay) }
        #expect(await eu.engine.chainVerifications == 2)
        #expect(await eu.engine.ingest(entries, certificates: [genuine], from: relay).accepted.count == 3)
        #expect(eu.engine.certificates(for: [jp.id]) == [genuine])
        await eu.engine.close()
    }

    @Test func aChainFromAnAuthorityNobodyConfiguredIsRefused() async throws {
        let rogue = try TestPKI(participants: ["JP"])  // same CA name as the real JP CA, another key
        let (jp, _, _) = try origin()
        let forged = try rogue.authority("JP").issue(
            commonName: "JP jp-1", publicKey: jp.key.publicKey,
            uris: ["spiffe://critical-minerals/participant/JP/node/jp-1"], serial: 77)
        try await expectRefused(OriginCertificate(node: jp.id, chain: [forged.der]), "forged CA")
    }

    @Test func aChainIssuedByAnotherParticipantsAuthorityIsRefused() async throws {
        let (jp, _, _) = try origin()
        let byUS = try pki.authority("US").issue(
            commonName: "JP jp-1", publicKey: jp.key.publicKey,
            uris: ["spiffe://critical-minerals/participant/JP/node/jp-1"], serial: pki.serial())
        try await expectRefused(OriginCertificate(node: jp.id, chain: [byUS.der]), "issued by US")
    }

    @Test func aValidChainForAnotherNodeIsRefused() async throws {
        let (jp, _, _) = try origin()
        // A genuine JP certificate, for jp-2, carrying jp-1's key: it names another node.
        let other = try pki.authority("JP").issue(
            commonName: "JP jp-2", publicKey: jp.key.publicKey,
            uris: ["spiffe://critical-minerals/participant/JP/node/jp-2"], serial: pki.serial())
        try await expectRefused(OriginCertificate(node: jp.id, chain: [other.der]), "another node's chain")
    }

    /// A revoked chain is kept and relayed, flagged: entries it signed up to a cut are shown (a
    /// node meeting the feed later needs it to check them). Alone, its entries are refused, and
    /// not held against the relay.
    @Test func aRevokedChainIsKeptButVouchesForNothing() async throws {
        let (jp, entries, relay) = try origin()
        let trust = try pki.trustStore(revoked: ["JP": [jp.serial]])
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group, trust: trust)
        let result = await eu.engine.ingest(entries, certificates: [OriginCertificate(node: jp.id, chain: [jp.certificate.der])], from: relay)
        #expect(result.accepted.isEmpty)
        #expect(result.rejected.map(\.reason) == [.revokedSigner, .revokedSigner, .revokedSigner])
        #expect(result.rejected.allSatisfy { !$0.reason.isInvalid })
        #expect(eu.engine.certificates(for: [jp.id]).count == 1)
        #expect(await eu.engine.revokedOrigins == [jp.id])
        await eu.engine.close()
    }

    @Test func bytesThatAreNoCertificateAreRefused() async throws {
        let (jp, _, _) = try origin()
        try await expectRefused(OriginCertificate(node: jp.id, chain: [[0x30, 0x03, 0x02, 0x01, 0x01]]), "garbage DER")
    }
}
