import Foundation
import Logging
import NIOConcurrencyHelpers
import OpenSSLCrypto
import Registry
import RegistryStore
import SyncNode
import TestSupport
import Testing

/// A peer's statement that it holds this node's own feed beyond the store counts only with the
/// signed entry at that position: unproven, it holds writes for `claimProofTimeout` at most and
/// its peer is penalised; proven, writes wait until the feed is back (a restored backup must not
/// reuse sequence numbers).
@Suite struct OwnFeedClaimTests {
    let pki: TestPKI
    let eu: TestNode

    init() throws {
        pki = try TestPKI()
        eu = try pki.node("EU", "eu-1")
    }

    func engine(timeout: Duration = .milliseconds(300)) throws -> SyncEngine {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try RegistryStore(path: directory.appendingPathComponent("registry.sqlite").path, node: eu.id)
        var logger = Logger(label: "claims")
        logger.logLevel = .critical
        return try SyncEngine(
            store: store, key: eu.key, certificateChain: [eu.certificate], trustStore: try pki.trustStore(),
            claimProofTimeout: timeout, logger: logger)
    }

    /// The engine's refutations, kept and streamed.
    final class Refutations: Sendable {
        let seen = NIOLockedValueBox<[(NodeID, String)]>([])
        let stream: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation
        var all: [(NodeID, String)] { seen.withLockedValue { $0 } }

        init(_ engine: SyncEngine) {
            (stream, continuation) = AsyncStream<Void>.makeStream()
            let (seen, continuation) = (seen, continuation)
            engine.onClaimRefuted { peer, reason in
                seen.withLockedValue { $0.append((peer, reason)) }
                continuation.yield()
            }
        }
    }

    @Test func anUnprovenClaimHoldsWritesOnlyUntilItsDeadlineAndItsPeerIsNamed() async throws {
        let victim = try engine()
        let refutations = Refutations(victim)
        let attacker = try NodeID("JP/jp-1")
        await victim.peerHoldsOwnFeed(attacker, upTo: 4)
        do {
            _ = try await victim.append(Ops.report("EU"))
            Issue.record("a write went through an open claim")
        } catch {
            guard case .ownFeedClaimed(by: attacker, seq: 4, held: 0, until: _) = error else {
                Issue.record("wrong refusal: \(error)")
                return
            }
            #expect(error.description.hasPrefix("JP/jp-1 says it holds this node's feed up to seq 4 (this node holds 0)"))
        }
        // A forged proof (an entry at the claimed position, signed by another key) proves nothing.
        var forger = TestAlliance.standard.author("EU/eu-1")
        var forged = forger.write(Ops.report("EU"), at: 1)
        for step in 2...4 { forged = forger.write(Ops.report("EU"), at: UInt64(step)) }
        #expect(forged.seq == 4)
        let result = await victim.ingest([forged.signed], certificates: [], from: attacker)
        #expect(result.rejected.map(\.reason) == [.badSignature])
        try await within(20, "the claim expires") { await victim.waitUntilWritable() }
        #expect(refutations.all.map(\.0) == [attacker])
        #expect(refutations.all.first?.1.hasPrefix("claimed this node's feed up to seq 4 and sent no entry signed by this node") == true)
        #expect(try await victim.append(Ops.report("EU")).seq == 1)
    }

    /// A peer proves it holds more of the feed this node writes than its store (a backup was
    /// restored over a clean one): the next write goes to a new segment at once, never to a
    /// position the peer holds, and the entries come back into the old feed.
    @Test func aProvenClaimSendsTheNextWriteToANewSegment() async throws {
        // The feed as it was before the backup was restored: 5 entries, held by US.
        let original = try engine()
        let us = try NodeID("US/us-1")
        let jp = try NodeID("JP/jp-1")
        let written = try await original.appendAll((0..<5).map { Ops.report("EU", "gallium", "\($0)") }).map(\.signed)
        let restored = try engine()
        let refutations = Refutations(restored)
        await restored.peerHoldsOwnFeed(us, upTo: 5)
        // US proves its claim at once with the entry at 5 (it waits: the gap is 1...4).
        let proof = await restored.ingest([written[4]], certificates: [], from: us)
        #expect(proof.buffered == 1)
        // JP's lie, made after US's claim, holds writes until it expires; US's proven claim
        // holds nothing.
        await restored.peerHoldsOwnFeed(jp, upTo: 9)
        try await within(20, "JP's claim expires") { for await _ in refutations.stream { return } }
        #expect(refutations.all.map(\.0) == [jp])
        let next = try await restored.append(Ops.report("EU"))
        #expect(next.origin.node == eu.id && next.origin.segment != 0 && next.seq == 1, "\(next.origin)#\(next.seq)")
        _ = await restored.ingest(Array(written[0..<4]), certificates: [], from: us)
        #expect(restored.vector[eu.id] == 5, "the old feed came back whole")
        #expect(try await restored.append(Ops.report("EU")).origin == next.origin, "writes stay in the new segment")
    }
}
