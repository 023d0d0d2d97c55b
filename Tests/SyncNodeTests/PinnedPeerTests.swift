import Foundation
import NIOPosix
import NodeTestSupport
import Registry
import SyncNode
import TestSupport
import Testing

/// `peers[].node`: a dialled address must turn out to be the node the operator meant.
@Suite(.serialized) struct PinnedPeerTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let pki: TestPKI

    init() throws { pki = try TestPKI() }

    @Test func aDialledAddressThatIsAnotherNodeIsRefusedAndTheRightOneConnects() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        let jp = try InProcessNode("JP", "jp-1", pki: pki, group: group)
        try await eu.start()
        try await jp.start()
        let address = SyncNode.address(host: "127.0.0.1", port: jp.port)
        let changes = eu.node.peers.sessionChanges()
        let jpChanges = jp.node.peers.sessionChanges()
        eu.node.addPeer(host: "127.0.0.1", port: jp.port, node: try NodeID("JP/jp-2"))
        let expected = "\(address) is configured as JP/jp-2, but its certificate names JP/jp-1"
        try await within(20, "the pinned dial is refused") {
            for await _ in changes where eu.node.peers.refusals.contains(where: { $0.reason.contains(expected) }) { return }
        }
        #expect(eu.node.peers.connectedPeers.isEmpty)
        #expect(eu.node.peers.health(of: jp.identity.id) == nil, "EU never opened a session with the node it did not mean")
        // Refused inside the handshake: JP's handshake fails on EU's alert, and JP never opens a
        // session with EU either.
        try await within(20, "JP's handshake fails") {
            for await _ in jpChanges where !jp.node.peers.refusals.isEmpty { return }
        }
        #expect(jp.node.peers.health(of: eu.identity.id) == nil, "\(jp.node.peers.refusals.map(\.reason))")
        // Pinned to the node it is, the same address connects (the new pin replaces the dialer).
        eu.node.addPeer(host: "127.0.0.1", port: jp.port, node: try NodeID("JP/jp-1"))
        try await within(20, "the right node connects") {
            for await _ in changes where eu.node.peers.connectedPeers == [jp.identity.id] { return }
        }
        for node in [eu, jp] { await node.node.shutdown() }
    }
}
