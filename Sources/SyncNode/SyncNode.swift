import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OpenSSLCrypto
import OpenSSLTLS
import Registry
import SyncProtocol

/// The node's network shell: a TLS listener for partners that dial in, a dialer per configured
/// peer (reconnecting with exponential back-off and jitter), and a `PeerSessionHandler` on each
/// verified connection, all feeding one `SyncEngine`.
public final class SyncNode: Sendable {
    public struct Configuration: Sendable {
        public var listenHost: String
        public var listenPort: Int
        public var peers: [(host: String, port: Int)]
        public var antiEntropyInterval: TimeAmount = .seconds(10)
        public var idleTimeout: TimeAmount = .seconds(60)
        public var maximumFrameSize = SyncFrameDecoder.defaultMaximumFrameSize
        public var batchSize = 500
        public var maximumPendingBytes = 8 << 20
        public var reconnectDelay: (initial: TimeAmount, maximum: TimeAmount) = (.milliseconds(200), .seconds(30))

        public init(listenHost: String, listenPort: Int, peers: [(host: String, port: Int)]) {
            self.listenHost = listenHost
            self.listenPort = listenPort
            self.peers = peers
        }
    }

    public let engine: SyncEngine
    public let peers: PeerManager
    public let configuration: Configuration
    private let group: any EventLoopGroup
    private let serverTLS: TLSContextProvider
    private let clientTLS: TLSContextProvider
    private let logger: Logger
    private let state = NIOLockedValueBox(RunState())

    private struct RunState {
        var listener: (any Channel)?
        var stopping = false
        var dialers: [(any Channel)?] = []
    }

    public init(engine: SyncEngine, configuration: Configuration, serverTLS: TLSContextProvider, clientTLS: TLSContextProvider,
                group: any EventLoopGroup, logger: Logger) {
        self.engine = engine
        self.configuration = configuration
        self.serverTLS = serverTLS
        self.clientTLS = clientTLS
        self.group = group
        self.logger = logger
        peers = PeerManager(local: engine.node)
    }

    /// The port the listener is bound to (useful when configured with port 0).
    public var boundPort: Int? { state.withLockedValue { $0.listener?.localAddress?.port } }

    public func start() async throws {
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.configurePipeline(channel, direction: .accepted) }
            }
            .bind(host: configuration.listenHost, port: configuration.listenPort).get()
        state.withLockedValue { $0.listener = listener }
        logger.info("listening", metadata: ["address": "\(listener.localAddress.map { "\($0)" } ?? "?")"])
        for (index, peer) in configuration.peers.enumerated() {
            state.withLockedValue { $0.dialers.append(nil) }
            dial(index, host: peer.host, port: peer.port, delay: configuration.reconnectDelay.initial, first: true)
        }
    }

    /// Starts dialling one more peer (config reload, tests).
    public func addPeer(host: String, port: Int) {
        let index = state.withLockedValue { state -> Int in
            state.dialers.append(nil)
            return state.dialers.count - 1
        }
        dial(index, host: host, port: port, delay: configuration.reconnectDelay.initial, first: true)
    }

    /// Says goodbye to every peer, stops dialling and listening.
    public func shutdown() async {
        let (listener, channels) = state.withLockedValue { state -> ((any Channel)?, [any Channel]) in
            state.stopping = true
            return (state.listener, state.dialers.compactMap { $0 })
        }
        try? await listener?.close()
        let goodbye = try? SyncMessageCodec.encode(.goodbye(.shuttingDown, detail: "node shutting down"))
        var seen = Set<ObjectIdentifier>()
        for channel in peers.allChannels() + channels where seen.insert(ObjectIdentifier(channel)).inserted {
            if let goodbye { _ = try? await channel.writeAndFlush(ByteBuffer(bytes: goodbye)) }
            try? await channel.close()
        }
    }

    private func configurePipeline(_ channel: any Channel, direction: SessionTieBreak.Direction) throws {
        let tls = direction == .accepted ? serverTLS.current : clientTLS.current
        let settings = PeerSessionHandler.Settings(
            antiEntropyInterval: configuration.antiEntropyInterval, idleTimeout: configuration.idleTimeout,
            batchSize: configuration.batchSize, maximumPendingBytes: configuration.maximumPendingBytes, maximumIngestsInFlight: 4)
        try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls))
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SyncFrameDecoder(maximumFrameSize: configuration.maximumFrameSize)))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(SyncFrameEncoder()))
        try channel.pipeline.syncOperations.addHandler(PeerSessionHandler(
            engine: engine, manager: peers, direction: direction, settings: settings, logger: logger))
    }

    /// Connects to a configured peer; when the connection fails or ends, tries again after an
    /// exponentially growing delay with ±25% jitter (so restarted partners do not all dial at once).
    private func dial(_ index: Int, host: String, port: Int, delay: TimeAmount, first: Bool) {
        let loop = group.next()
        let attempt: @Sendable () -> Void = { [self] in
            guard !state.withLockedValue({ $0.stopping }) else { return }
            ClientBootstrap(group: loop)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try self.configurePipeline(channel, direction: .dialled) }
                }
                .connect(host: host, port: port)
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        self.state.withLockedValue { $0.dialers[index] = channel }
                        channel.closeFuture.whenComplete { _ in
                            self.state.withLockedValue { if $0.dialers[index] === channel { $0.dialers[index] = nil } }
                            self.dial(index, host: host, port: port, delay: self.configuration.reconnectDelay.initial, first: false)
                        }
                    case .failure(let error):
                        self.logger.debug("dial failed", metadata: ["peer": "\(host):\(port)", "reason": "\(error)"])
                        let next = min(delay * 2, self.configuration.reconnectDelay.maximum)
                        self.dial(index, host: host, port: port, delay: next, first: false)
                    }
                }
        }
        if first {
            attempt()
        } else {
            let jitter = Double.random(in: 0.75...1.25)
            loop.scheduleTask(in: .nanoseconds(Int64(Double(delay.nanoseconds) * jitter))) { attempt() }
        }
    }
}
