import Foundation
import Logging
import OpenSSLCrypto
import Registry
import RegistryStore
import SyncNode
import SyncProtocol
import TestSupport
import Testing

/// Local-first writes: a node takes writes at once after any restart, peers or not, and never
/// re-uses a position of its feed that a partner may hold. A store that cannot prove it is the
/// newest (the node did not stop cleanly, or the file is a restored copy) makes the next write
/// open a new segment of the feed; a clean restart continues the feed it was writing.
@Suite struct LocalFirstTests {
    let pki: TestPKI
    let eu: TestNode
    let directory: TemporaryDirectory

    init() throws {
        pki = try TestPKI()
        eu = try pki.node("EU", "eu-1")
        directory = try TemporaryDirectory(prefix: "local-first")
    }

    func engine(_ file: String = "registry.sqlite") throws -> SyncEngine {
        let store = try RegistryStore(path: directory.path(file), node: eu.id)
        var logger = Logger(label: "local-first")
        logger.logLevel = .critical
        return try SyncEngine(store: store, key: eu.key, certificateChain: [eu.certificate], trustStore: try pki.trustStore(), logger: logger)
    }

    @Test func aCleanRestartContinuesTheFeedAndACrashOpensANewSegment() async throws {
        let first = try engine()
        let written = try await first.appendAll((1...3).map { Ops.report("EU", "gallium", "\($0)") })
        #expect(written.map(\.origin) == Array(repeating: eu.id, count: 3))
        await first.close()

        // Stopped cleanly, same file: the feed continues.
        let second = try engine()
        #expect(try await second.append(Ops.report("EU", "gallium", "4")).origin == eu.id)
        #expect(second.vector[eu.id] == 4)
        // Killed (never closed): the next start cannot tell what partners hold beyond seq 4.
        let third = try engine()
        #expect(await third.ownFeedWritable)
        let afterCrash = try await third.append(Ops.report("EU", "gallium", "5"))
        #expect(afterCrash.origin.node == eu.id && afterCrash.origin.segment != 0 && afterCrash.seq == 1)
        #expect(await third.writingFeed == afterCrash.origin)
        #expect(third.vector[eu.id] == 4, "the first feed is kept, not extended")
        await third.close()

        // A clean restart continues the segment.
        let fourth = try engine()
        let next = try await fourth.append(Ops.report("EU", "gallium", "6"))
        #expect(next.origin == afterCrash.origin && next.seq == 2)
        await fourth.close()
    }

    /// A backup of a cleanly stopped store, copied back over the store (the same file, bytes
    /// overwritten) after the node wrote more: its mark is older than the one beside the store,
    /// so the next write opens a new segment. The same backup under another path has no mark
    /// beside it at all.
    @Test func aBackupCopiedBackOpensANewSegment() async throws {
        let first = try engine()
        _ = try await first.appendAll((1...3).map { Ops.report("EU", "gallium", "\($0)") })
        await first.close()
        let backup = try Data(contentsOf: directory.url.appendingPathComponent("registry.sqlite"))
        try backup.write(to: directory.url.appendingPathComponent("elsewhere.sqlite"))
        let second = try engine()
        _ = try await second.append(Ops.report("EU", "gallium", "4"))
        await second.close()

        let handle = try #require(FileHandle(forWritingAtPath: directory.path("registry.sqlite")))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: backup)
        try handle.close()
        let restored = try engine()
        #expect(restored.vector[eu.id] == 3)
        let entry = try await restored.append(Ops.report("EU", "gallium", "5"))
        #expect(entry.origin.segment != 0 && entry.seq == 1)
        await restored.close()

        let elsewhere = try engine("elsewhere.sqlite")
        #expect(try await elsewhere.append(Ops.report("EU", "gallium", "6")).origin.segment != 0)
        await elsewhere.close()
    }

    /// Segments of a node's feed are checked with the node's certificates, by any receiver.
    @Test func aSegmentIsVerifiedWithTheNodesCertificate() async throws {
        var author = eu.author().startingSegment(77)
        let entries = (1...3).map { author.write(Ops.report("EU", "gallium", "\($0)"), at: UInt64($0)) }
        #expect(entries[0].origin.description == "EU/eu-1@77")
        let us = try pki.node("US", "us-1")
        let store = try RegistryStore(path: directory.path("us.sqlite"), node: us.id)
        let receiver = try SyncEngine(
            store: store, key: us.key, certificateChain: [us.certificate], trustStore: try pki.trustStore(),
            logger: Logger(label: "receiver"))
        let result = await receiver.ingest(
            entries.map(\.signed), certificates: [OriginCertificate(node: eu.id, chain: [eu.certificate.der])],
            from: eu.id)
        #expect(result.accepted.count == 3 && result.rejected.isEmpty)
        #expect(receiver.vector[eu.id.segment(77)] == 3)
        await receiver.close()
    }
}
