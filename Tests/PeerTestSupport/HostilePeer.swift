import Foundation
import NIOCore
import NIOPosix
import OpenSSLCrypto
import OpenSSLTLS
import Registry
import SyncProtocol
import TestSupport

/// A partner node as an attacker (or a buggy implementation) runs it: a real TLS 1.3 client with
/// a valid certificate of a real participant, speaking our sync protocol message by message
/// (or raw bytes), and reading what the node under test sends back. It follows no rule of the
/// protocol unless the test makes it: it may never answer a ping, claim any vector, or say
/// hello and then fall silent.
public final class HostilePeer: Sendable {
    public let identity: TestNode
    private let channel: any Channel
    private let inbound: Inbound

    /// Connects to `port` on loopback and completes the TLS handshake (the node verifies our
    /// certificate; we verify its against `trust`).
    public init(
        identity: TestNode, trust: TrustStore, port: Int, host: String = "127.0.0.1",
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, maximumFrameSize: Int = 16 << 20
    ) async throws {
        self.identity = identity
        let tls = try TLSContext(configuration: .makeClientConfiguration(certificateChain: [identity.certificate], privateKey: identity.key, trustStore: trust))
        let verified = group.next().makePromise(of: VerifiedPeer.self)
        let inbound = Inbound()
        self.inbound = inbound
        let connecting = ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls))
                    try channel.pipeline.syncOperations.addHandler(IdentityWatcher(verified: verified))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SyncFrameDecoder(maximumFrameSize: maximumFrameSize)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(SyncFrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(inbound.collector)
                }
            }
            .connect(host: host, port: port)
        connecting.whenFailure { verified.fail($0) }  // a promise is always completed
        channel = try await connecting.get()
        _ = try await verified.futureResult.get()
    }

    /// Sends one message, framed as the protocol frames it.
    public func send(_ message: SyncMessage) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: try SyncMessageCodec.encode(message)))
    }

    /// A hello as `identity`, claiming `vector` (and `headIDs`).
    public func hello(
        _ vector: VersionVector = VersionVector(), headIDs: [NodeID: EntryID] = [:], as node: NodeID? = nil,
        features: Set<String> = SyncFeature.all
    ) async throws {
        try await send(.hello(SyncHello(node: node ?? identity.id, vector: vector, headIDs: headIDs, features: features)))
    }

    /// Bytes as they are, below the framing (a length prefix is not added).
    public func sendRaw(_ bytes: [UInt8]) async throws {
        try await channel.pipeline.context(handlerType: MessageToByteHandler<SyncFrameEncoder>.self).flatMap { context in
            context.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)))
        }.get()
    }

    /// The next message the node sends, skipping those `skip` matches; nil once it closed.
    public func next(skipping skip: (SyncMessage) -> Bool = { _ in false }) async throws -> SyncMessage? {
        while let frame = try await inbound.next() {
            let message = try SyncMessageCodec.decode(frame.readableBytesView)
            if !skip(message) { return message }
        }
        return nil
    }

    /// Reads until the node closes the connection; returns its goodbye, if it said one.
    public func untilClosed() async throws -> SyncMessage? {
        var goodbye: SyncMessage?
        while let frame = try await inbound.next() {
            if case .goodbye = try? SyncMessageCodec.decode(frame.readableBytesView) { goodbye = try SyncMessageCodec.decode(frame.readableBytesView) }
        }
        return goodbye
    }

    public var isActive: Bool { channel.isActive }

    public func close() async {
        try? await channel.close()
    }
}

/// The inbound frames, as a stream the test reads one at a time; it ends when the node closes.
/// Unchecked: a test reads its peer's frames sequentially, never from two tasks at once.
private final class Inbound: @unchecked Sendable {
    let collector: Collector
    private var iterator: AsyncStream<ByteBuffer>.AsyncIterator

    init() {
        let (frames, continuation) = AsyncStream<ByteBuffer>.makeStream()
        collector = Collector(continuation)
        iterator = frames.makeAsyncIterator()
    }

    /// nil once the node closed the connection.
    func next() async throws -> ByteBuffer? { await iterator.next() }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<ByteBuffer>.Continuation
        init(_ continuation: AsyncStream<ByteBuffer>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { continuation.yield(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) {
            continuation.finish()
            context.fireChannelInactive()
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}

/// Resolves once the handshake verified the node's identity (or fails with the TLS error).
private final class IdentityWatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let verified: EventLoopPromise<VerifiedPeer>
    init(verified: EventLoopPromise<VerifiedPeer>) { self.verified = verified }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let identity = event as? PeerIdentityEvent { verified.succeed(identity.peer) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        verified.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        verified.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }
}
