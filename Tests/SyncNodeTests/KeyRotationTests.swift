import Foundation
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import PeerTestSupport
import Registry
import SyncNode
import SyncProtocol
import TestSupport
import Testing

/// Key history at a node: an expired certificate signs nothing, a rotation continues the feed,
/// and a peer relaying what a retired key signed costs the feed nothing.
@Suite(.serialized) struct KeyRotationTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let pki: TestPKI

    init() throws { pki = try TestPKI() }

    @Test func anExpiredCertificateSignsNothingUntilTheNodeRotates() async throws {
        let expired = try pki.node("EU", "eu-1", notAfter: Date(timeIntervalSinceNow: -60))
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group, identity: expired)
        do {
            _ = try await eu.engine.append(Ops.report("EU"))
            Issue.record("an entry was signed under an expired certificate")
        } catch {
            guard case .certificate(let reason) = error else {
                Issue.record("wrong refusal: \(error)")
                return
            }
            #expect(reason.hasPrefix("this node's certificate expired at"))
        }
        #expect(eu.engine.vector[expired.id] == 0)
        let renewed = try pki.node("EU", "eu-1")
        try await eu.engine.rotate(to: renewed.key, certificateChain: [renewed.certificate])
        let entry = try await eu.engine.append(Ops.report("EU"))
        #expect(entry.seq == 1 && entry.signer == renewed.certificate.fingerprint)
        #expect(await eu.engine.ownKeyHistory.map(\.id) == [expired.certificate.fingerprint, renewed.certificate.fingerprint])
        // Both chains go to a peer that meets the feed.
        #expect(eu.engine.certificates(for: [expired.id]).map(\.chain) == [[expired.certificate.der], [renewed.certificate.der]])
        await eu.engine.close()
    }

    /// A partner relays US's feed across a rotation, then what US's old (stolen) key signed
    /// afterwards: at the next position, and in place of an entry it signed before. Both are
    /// refused without blame (a relay may have taken them before it met the rotation), the feed
    /// is not frozen, and US's next genuine entry is taken.
    @Test func entriesOfARetiredKeyRelayedByAPeerAreRefusedAndTheFeedStaysOpen() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        try await eu.start()
        let (old, new) = (try pki.node("US", "us-1"), try pki.node("US", "us-1"))
        var us = old.author()
        let early = (1...3).map { us.write(Ops.report("US", "gallium", "\($0)"), at: UInt64($0) * 1_000) }
        us = us.signing(with: new.key, signer: new.certificate.fingerprint, validity: nil)
        let late = (4...5).map { us.write(Ops.report("US", "gallium", "\($0)"), at: UInt64($0) * 1_000) }

        let relay = try await HostilePeer(identity: try pki.node("JP", "jp-1"), trust: try pki.trustStore(), port: eu.port)
        try await relay.hello()
        try await relay.send(
            .certificates([
                OriginCertificate(node: old.id, chain: [old.certificate.der]),
                OriginCertificate(node: new.id, chain: [new.certificate.der])
            ]))
        try await relay.send(.entries((early + late).map(\.signed)))
        try await within(20, "US's feed across the rotation") { await eu.engine.waitUntilHolding(VersionVector([old.id: 5])) }

        var thief = FeedAuthor(node: old.id, key: old.key, signer: old.certificate.fingerprint, head: us.head)
        let appended = thief.write(Ops.report("US", "gallium", "666"), at: 9_000)
        var rewriter = FeedAuthor(
            node: old.id, key: old.key, signer: old.certificate.fingerprint,
            head: FeedHead(seq: 1, id: early[0].id, link: early[0].link))
        let rewritten = rewriter.write(Ops.report("US", "gallium", "667"), at: 9_000)
        try await relay.send(.entries([appended.signed, rewritten.signed]))
        let next = us.write(Ops.report("US", "gallium", "6"), at: 6_000)
        try await relay.send(.entries([next.signed]))
        try await within(20, "US's next genuine entry") { await eu.engine.waitUntilHolding(VersionVector([old.id: 6])) }

        #expect(await eu.engine.forks.isEmpty)
        let health = try #require(eu.node.peers.health(of: try NodeID("JP/jp-1")))
        #expect(health.rejectedEntries == 2)
        #expect(health.offences == 0)
        #expect(await eu.engine.views.reserves.first { $0.key.participant == "US" }?.report.quantity.amount.text == "6")
        await relay.close()
        await eu.node.shutdown()
    }
}
