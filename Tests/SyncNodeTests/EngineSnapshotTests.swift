import Foundation
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import Registry
import SyncNode
import SyncProtocol
import TestSupport
import Testing

/// The engine publishes its state after every change: whoever reads the snapshot (sessions, the
/// admin API) sees what the engine holds, without waiting for it.
@Suite struct EngineSnapshotTests {
    let pki: TestPKI

    init() throws { pki = try TestPKI() }

    @Test func theSnapshotShowsEveryKindOfChangeAsSoonAsItIsMade() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: MultiThreadedEventLoopGroup.singleton)
        let engine = eu.engine
        var generation = engine.snapshot.generation
        /// The snapshot agrees with the engine's own state, and it is a new one.
        func expectPublished(_ change: Comment) async {
            let snapshot = engine.snapshot
            #expect(snapshot.generation > generation, change)
            #expect(await engine.currentSnapshot().viewDigest == (await engine.views.digest), change)
            generation = engine.snapshot.generation
            #expect(snapshot.forks.map(\.origin) == (await engine.forks.map(\.origin)), change)
            #expect(snapshot.revokedOrigins == (await engine.revokedOrigins), change)
            #expect(snapshot.revocationLists == (await engine.currentTrustStore.crls.map(\.der)), change)
            #expect(snapshot.ownKeyHistory.map(\.id) == (await engine.ownKeyHistory.map(\.id)), change)
            #expect(snapshot.currentSigner == (await engine.currentSigner), change)
            #expect(snapshot.ownFeedWritable == (await engine.ownFeedWritable), change)
        }

        let own = try await engine.append(Ops.report("EU", "gallium", "5"))
        await expectPublished("a local write")
        #expect(engine.snapshot.vector[eu.identity.id] == 1)
        #expect(engine.snapshot.headIDs[eu.identity.id] == own.id)

        let rogue = try pki.node("US", "us-2")
        var author = rogue.author()
        let entries = (1...3).map { author.write(Ops.report("US", "gallium", "\($0)"), at: UInt64($0) * 1_000) }
        let certificate = OriginCertificate(node: rogue.id, chain: [rogue.certificate.der])
        _ = await engine.ingest(entries.map(\.signed), certificates: [certificate], from: try NodeID("JP/jp-1"))
        await expectPublished("entries from a peer")
        #expect(engine.snapshot.vector[rogue.id] == 3)
        #expect(engine.snapshot.chains[rogue.id]?.count == 1)

        var twin = rogue.author()
        let forked = twin.write(Ops.report("US", "gallium", "999"), at: 1_000)
        let result = await engine.ingest([forked.signed], certificates: [], from: try NodeID("JP/jp-1"))
        #expect(result.accepted.isEmpty)
        await expectPublished("a fork, with no entry accepted")
        #expect(engine.snapshot.forks.map(\.origin) == [rogue.id])
        #expect(engine.snapshot.feedsShownInPart.isEmpty)

        let crl = try pki.authority("US").revocationList(revoking: [rogue.serial])
        await engine.takeRevocations([crl.der], from: nil)
        await expectPublished("a CRL put in force")
        #expect(engine.snapshot.revokedOrigins == [rogue.id.node])
        // What the revoked key signed is held, and shown nowhere.
        #expect(engine.snapshot.feedsShownInPart == [rogue.id])
        #expect(engine.snapshot.hiddenFeeds[rogue.id].map { [$0.shown, $0.held] } == [0, 3])
        // A CRL that revokes nothing this node holds shows nothing new, but sessions send it on.
        let japan = try pki.authority("JP").revocationList(revoking: [999_999])
        await engine.takeRevocations([japan.der], from: nil)
        await expectPublished("a CRL that revokes no held certificate")
        #expect(engine.snapshot.revocationLists.contains(japan.der))

        let renewed = try pki.node("EU", "eu-1")
        try await engine.rotate(to: renewed.key, certificateChain: [renewed.certificate])
        await expectPublished("a key rotation")
        #expect(engine.snapshot.ownKeyHistory.count == 2)
        await engine.close()
    }

    /// The views go with a publication only while someone reads them: a catch-up nobody watches
    /// never shares them (sharing makes the next fold copy every register it touches).
    @Test func theViewsArePublishedOnlyWhileSomeoneReadsThem() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: MultiThreadedEventLoopGroup.singleton)
        let engine = eu.engine
        _ = try await engine.append(Ops.report("EU", "gallium", "5"))
        #expect(!engine.snapshot.viewsAreCurrent, "published with nobody reading")
        #expect(engine.snapshot.views.reserves.isEmpty, "the views published at start")
        let read = await engine.currentSnapshot()
        #expect(read.viewsAreCurrent)
        #expect(read.views.reserves.map(\.report.quantity.amount.text) == ["5"])
        _ = try await engine.append(Ops.report("EU", "gallium", "6"))
        #expect(engine.snapshot.viewsAreCurrent, "a reader lately: published with every change")
        #expect(engine.snapshot.views.reserves.map(\.report.quantity.amount.text) == ["6"])
        await engine.close()
    }

    /// `changes()` yields at once, then after every publication; closing the engine ends it.
    @Test func changesAreSignalledAfterEveryPublication() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: MultiThreadedEventLoopGroup.singleton)
        let engine = eu.engine
        let changes = await engine.changes()
        let signals = Signals()
        let reader = Task {
            for await _ in changes { signals.count += 1 }
            signals.ended = true
        }
        try await within(10, "the first signal, at once") { while signals.count < 1 { await Task.yield() } }
        let before = engine.snapshot.generation
        _ = try await engine.append(Ops.report("EU", "gallium", "5"))
        try await within(10, "a signal after the write") { while signals.count < 2 { await Task.yield() } }
        #expect(engine.snapshot.generation > before)
        await engine.close()
        try await within(10, "the stream ends when the engine closes") { while !signals.ended { await Task.yield() } }
        reader.cancel()
    }

    private final class Signals: @unchecked Sendable {
        private let lock = NSLock()
        private var _count = 0, _ended = false
        var count: Int {
            get { lock.withLock { _count } }
            set { lock.withLock { _count = newValue } }
        }
        var ended: Bool {
            get { lock.withLock { _ended } }
            set { lock.withLock { _ended = newValue } }
        }
    }
}
