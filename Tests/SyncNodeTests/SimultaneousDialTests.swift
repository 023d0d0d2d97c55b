import Foundation
import NIOCore
import NIOPosix
import NodeTestSupport
import TestSupport
import Testing

@testable import SyncNode

/// Two nodes that dial each other at the same moment end with exactly one session, and both
/// keep the same TCP connection (the one dialled by the smaller node id).
@Suite(.serialized) struct SimultaneousDialTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let pki: TestPKI

    init() throws { pki = try TestPKI() }

    @Test(arguments: 0..<3)
    func exactlyOneSessionSurvivesAndBothSidesKeepTheSameConnection(round: Int) async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        let jp = try InProcessNode("JP", "jp-1", pki: pki, group: group)
        try await eu.start()
        try await jp.start()
        eu.dial(jp)
        jp.dial(eu)

        /// The connection each side keeps, as (local, remote) port pairs seen from EU.
        @Sendable func kept() -> (eu: [(Int, Int)], jp: [(Int, Int)]) {
            let fromEU = eu.node.peers.channels(for: nil).compactMap { _, channel in
                channel.localAddress?.port.flatMap { local in channel.remoteAddress?.port.map { (local, $0) } }
            }
            let fromJP = jp.node.peers.channels(for: nil).compactMap { _, channel in
                channel.remoteAddress?.port.flatMap { remote in channel.localAddress?.port.map { (remote, $0) } }
            }
            return (fromEU, fromJP)
        }
        // EU < JP: the connection EU dialled wins on both sides, so at EU its remote port is
        // JP's listener. (Until both handshakes are done, either side may briefly hold the other
        // connection alone: only this end state is stable.)
        @Sendable func settled() -> Bool {
            let (a, b) = kept()
            return a.count == 1 && b.count == 1 && a[0] == b[0] && a[0].1 == jp.port
        }
        try await within(20, "one shared session, dialled by EU") {
            await withTaskGroup(of: Void.self) { tasks in
                for node in [eu, jp] {
                    tasks.addTask { for await _ in node.node.peers.sessionChanges() where settled() { return } }
                }
                await tasks.next()
                tasks.cancelAll()
            }
        }
        // It stays that way, and it works: an entry crosses it.
        _ = try await eu.engine.append(Ops.report("EU"))
        let target = eu.engine.vector
        try await within(20, "the entry over the surviving session") { await jp.engine.waitUntilHolding(target) }
        #expect(settled(), "EU keeps \(kept().eu), JP keeps \(kept().jp)")
        for node in [eu, jp] { await node.node.shutdown() }
    }
}
