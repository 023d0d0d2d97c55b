import Foundation
import NIOCore
import NIOEmbedded
import NIOPosix
import NIOTLS
import OpenSSLCrypto
@_spi(Testing) import OpenSSLTLS
import TestSupport

/// What the application above a TLS handler saw: who the peer is, the bytes, the errors, events.
final class Recorder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Mode {
        case record, echo
        case reply(String)
        case closeAfter(String)
    }

    private let lock = NSLock()
    private var _identity: PeerIdentityEvent?
    private var _received: [UInt8] = []
    private var _errors: [any Error] = []
    private var _events: [TLSUserEvent] = []
    let mode: Mode
    /// Bytes to send as soon as the session is up (to prove a refused peer never gets them).
    let greeting: String?

    init(mode: Mode = .record, greeting: String? = nil) {
        self.mode = mode
        self.greeting = greeting
    }

    var identity: PeerIdentityEvent? { lock.withLock { _identity } }
    var received: [UInt8] { lock.withLock { _received } }
    var errors: [any Error] { lock.withLock { _errors } }
    var tlsErrors: [TLSError] { errors.compactMap { $0 as? TLSError } }
    var events: [TLSUserEvent] { lock.withLock { _events } }

    func channelActive(context: ChannelHandlerContext) {
        // Written before the handshake finishes: the TLS handler must hold it until the peer is verified.
        if let greeting { context.writeAndFlush(NIOAny(ByteBuffer(string: greeting)), promise: nil) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        lock.withLock {
            if let identity = event as? PeerIdentityEvent { _identity = identity }
            if let event = event as? TLSUserEvent { _events.append(event) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        lock.withLock { _received.append(contentsOf: buffer.readableBytesView) }
        switch mode {
        case .record: break
        case .echo: context.writeAndFlush(NIOAny(buffer), promise: nil)
        case .closeAfter(let text):
            if String(decoding: received, as: UTF8.self).contains(text) { context.close(promise: nil) }
        case .reply(let text):
            context.writeAndFlush(NIOAny(ByteBuffer(string: text)), promise: nil)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        lock.withLock { _errors.append(error) }
    }
}

/// A PKI plus TLS contexts for test nodes.
struct TLSFixture {
    let pki: TestPKI
    let trust: TrustStore

    init(revoked: [String: [UInt64]] = [:], pki: TestPKI? = nil) throws {
        self.pki = try pki ?? TestPKI()
        trust = try self.pki.trustStore(revoked: revoked)
    }

    func configuration(
        _ role: TLSConfiguration.Role, _ node: TestNode, trust: TrustStore? = nil,
        timeout: TimeAmount = .seconds(10)
    ) -> TLSConfiguration {
        var configuration = TLSConfiguration(
            role: role, certificateChain: [node.certificate], privateKey: node.key,
            trustStore: trust ?? self.trust, handshakeTimeout: timeout)
        configuration.versions = 0x0304...0x0304
        return configuration
    }

    func context(
        _ role: TLSConfiguration.Role, _ node: TestNode, trust: TrustStore? = nil, timeout: TimeAmount = .seconds(10),
        adjust: (inout TLSConfiguration) -> Void = { _ in }
    ) throws -> TLSContext {
        var configuration = configuration(role, node, trust: trust, timeout: timeout)
        adjust(&configuration)
        return try TLSContext(configuration: configuration)
    }
}

/// Every connection a test server accepted, with a way to wait for the n-th.
final class AcceptedConnections: @unchecked Sendable {
    private let lock = NSLock()
    private var connections: [(channel: any Channel, recorder: Recorder)] = []
    private var waiters: [(Int, EventLoopPromise<Void>)] = []

    var all: [(channel: any Channel, recorder: Recorder)] { lock.withLock { connections } }

    func register(_ channel: any Channel, _ recorder: Recorder) {
        let ready: [EventLoopPromise<Void>] = lock.withLock {
            connections.append((channel, recorder))
            let count = connections.count
            let due = waiters.filter { $0.0 <= count }.map(\.1)
            waiters.removeAll { $0.0 <= count }
            return due
        }
        ready.forEach { $0.succeed() }
    }

    func wait(for number: Int, on loop: any EventLoop) throws -> (channel: any Channel, recorder: Recorder) {
        let promise = loop.makePromise(of: Void.self)
        let ready = lock.withLock { () -> Bool in
            if connections.count >= number { return true }
            waiters.append((number, promise))
            return false
        }
        if ready { promise.succeed() }
        // A connection that never comes fails the test instead of hanging it.
        let deadline = loop.scheduleTask(in: .seconds(20)) { promise.fail(TimedOut(what: "accepted connection \(number)")) }
        defer { deadline.cancel() }
        try promise.futureResult.wait()
        return all[number - 1]
    }
}

/// A TLS server on a loopback port that records every accepted connection.
final class LoopbackServer: @unchecked Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    let connections = AcceptedConnections()

    var port: Int { channel.localAddress!.port! }

    init(group: MultiThreadedEventLoopGroup, context: TLSContext, mode: Recorder.Mode = .echo, greeting: String? = nil) throws {
        self.group = group
        let connections = connections
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let recorder = Recorder(mode: mode, greeting: greeting)
                connections.register(channel, recorder)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: context))
                    try channel.pipeline.syncOperations.addHandler(recorder)
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    /// The n-th accepted connection (1-based), once it has been accepted and has closed.
    /// A connection the tests expect to be refused but that stays open (a check that no longer
    /// refuses) is closed after a deadline, and the test fails on what crossed, not by hanging.
    func closedConnection(_ number: Int) throws -> (channel: any Channel, recorder: Recorder) {
        let connection = try connections.wait(for: number, on: group.next())
        let channel = connection.channel
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(20)) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        try connection.channel.closeFuture.wait()
        return connection
    }

    func stop() throws { try channel.close().wait() }
}

/// Connects a TLS client, runs until the connection closes, and returns what its application saw.
func runClient(
    group: MultiThreadedEventLoopGroup, port: Int, context: TLSContext, greeting: String?,
    closeAfter expected: String? = nil
) throws -> Recorder {
    let recorder = Recorder(mode: expected.map { .closeAfter($0) } ?? .record, greeting: greeting)
    let channel = try ClientBootstrap(group: group)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: context))
                try channel.pipeline.syncOperations.addHandler(recorder)
            }
        }
        .connect(host: "127.0.0.1", port: port).wait()
    // Closed after a deadline if nobody hangs up (see `closedConnection`).
    let deadline = channel.eventLoop.scheduleTask(in: .seconds(20)) { channel.close(promise: nil) }
    defer { deadline.cancel() }
    try channel.closeFuture.wait()
    return recorder
}

extension TemporaryDirectory {
    /// A node's certificate and key as PEM files, for the openssl and gnutls command-line tools.
    func node(_ node: TestNode, named name: String) throws -> (certificate: String, key: String) {
        (try write("\(name).pem", node.certificate.pemRepresentation), try write("\(name).key", try node.key.pemRepresentation()))
    }
}
