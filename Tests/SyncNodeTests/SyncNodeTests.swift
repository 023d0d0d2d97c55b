import Foundation
import NIOCore
import NIOPosix
import OpenSSLCrypto
import OpenSSLTLS
import Registry
import SyncNode
import TestSupport
import Testing

/// Nodes in one process, each with its own store, talking real TLS over loopback.
@Suite(.serialized) struct SyncNodeTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let pki: TestPKI

    init() throws { pki = try TestPKI() }

    @Test func meshOfThreeConvergesAndDigestsMatch() async throws {
        let eu = try TestNodeProcess("EU", "eu-1", pki: pki, group: group)
        let us = try TestNodeProcess("US", "us-1", pki: pki, group: group)
        let jp = try TestNodeProcess("JP", "jp-1", pki: pki, group: group)
        let nodes = [eu, us, jp]
        for node in nodes { try await node.start() }
        eu.dial(us); eu.dial(jp); us.dial(jp); jp.dial(eu)  // including a simultaneous dial EU<->JP
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
        let eu = try TestNodeProcess("EU", "eu-1", pki: pki, group: group)
        let us = try TestNodeProcess("US", "us-1", pki: pki, group: group)
        let jp = try TestNodeProcess("JP", "jp-1", pki: pki, group: group)
        for node in [eu, us, jp] { try await node.start() }
        eu.dial(us); jp.dial(us)  // EU and JP are never configured with each other
        for step in 0..<25 { _ = try await eu.engine.append(Ops.report("EU", "graphite", "\(step)")) }
        let target = eu.engine.vector
        try await within(20, "relay to JP") { await jp.engine.waitUntilHolding(target) }
        #expect(await jp.engine.views.digest == eu.engine.views.digest)
        #expect(eu.node.peers.connectedPeers == [us.identity.id])
        for node in [eu, us, jp] { await node.node.shutdown() }
    }

    @Test func aNodeThatWasDownCatchesUpWhenItReturns() async throws {
        let eu = try TestNodeProcess("EU", "eu-1", pki: pki, group: group)
        let us = try TestNodeProcess("US", "us-1", pki: pki, group: group)
        try await eu.start(); try await us.start()
        eu.dial(us)
        for step in 0..<300 { _ = try await eu.engine.append(Ops.report("EU", "tungsten", "\(step)")) }
        for step in 0..<300 { _ = try await us.engine.append(Ops.report("US", "tungsten", "\(step)")) }
        var target = eu.engine.vector
        target.merge(us.engine.vector)
        let jp = try TestNodeProcess("JP", "jp-1", pki: pki, group: group)
        try await jp.start()
        jp.dial(eu)
        let union = target
        try await within(30, "catch-up") { await jp.engine.waitUntilHolding(union) }
        #expect(await jp.engine.views.digest == eu.engine.views.digest)
        for node in [eu, us, jp] { await node.node.shutdown() }
    }

    @Test func writesWaitForAPeerToConfirmTheFeedHead() async throws {
        let eu = try TestNodeProcess("EU", "eu-1", pki: pki, group: group, requiresPeerConfirmation: true)
        let us = try TestNodeProcess("US", "us-1", pki: pki, group: group)
        try await eu.start(); try await us.start()
        await #expect(throws: SyncEngine.EngineError.self) { try await eu.engine.append(Ops.report("EU")) }
        eu.dial(us)
        // Once the hello exchange happened, writes go through.
        let entry = try await within(20, "peer confirmation") {
            while true {
                if let entry = try? await eu.engine.append(Ops.report("EU")) { return entry }
                await Task.yield()
            }
        }
        #expect(entry.seq == 1)
        for node in [eu, us] { await node.node.shutdown() }
    }
}

extension SyncNodeTests {
    /// A verified peer that sends garbage or an oversized frame is closed with its reason in its
    /// health record, and the node goes on serving others.
    @Test func badPeersAreClosedWithAReasonAndServingContinues() async throws {
        let eu = try TestNodeProcess("EU", "eu-1", pki: pki, group: group)
        try await eu.start()
        let rogue = try pki.node("US", "us-9")
        let trust = try pki.trustStore()
        let tls = try TLSContext(configuration: .makeClientConfiguration(certificateChain: [rogue.certificate], privateKey: rogue.key, trustStore: trust))
        for (label, payload): (String, [UInt8]) in [("does not decode", [0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFF]), ("exceeds", [0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3])] {
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
        // Still serving: a good peer syncs.
        let us = try TestNodeProcess("US", "us-1", pki: pki, group: group)
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
    init(payload: [UInt8], sent: EventLoopPromise<Void>) { self.payload = payload; self.sent = sent }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is PeerIdentityEvent {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: payload)), promise: sent)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
