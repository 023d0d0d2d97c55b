import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOTLS
import OpenSSLTLS

/// Loopback workloads run identically with and without the TLS handler, so that their ratio
/// isolates what TLS costs.
enum LoopbackTransfer {
    /// Counts received bytes and completes when `expected` have arrived.
    final class Sink: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let expected: Int
        let done: EventLoopPromise<Void>
        var received = 0
        init(expected: Int, done: EventLoopPromise<Void>) {
            self.expected = expected
            self.done = done
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytes
            if received >= expected { done.succeed() }
        }
    }

    /// Writes `total` bytes in 64 KiB buffers as fast as the channel's writability allows.
    final class Source: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let total: Int
        let waitsForTLS: Bool
        var sent = 0
        var started = false
        let chunk: ByteBuffer
        init(total: Int, waitsForTLS: Bool) {
            self.total = total
            self.waitsForTLS = waitsForTLS
            chunk = ByteBuffer(repeating: 0x5A, count: 64 * 1024)
        }
        func channelActive(context: ChannelHandlerContext) {
            if !waitsForTLS {
                started = true
                pump(context)
            }
            context.fireChannelActive()
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent {
                started = true
                pump(context)
            }
            context.fireUserInboundEventTriggered(event)
        }
        func channelWritabilityChanged(context: ChannelHandlerContext) {
            pump(context)
            context.fireChannelWritabilityChanged()
        }
        private func pump(_ context: ChannelHandlerContext) {
            guard started else { return }
            while sent < total && context.channel.isWritable {
                context.write(wrapOutboundOut(chunk), promise: nil)
                sent += chunk.readableBytes
            }
            context.flush()
        }
    }

    /// Seconds to move `bytes` from a client to a server. The sender and the receiver run on
    /// two different event loops (as two nodes would, each with its own core), every time: left
    /// to round-robin, they sometimes share one thread and the figure swings with the placement.
    static func bulk(group: MultiThreadedEventLoopGroup, bytes: Int, tls: BenchmarkPKI?) throws -> Double {
        let loops = Array(group.makeIterator())
        let (senderLoop, receiverLoop) = (loops[0], loops[loops.count > 1 ? 1 : 0])
        let done = receiverLoop.makePromise(of: Void.self)
        let server = try ServerBootstrap(group: receiverLoop, childGroup: receiverLoop)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls.server)) }
                    try channel.pipeline.syncOperations.addHandler(Sink(expected: bytes, done: done))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let client = try ClientBootstrap(group: senderLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls.client)) }
                    try channel.pipeline.syncOperations.addHandler(Source(total: bytes, waitsForTLS: tls != nil))
                }
            }
            .connect(to: server.localAddress!).wait()
        defer { try? client.close().wait() }
        try done.futureResult.wait()
        return 0
    }

    /// Sends 256 bytes, waits for them to come back, and measures each round trip.
    final class PingPong: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let count: Int
        let waitsForTLS: Bool
        let done: EventLoopPromise<[Double]>
        var samples: [Double] = []
        var pending = 0
        var sentAt: UInt64 = 0
        let message = ByteBuffer(repeating: 0x42, count: 256)
        init(count: Int, waitsForTLS: Bool, done: EventLoopPromise<[Double]>) {
            self.count = count
            self.waitsForTLS = waitsForTLS
            self.done = done
        }
        func channelActive(context: ChannelHandlerContext) {
            if !waitsForTLS { ping(context) }
            context.fireChannelActive()
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent { ping(context) }
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending -= unwrapInboundIn(data).readableBytes
            guard pending <= 0 else { return }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - sentAt) / 1000)
            if samples.count == count { done.succeed(samples) } else { ping(context) }
        }
        private func ping(_ context: ChannelHandlerContext) {
            pending = message.readableBytes
            sentAt = DispatchTime.now().uptimeNanoseconds
            context.writeAndFlush(wrapOutboundOut(message), promise: nil)
        }
    }

    final class Echo: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(data, promise: nil)
        }
    }

    static func roundTrips(group: MultiThreadedEventLoopGroup, count: Int, tls: BenchmarkPKI?) throws -> (p50: Double, p99: Double) {
        let done = group.next().makePromise(of: [Double].self)
        let server = try ServerBootstrap(group: group)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls.server)) }
                    try channel.pipeline.syncOperations.addHandler(Echo())
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let client = try ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls.client)) }
                    try channel.pipeline.syncOperations.addHandler(PingPong(count: count, waitsForTLS: tls != nil, done: done))
                }
            }
            .connect(to: server.localAddress!).wait()
        defer { try? client.close().wait() }
        let samples = try done.futureResult.wait().sorted()
        return (samples[samples.count / 2], samples[samples.count * 99 / 100])
    }
}
