import NIOCore
import NIOEmbedded
import NIOTLS
import OpenSSLCrypto
@_spi(Testing) import OpenSSLTLS
import TestSupport
import Testing

/// Client and server pumped against each other in memory: no sockets, no sleeps.
@Suite struct EmbeddedTLSTests {
    let fixture: TLSFixture
    let eu: TestNode
    let jp: TestNode

    init() throws {
        fixture = try TLSFixture()
        eu = try fixture.pki.node("EU", "brussels-1")
        jp = try fixture.pki.node("JP", "tokyo-1")
    }

    final class Pair {
        let client = EmbeddedChannel()
        let server = EmbeddedChannel()
        let clientRecorder: Recorder
        let serverRecorder: Recorder

        init(client clientContext: TLSContext, server serverContext: TLSContext, serverMode: Recorder.Mode = .record, clientGreeting: String? = nil) throws {
            clientRecorder = Recorder(greeting: clientGreeting)
            serverRecorder = Recorder(mode: serverMode)
            try client.pipeline.syncOperations.addHandlers(OpenSSLHandler(context: clientContext), clientRecorder)
            try server.pipeline.syncOperations.addHandlers(OpenSSLHandler(context: serverContext), serverRecorder)
            try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        /// Moves bytes both ways until neither side has anything left to send. With a generator,
        /// every buffer is cut into random pieces first (1 byte to 40 KiB), so that records and
        /// handshake messages arrive split at every possible place.
        func pump(fragmenting random: UnsafeMutablePointer<SplitMix64>? = nil) throws {
            func deliver(_ bytes: ByteBuffer, to channel: EmbeddedChannel) throws {
                guard channel.isActive else { return }
                guard let random else {
                    try channel.writeInbound(bytes)
                    return
                }
                var rest = bytes
                while rest.readableBytes > 0 {
                    let size = min(rest.readableBytes, Int.random(in: 1...(40 * 1024), using: &random.pointee))
                    try channel.writeInbound(rest.readSlice(length: size)!)
                }
            }
            var moved = true
            while moved {
                moved = false
                while let bytes = try client.readOutbound(as: ByteBuffer.self) {
                    moved = true
                    try deliver(bytes, to: server)
                }
                while let bytes = try server.readOutbound(as: ByteBuffer.self) {
                    moved = true
                    try deliver(bytes, to: client)
                }
            }
        }
    }

    @Test func handshakeEchoesOneMebibyteInOddWritesAndClosesCleanlyFromTheClient() throws {
        let pair = try Pair(client: try fixture.context(.client, eu), server: try fixture.context(.server, jp), serverMode: .echo)
        try pair.pump()
        #expect(pair.clientRecorder.identity?.peer.identity.node == "tokyo-1")
        #expect(pair.serverRecorder.identity?.peer.identity.participant == "EU")
        #expect(pair.clientRecorder.identity?.applicationProtocol == "mineral-sync/1")
        #expect(pair.clientRecorder.identity?.version == "TLSv1.3")
        #expect(pair.clientRecorder.events.contains(.handshakeCompleted(negotiatedProtocol: "mineral-sync/1")))

        var sent: [UInt8] = []
        let sizes = [1, 7, 4093, 16385, 3, 65521, 129, 31337]
        var index = 0
        var seed: UInt8 = 0
        while sent.count < 1 << 20 {
            let size = min(sizes[index % sizes.count], (1 << 20) - sent.count)
            let chunk = (0..<size).map { _ -> UInt8 in
                seed &+= 31
                return seed
            }
            sent += chunk
            pair.client.write(ByteBuffer(bytes: chunk), promise: nil)
            if index % 3 == 0 { pair.client.flush() }
            index += 1
            try pair.pump()
        }
        pair.client.flush()
        try pair.pump()
        #expect(pair.serverRecorder.received.count == sent.count)
        #expect(pair.clientRecorder.received == sent)

        let closed = pair.client.close()
        try pair.pump()
        try closed.wait()
        #expect(!pair.server.isActive)
        #expect(pair.serverRecorder.events.contains(.shutdownCompleted))
        #expect(pair.serverRecorder.errors.isEmpty)
        #expect(pair.clientRecorder.errors.isEmpty)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func recordsSplitAtRandomPlacesArriveWhole(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let pair = try Pair(client: try fixture.context(.client, eu), server: try fixture.context(.server, jp), serverMode: .echo)
        try withUnsafeMutablePointer(to: &random) { random in
            try pair.pump(fragmenting: random)
            #expect(pair.serverRecorder.identity?.peer.identity.participant == "EU")
            var sent: [UInt8] = []
            while sent.count < 300_000 {
                let chunk = (0..<Int.random(in: 1...70_000, using: &random.pointee)).map { _ in UInt8.random(in: 0...255, using: &random.pointee) }
                sent += chunk
                pair.client.writeAndFlush(ByteBuffer(bytes: chunk), promise: nil)
                try pair.pump(fragmenting: random)
            }
            #expect(pair.serverRecorder.received == sent)
            #expect(pair.clientRecorder.received == sent)
            let closed = pair.client.close()
            try pair.pump(fragmenting: random)
            try closed.wait()
        }
        #expect(pair.serverRecorder.events.contains(.shutdownCompleted))
        #expect(pair.serverRecorder.errors.isEmpty)
        #expect(pair.clientRecorder.errors.isEmpty)
    }

    @Test func serverInitiatedCloseIsCleanToo() throws {
        let pair = try Pair(client: try fixture.context(.client, eu), server: try fixture.context(.server, jp))
        try pair.pump()
        pair.server.writeAndFlush(ByteBuffer(string: "bye"), promise: nil)
        let closed = pair.server.close()
        try pair.pump()
        try closed.wait()
        #expect(pair.clientRecorder.received == Array("bye".utf8))
        #expect(!pair.client.isActive)
        #expect(pair.clientRecorder.events.contains(.shutdownCompleted))
        #expect(pair.clientRecorder.errors.isEmpty && pair.serverRecorder.errors.isEmpty)
    }

    @Test func writesBeforeTheHandshakeWaitForTheVerifiedPeer() throws {
        let pair = try Pair(client: try fixture.context(.client, eu), server: try fixture.context(.server, jp), clientGreeting: "early")
        try pair.pump()
        #expect(pair.serverRecorder.received == Array("early".utf8))
    }

    @Test func transportClosedWithoutCloseNotifyIsReportedAsUnclean() throws {
        let pair = try Pair(client: try fixture.context(.client, eu), server: try fixture.context(.server, jp))
        try pair.pump()
        pair.server.pipeline.fireChannelInactive()
        #expect(pair.serverRecorder.tlsErrors == [.uncleanShutdown])
    }

    @Test func handshakeTimeOutClosesTheConnection() throws {
        let server = EmbeddedChannel()
        let recorder = Recorder()
        try server.pipeline.syncOperations.addHandlers(
            OpenSSLHandler(context: try fixture.context(.server, jp, timeout: .milliseconds(500))), recorder)
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        server.embeddedEventLoop.advanceTime(by: .milliseconds(499))
        #expect(server.isActive)
        server.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!server.isActive)
        #expect(recorder.tlsErrors == [.handshakeTimedOut(.milliseconds(500))])
    }

    @Test func peerCheckCanRefuseAVerifiedPeer() throws {
        let client = EmbeddedChannel()
        let server = EmbeddedChannel()
        let clientRecorder = Recorder()
        let serverRecorder = Recorder()
        try client.pipeline.syncOperations.addHandlers(
            OpenSSLHandler(context: try fixture.context(.client, eu)) { peer in
                peer.identity.node == "osaka-1" ? nil : "dialled JP/osaka-1 but reached \(peer.identity.participant)/\(peer.identity.node)"
            }, clientRecorder)
        try server.pipeline.syncOperations.addHandlers(OpenSSLHandler(context: try fixture.context(.server, jp)), serverRecorder)
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var moved = true
        while moved {
            moved = false
            while let bytes = try client.readOutbound(as: ByteBuffer.self) {
                moved = true
                if server.isActive { try server.writeInbound(bytes) }
            }
            while let bytes = try server.readOutbound(as: ByteBuffer.self) {
                moved = true
                if client.isActive { try client.writeInbound(bytes) }
            }
        }
        #expect(clientRecorder.tlsErrors == [.peerRefused("dialled JP/osaka-1 but reached JP/tokyo-1")])
        #expect(clientRecorder.identity == nil)
        #expect(!client.isActive)
    }
}

extension EmbeddedTLSTests {
    /// A close requested after the transport is gone must still complete its promise.
    @Test func closeAfterThePeerHungUpCompletes() throws {
        let pair = try Pair(client: try fixture.context(.client, eu), server: try fixture.context(.server, jp))
        try pair.pump()
        let first = pair.client.close()
        try pair.pump()
        try first.wait()
        #expect(!pair.server.isActive)
        let late = pair.server.close()
        #expect(throws: ChannelError.self) { try late.wait() }  // alreadyClosed, but completed
    }
}
