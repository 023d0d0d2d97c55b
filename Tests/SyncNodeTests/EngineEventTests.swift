import Foundation
import Logging
import OpenSSLCrypto
import Registry
import RegistryStore
import SyncNode
import SyncProtocol
import TestSupport
import Testing

/// The events the engine leaves in the outbox for hooks, with what it commits: received entries
/// and its own, nothing a view does not show.
@Suite struct EngineEventTests {
    let pki: TestPKI
    let eu: TestNode
    let directory: TemporaryDirectory

    init() throws {
        pki = try TestPKI()
        eu = try pki.node("EU", "eu-1")
        directory = try TemporaryDirectory(prefix: "engine-events")
    }

    @Test func aCutFeedsLaterEntriesAndAnOwnWriteAreToldAsTheViewsShowThem() async throws {
        let store = try RegistryStore(path: directory.path("registry.sqlite"), node: eu.id)
        var logger = Logger(label: "engine-events")
        logger.logLevel = .critical
        let engine = try SyncEngine(store: store, key: eu.key, certificateChain: [eu.certificate], trustStore: try pki.trustStore(), logger: logger)
        await engine.setEvents(RegistryEventFilter(kinds: Set(RegistryEventKind.allCases), maximumAgeMillis: 86_400_000))
        _ = try store.startHooks(["pager"])

        // JP/jp-1's key was stolen after its first entry; JP/jp-2 cuts its feed there. The cut
        // arrives in the same batch as what the thief signed.
        let stolen = try pki.node("JP", "jp-1")
        let keeper = try pki.node("JP", "jp-2")
        var thief = stolen.author()
        var guardian = keeper.author()
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let genuine = thief.write(Ops.raise("gallium", "genuine"), at: now - 3)
        let forged = thief.write(Ops.raise("graphite", "forged"), at: now - 2)
        let cut = guardian.write(.cutFeed(FeedCut(feed: stolen.id, seq: 1, entryID: genuine.id, reason: "key stolen")), at: now - 1)
        let certificates = [stolen, keeper].map { OriginCertificate(node: $0.id, chain: [$0.certificate.der]) }
        let result = await engine.ingest([genuine, forged, cut].map(\.signed), certificates: certificates, from: try NodeID("US/us-1"))
        #expect(result.accepted.count == 3)
        #expect(try await store.outboxEvents(after: 0).events.map(\.event.entry) == [genuine.id], "what the thief signed after the cut pages nobody")

        // The node's own write: recorded before its views fold it.
        let own = try await engine.append(Ops.raise("tungsten", "own", severity: .critical))
        let events = try await store.outboxEvents(after: 0).events
        #expect(events.map(\.event.entry) == [genuine.id, own.id] && events.last?.event.severity == .critical)
        await engine.close()
    }
}
