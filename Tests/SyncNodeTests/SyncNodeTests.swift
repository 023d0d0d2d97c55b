import Foundation
import NIOCore
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import OpenSSLTLS
import Registry
import SyncNode
import SyncProtocol
import TestSupport
import Testing

/// Nodes in one process, each with its own store, talking real TLS over loopback.
@Suite(.serialized) struct SyncNodeTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let pki: TestPKI

    init() throws { pki = try TestPKI() }

    @Test func meshOfThreeConvergesAndDigestsMatch() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        let us = try InProcessNode("US", "us-1", pki: pki, group: group)
        let jp = try InProcessNode("JP", "jp-1", pki: pki, group: group)
        let nodes = [eu, us, jp]
        for node in nodes { try await node.start() }
        eu.dial(us)
        eu.dial(jp)
        us.dial(jp)
        jp.dial(eu)  // including a simultaneous dial EU<->JP
        for (index, node) in nodes.enumerated() {
            for step in 0..<10 {
                _ = try await node.engine.append(Ops.report(node.identity.id.participant, "gallium", "\(index * 100 + step)"))
            }
        }
        _ = try await us.engine.append(Ops.raise("gallium", "export licence regime"))
        var target = VersionVector()
        for node in nodes { target.merge(node.engine.vector) }
        let union = target
        for node in nodes { try await within(20, "convergence at \(node.identity.id)") { await node.engine.waitUntilHolding(union) } }
        var digests = Set<String>()
        for node in nodes { digests.insert(await node.engine.views.digest.hex) }
        #expect(digests.count == 1)
        #expect(await jp.engine.views.alerts.count == 1)
        for node in nodes { await node.node.shutdown() }
    }

    @Test func lineTopologyRelaysEntriesToTheFarEnd() async throws {
        // Anti-entropy every 10 s: the counts below are of pushes and catch-up alone (a feed left
        // unconfirmed for two intervals is sent again by design, which a loaded machine can reach
        // at the tests' usual 300 ms).
        let slow: (inout SyncNode.Configuration) -> Void = { $0.antiEntropyInterval = .seconds(10) }
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group, adjust: slow)
        let us = try InProcessNode("US", "us-1", pki: pki, group: group, adjust: slow)
        let jp = try InProcessNode("JP", "jp-1", pki: pki, group: group, adjust: slow)
        for node in [eu, us, jp] { try await node.start() }
        eu.dial(us)
        jp.dial(us)  // EU and JP are never configured with each other
        for step in 0..<25 { _ = try await eu.engine.append(Ops.report("EU", "graphite", "\(step)")) }
        let target = eu.engine.vector
        try await within(20, "relay to JP") { await jp.engine.waitUntilHolding(target) }
        #expect(await jp.engine.views.digest == eu.engine.views.digest)
        #expect(eu.node.peers.connectedPeers == [us.identity.id])
        // The relay passes EU's entries on to JP, never back to EU (nor JP back to US).
        #expect(eu.node.peers.health(of: us.identity.id)?.entriesReceived == 0)
        #expect(us.node.peers.health(of: jp.identity.id)?.entriesReceived == 0)
        #expect(us.node.peers.health(of: jp.identity.id)?.entriesSent == 25)
        for node in [eu, us, jp] { await node.node.shutdown() }
    }

    @Test func aNodeThatWasDownCatchesUpWhenItReturns() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        let us = try InProcessNode("US", "us-1", pki: pki, group: group)
        try await eu.start()
        try await us.start()
        eu.dial(us)
        for step in 0..<300 { _ = try await eu.engine.append(Ops.report("EU", "tungsten", "\(step)")) }
        for step in 0..<300 { _ = try await us.engine.append(Ops.report("US", "tungsten", "\(step)")) }
        var target = eu.engine.vector
        target.merge(us.engine.vector)
        let jp = try InProcessNode("JP", "jp-1", pki: pki, group: group)
        try await jp.start()
        jp.dial(eu)
        let union = target
        try await within(30, "catch-up") { await jp.engine.waitUntilHolding(union) }
        #expect(await jp.engine.views.digest == eu.engine.views.digest)
        for node in [eu, us, jp] { await node.node.shutdown() }
    }

    static func frame(_ message: SyncMessage) throws -> [UInt8] {
        let body = try SyncMessageCodec.encode(message)
        return withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
    }

    @Test func aPeerThatReadsNothingGetsNoMoreThanItsBoundedQueue() async throws {
        let limit = 256 << 10
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group) { $0.maximumPendingBytes = limit }
        try await eu.start()
        // 40,000 entries (about 7 MB on the wire): more than loopback socket buffers hold.
        for round in 0..<40 {
            _ = try await eu.engine.appendAll((0..<1000).map { Ops.report("EU", "gallium", "\(round * 1000 + $0)") })
        }
        // A verified peer that says hello with an empty vector (so it is owed everything) and then
        // never reads a byte.
        let sloth = try pki.node("US", "us-9")
        let tls = try TLSContext(
            configuration: .makeClientConfiguration(certificateChain: [sloth.certificate], privateKey: sloth.key, trustStore: try pki.trustStore()))
        let sent = group.next().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 64 << 10)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls))
                    try channel.pipeline.syncOperations.addHandler(
                        RawSender(payload: try Self.frame(.hello(SyncHello(node: sloth.id, vector: VersionVector()))), sent: sent))
                }
            }
            .connect(host: "127.0.0.1", port: eu.port).get()
        // autoRead off: read just enough for the handshake, then stop reading for good.
        channel.read()
        try await within(10, "the slow peer's hello") { try await sent.futureResult.get() }
        // Keep writing while the peer reads nothing: pushes beyond the queue are dropped, not queued.
        for round in 40..<45 {
            _ = try await eu.engine.appendAll((0..<1000).map { Ops.report("EU", "gallium", "\(round * 1000 + $0)") })
        }
        let health = try #require(eu.node.peers.health(of: sloth.id))
        #expect(health.entriesSent > 0)
        #expect(health.entriesSent < 40_000, "everything fit in socket buffers: the test proves nothing")
        // The queue may exceed the limit by one message: a stream batch (500 entries) or one
        // push (here a local batch of 1,000 entries of under 400 bytes each).
        #expect(health.peakQueuedBytes <= limit + 400_000, "queued \(health.peakQueuedBytes) bytes")

        // The node keeps serving others meanwhile.
        let us = try InProcessNode("US", "us-1", pki: pki, group: group)
        try await us.start()
        us.dial(eu)
        let target = eu.engine.vector
        try await within(60, "a good peer to catch up alongside the slow one") { await us.engine.waitUntilHolding(target) }
        try await channel.close()
        for node in [eu, us] { await node.node.shutdown() }
    }
}

extension SyncNodeTests {
    /// A verified peer that sends garbage or an oversized frame is closed with its reason in its
    /// health record, and the node goes on serving others.
    @Test func badPeersAreClosedWithAReasonAndServingContinues() async throws {
        // No time in the penalty box, so that each case is heard (each is still an offence).
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group) { $0.penaltyPolicy = PenaltyPolicy(base: 0, maximum: 0) }
        try await eu.start()
        let rogue = try pki.node("US", "us-9")
        let trust = try pki.trustStore()
        let tls = try TLSContext(configuration: .makeClientConfiguration(certificateChain: [rogue.certificate], privateKey: rogue.key, trustStore: trust))
        var random = SplitMix64(seed: 7)
        let cases: [(String, [UInt8])] = [
            ("does not decode", [0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFF]),
            ("exceeds", [0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3]),
            ("exceeds", [0x40] + (0..<200).map { _ in UInt8(truncatingIfNeeded: random.next()) }),
            (
                "hello names EU/eu-7 but the TLS certificate names US/us-9",
                try Self.frame(.hello(SyncHello(node: try NodeID("EU/eu-7"), vector: VersionVector())))
            ),
            (
                "impossible version vector: US/us-9 at seq 1099511627777",
                try Self.frame(.hello(SyncHello(node: rogue.id, vector: VersionVector([rogue.id: SyncMessageCodec.maximumSequence + 1]))))
            )
        ]
        for (label, payload) in cases {
            let sent = group.next().makePromise(of: Void.self)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls))
                        try channel.pipeline.syncOperations.addHandler(RawSender(payload: payload, sent: sent))
                    }
                }
                .connect(host: "127.0.0.1", port: eu.port).get()
            try await sent.futureResult.get()
            try await within(10, "the node to close the \(label) peer") { try await channel.closeFuture.get() }
            let health = try #require(eu.node.peers.health(of: rogue.id))
            #expect(health.lastError?.contains(label) == true, "\(label): \(String(describing: health.lastError))")
        }
        #expect(eu.node.peers.health(of: rogue.id)?.offences == cases.count)
        // Still serving: a good peer syncs.
        let us = try InProcessNode("US", "us-1", pki: pki, group: group)
        try await us.start()
        us.dial(eu)
        _ = try await eu.engine.append(Ops.report("EU"))
        let target = eu.engine.vector
        try await within(20, "sync after bad peers") { await us.engine.waitUntilHolding(target) }
        for node in [eu, us] { await node.node.shutdown() }
    }
}

/// Sends raw bytes (not sync frames) as soon as the TLS session is up.
final class RawSender: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let payload: [UInt8]
    let sent: EventLoopPromise<Void>
    init(payload: [UInt8], sent: EventLoopPromise<Void>) {
        self.payload = payload
        self.sent = sent
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is PeerIdentityEvent {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: payload)), promise: sent)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
