import Foundation
import Logging
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import PeerTestSupport
import Registry
import RegistryStore
import SyncNode
import SyncProtocol
import TestSupport
import Testing

/// Revocation is data: a CRL that reaches a node from any peer is checked against the trust
/// anchors, put in force at once (the revoked node's session closed, every entry signed under
/// the revoked certificate refused, whoever relays it, and what it signed earlier hidden and not
/// relayed), kept across restarts and sent on.
@Suite(.serialized) struct RevocationTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let pki: TestPKI

    init() throws { pki = try TestPKI() }

    @Test func aCRLRelayedByAPeerIsPutInForceKeptAndSentOn() async throws {
        let directory = try TemporaryDirectory(prefix: "revocation")
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group, directory: directory.url)
        try await eu.start()
        let rogue = try pki.node("US", "us-2")
        var author = rogue.author()
        let before = (1...2).map { author.write(Ops.report("US", "gallium", "\($0)"), at: UInt64($0) * 1_000) }
        let after = author.write(Ops.report("US", "gallium", "3"), at: 3_000)

        // The rogue is connected; a relay (JP) and an observer (US/us-1) too.
        let direct = try await HostilePeer(identity: rogue, trust: try pki.trustStore(), port: eu.port)
        try await direct.hello()
        let relay = try await HostilePeer(identity: try pki.node("JP", "jp-1"), trust: try pki.trustStore(), port: eu.port)
        try await relay.hello()
        let observer = try await HostilePeer(identity: try pki.node("US", "us-1"), trust: try pki.trustStore(), port: eu.port)
        try await observer.hello()
        try await relay.send(.certificates([OriginCertificate(node: rogue.id, chain: [rogue.certificate.der])]))
        try await relay.send(.entries(before.map(\.signed)))
        try await within(20, "the rogue's entries before the CRL") { await eu.engine.waitUntilHolding(VersionVector([rogue.id: 2])) }

        // Refused: a CRL no anchor signed, then an older one; taken: the US authority's newest.
        let foreign = try TestPKI(participants: ["US"], authorityName: { _ in "Someone else's CA" }).authority("US").revocationList(revoking: [rogue.serial])
        let stale = try pki.authority("US").revocationList(revoking: [], lastUpdate: Date(timeIntervalSinceNow: -7200))
        let current = try pki.authority("US").revocationList(revoking: [rogue.serial])
        try await relay.send(.revocations([foreign.der, current.der, stale.der]))
        // The rogue's session is closed, and the observer is sent the CRL.
        _ = try await within(20, "the rogue's session closes") { try await direct.untilClosed() }
        let sent = try await within(20, "the CRL goes on to the observer") { () async throws -> [[UInt8]] in
            while let message = try await observer.next() { if case .revocations(let crls) = message { return crls } }
            return []
        }
        #expect(sent == [current.der])
        #expect(await eu.engine.currentTrustStore.crls.map(\.der) == [current.der])
        // What the revoked key signed before the CRL is held but shown nowhere, and never relayed.
        let usGallium = ReserveKey(participant: "US", mineral: try MineralID("gallium"), site: "")
        #expect(await eu.engine.views.reserve(usGallium) == nil)
        #expect(eu.engine.snapshot.hiddenFeeds[rogue.id].map { [$0.shown, $0.held] } == [0, 2])
        #expect(eu.engine.entries(of: rogue.id, in: 1...2, limit: 10).isEmpty)

        // What the revoked key signed next, relayed by a partner that took it before the CRL: refused.
        try await relay.send(.entries([after.signed]))
        let relayID = relay.identity.id
        try await within(20, "the relayed entry is refused") {
            for await _ in eu.node.peers.sessionChanges() where (eu.node.peers.health(of: relayID)?.rejectedEntries ?? 0) >= 1 { return }
        }
        #expect(eu.engine.vector[rogue.id] == 2, "an entry signed under a revoked certificate was taken")
        #expect(eu.node.peers.health(of: relayID)?.offences == 0, "the relay saw it before the CRL: not its fault")
        for peer in [relay, observer] { await peer.close() }
        await eu.node.shutdown()

        // After a restart the CRL is still in force.
        let restarted = try InProcessNode("EU", "eu-1", pki: pki, group: group, directory: directory.url, identity: eu.identity)
        #expect(await restarted.engine.currentTrustStore.crls.map(\.der) == [current.der])
        #expect(await restarted.engine.views.reserve(usGallium) == nil, "the views at start show what the revoked key signed")
        let again = await restarted.engine.ingest(
            [after.signed], certificates: [OriginCertificate(node: rogue.id, chain: [rogue.certificate.der])], from: try NodeID("JP/jp-1"))
        #expect(again.accepted.isEmpty)
        await restarted.engine.close()
    }
}
