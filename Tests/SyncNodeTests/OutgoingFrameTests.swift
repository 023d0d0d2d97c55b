import Foundation
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import Registry
import SyncProtocol
import TestSupport
import Testing

@testable import SyncNode

/// What an honest node sends never exceeds what a peer must accept: large batches and
/// certificate sets go out in several messages.
@Suite(.serialized) struct OutgoingFrameTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func largeBatchesAndCertificateSetsAreSplitWithinTheLimits() throws {
        var author = TestAlliance.standard.author("EU/eu-1")
        let note = String(repeating: "n", count: 2_000)
        let entries = (0..<3_000).map { step in
            author.write(
                .reportReserve(
                    ReserveReport(
                        participant: "EU", mineral: try! MineralID("gallium"), site: "",
                        quantity: Quantity(amount: try! Amount("\(step)"), unit: .tonne), asOfMillis: 1, note: note)), at: UInt64(step)
            ).signed
        }
        let frames = PeerSessionHandler.split(.entries(entries))
        #expect(frames.count > 3)
        var rejoined: [SignedEntry] = []
        for frame in frames {
            let bytes = try SyncMessageCodec.encode(frame)
            #expect(bytes.count <= 1 << 20, "a frame of \(bytes.count) bytes")
            guard case .entries(let part) = try SyncMessageCodec.decode(bytes) else {
                Issue.record("not entries")
                continue
            }
            rejoined += part
        }
        #expect(rejoined == entries)
        let small = (0..<12_000).map { _ in SignedEntry(body: [1], signature: [2]) }
        #expect(
            PeerSessionHandler.split(.entries(small)).allSatisfy {
                if case .entries(let part) = $0 { part.count <= SyncLimits.standard.entriesPerMessage } else { false }
            })
        let certificates = try (0..<70).map { OriginCertificate(node: try NodeID("JP/jp-\($0)"), chain: [[0x30]]) }
        let sets = PeerSessionHandler.split(.certificates(certificates))
        #expect(sets.count == 3)
        for set in sets { #expect(throws: Never.self) { _ = try SyncMessageCodec.decode(try SyncMessageCodec.encode(set)) } }
        let statement = try SignedStatement.signing(
            ViewStatement(node: try NodeID("EU/eu-1"), vector: VersionVector(), digest: .zero, signedAtMillis: 1),
            key: TestAlliance.standard.nodes[try NodeID("EU/eu-1")]!, signer: .zero)
        let statements = PeerSessionHandler.split(.statements(Array(repeating: statement, count: 150)))
        #expect(statements.count == 3)
        for part in statements { #expect(throws: Never.self) { _ = try SyncMessageCodec.decode(try SyncMessageCodec.encode(part)) } }
    }

    /// A 6 MB import pushed live to a connected peer arrives whole, and nobody is penalised.
    @Test func aLargeImportReachesAConnectedPeer() async throws {
        let pki = try TestPKI()
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        let us = try InProcessNode("US", "us-1", pki: pki, group: group)
        try await eu.start()
        try await us.start()
        let changes = eu.node.peers.sessionChanges()
        us.dial(eu)
        try await within(20, "connected") { for await _ in changes where eu.node.peers.connectedPeers == [us.identity.id] { return } }
        let note = String(repeating: "n", count: 1_500)
        _ = try await eu.engine.appendAll(
            (0..<4_000).map { step in
                .reportReserve(
                    ReserveReport(
                        participant: "EU", mineral: try! MineralID("gallium"), site: "s\(step)",
                        quantity: Quantity(amount: try! Amount("\(step)"), unit: .tonne), asOfMillis: 1, note: note))
            })
        let target = eu.engine.vector
        try await within(30, "the import arrives") { await us.engine.waitUntilHolding(target) }
        #expect(eu.node.peers.health(of: us.identity.id)?.offences == 0 && us.node.peers.health(of: eu.identity.id)?.offences == 0)
        for node in [eu, us] { await node.node.shutdown() }
    }
}
