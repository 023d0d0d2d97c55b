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
        /// The node a dialled address must be, by `SyncNode.address(host:port:)`.
        public var pinnedPeers: [String: NodeID] = [:]
        public var antiEntropyInterval: TimeAmount = .seconds(10)
        public var idleTimeout: TimeAmount = .seconds(60)
        public var maximumFrameSize = SyncFrameDecoder.defaultMaximumFrameSize
        public var batchSize = 500
        public var maximumPendingBytes = 8 << 20
        public var reconnectDelay: (initial: TimeAmount, maximum: TimeAmount) = (.milliseconds(200), .seconds(30))
        public var penaltyPolicy = PenaltyPolicy()
        /// Entries failing validation (bad signature, broken chain, malformed) one session may
        /// send before it is closed and its peer penalised.
        public var invalidEntriesPerSession = 1_000
        /// A peer (or an origin's entries) whose clock is further from ours is a security event.
        public var maximumClockSkewMillis: Int64 = 60_000
        /// The largest checkpoint state a node that joins from a checkpoint takes from a peer.
        public var maximumCheckpointBytes = 256 << 20

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
    /// The sessions' tasks (`SessionWork`), each until its session's last call into the engine.
    let sessionTasks = SessionTasks()

    private struct RunState {
        var listener: (any Channel)?
        var stopping = false
        /// Configured peers by "host:port". A dialer whose address is removed, or removed and
        /// added again (a new generation), stops at its next attempt: one loop per address.
        var dialers: [String: Dialer] = [:]
        var nextGeneration: UInt64 = 0
        /// The node each address turned out to be, once a handshake told us.
        var dialledNodes: [String: NodeID] = [:]
    }

    private struct Dialer {
        let generation: UInt64
        let pinned: NodeID?
        var channel: (any Channel)?
        /// The current connection's peer passed every check (trust store and pin).
        var verified = false
    }

    public init(
        engine: SyncEngine, configuration: Configuration, serverTLS: TLSContextProvider, clientTLS: TLSContextProvider,
        group: any EventLoopGroup, logger: Logger
    ) {
        self.engine = engine
        self.configuration = configuration
        self.serverTLS = serverTLS
        self.clientTLS = clientTLS
        self.group = group
        self.logger = logger
        peers = PeerManager(local: engine.node, penaltyPolicy: configuration.penaltyPolicy)
        engine.onClaimRefuted { [peers] peer, reason in peers.penalize(peer, reason: reason) }
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
        logger.info("listening", metadata: ["address": "\(listener.localAddress.map(PeerSessionHandler.text) ?? "?")"])
        for peer in configuration.peers {
            addPeer(host: peer.host, port: peer.port, node: configuration.pinnedPeers[Self.address(host: peer.host, port: peer.port)])
        }
    }

    /// Starts dialling one more peer (config reload, tests). No-op when already configured with
    /// the same pinned node; a new pin replaces the dialer (and closes its connection).
    /// - Parameter node: the node the address must be; a handshake with any other is refused.
    public func addPeer(host: String, port: Int, node pinned: NodeID? = nil) {
        let key = Self.address(host: host, port: port)
        if let existing = state.withLockedValue({ $0.dialers[key] }), existing.pinned != pinned { removePeer(host: host, port: port) }
        let generation = state.withLockedValue { state -> UInt64? in
            guard !state.stopping, state.dialers[key] == nil else { return nil }
            state.nextGeneration += 1
            state.dialers[key] = Dialer(generation: state.nextGeneration, pinned: pinned)
            return state.nextGeneration
        }
        if let generation { dial(key, generation, host: host, port: port, delay: configuration.reconnectDelay.initial, first: true) }
    }

    /// Stops dialling a peer and closes the connection dialled to it (config reload).
    public func removePeer(host: String, port: Int) {
        let channel = state.withLockedValue { state -> (any Channel)? in
            state.dialers.removeValue(forKey: Self.address(host: host, port: port))?.channel
        }
        guard let channel else { return }
        channel.closeSayingGoodbye(.unspecified, detail: "removed from \(engine.node)'s configuration")
    }

    /// The peers this node dials, as "host:port".
    public var dialledPeers: [String] { state.withLockedValue { $0.dialers.keys.sorted() } }

    /// Closes live sessions whose peer certificate `trustStore` now refuses (a reload brought a
    /// CRL revoking it, or dropped its anchor). New connections already use the new context.
    @discardableResult
    public func closeSessionsNoLongerTrusted(by trustStore: TrustStore) -> [NodeID] {
        let closed = peers.closeSessions { verified in
            do {
                _ = try trustStore.verify(verified.chain)
                return nil
            } catch { return "\(error)" }
        }
        for peer in closed { logger.warning("closed session: peer certificate no longer trusted", metadata: ["peer": "\(peer)"]) }
        return closed
    }

    /// New connections use these contexts from now on; live ones keep theirs (SIGHUP).
    public func replaceTLS(server: TLSContext, client: TLSContext) {
        serverTLS.replace(with: server)
        clientTLS.replace(with: client)
    }

    /// Starts an anti-entropy round now with one peer or all connected peers; returns which.
    @discardableResult
    public func syncNow(with peer: NodeID? = nil) -> [NodeID] {
        let sessions = peers.channels(for: peer)
        for (_, channel) in sessions { channel.pipeline.fireUserInboundEventTriggered(SyncNowEvent()) }
        return sessions.map(\.0)
    }

    /// "host:port", or "[v6]:port": how a configured peer address is named.
    public static func address(host: String, port: Int) -> String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Says goodbye to every peer, stops dialling and listening.
    public func shutdown() async {
        let (listener, channels) = state.withLockedValue { state -> ((any Channel)?, [any Channel]) in
            state.stopping = true
            return (state.listener, state.dialers.values.compactMap(\.channel))
        }
        try? await listener?.close()
        let goodbye = try? SyncMessageCodec.encode(Self.shuttingDown)
        var seen = Set<ObjectIdentifier>()
        for channel in peers.stop() + channels where seen.insert(ObjectIdentifier(channel)).inserted {
            if let goodbye { _ = try? await channel.writeAndFlush(ByteBuffer(bytes: goodbye)) }
            try? await channel.close()
        }
        // Every session's calls into the engine are made (the last, its detach) before the
        // node is stopped: none outlives it, and the engine may then close. A session whose
        // channel did not close is named, not waited for without end (a closed engine takes
        // no entry).
        let left = await sessionTasks.waitForAll(within: Self.sessionsEndWithin)
        if left > 0 {
            logger.error(
                "peer sessions did not end after the stop; stopping without them",
                metadata: [
                    "sessions": "\(left)", "waited": "\(Self.sessionsEndWithin)", "peers": "\(peers.connectedPeers.map(\.description).joined(separator: ", "))"
                ])
        }
    }

    /// What every session is told when the node stops (also one whose handshake ends after).
    static let shuttingDown = SyncMessage.goodbye(.shuttingDown, detail: "node shutting down")

    /// How long a stop waits for its sessions' last calls into the engine (each usually takes
    /// milliseconds: a few batches queued before the goodbye).
    static let sessionsEndWithin: Duration = .seconds(10)

    private func configurePipeline(_ channel: any Channel, direction: SessionTieBreak.Direction, dialKey: String? = nil) throws {
        let tls = direction == .accepted ? serverTLS.current : clientTLS.current
        let settings = PeerSessionHandler.Settings(
            antiEntropyInterval: configuration.antiEntropyInterval, idleTimeout: configuration.idleTimeout,
            batchSize: configuration.batchSize, maximumPendingBytes: configuration.maximumPendingBytes, maximumIngestsInFlight: 4,
            invalidEntriesPerSession: configuration.invalidEntriesPerSession, maximumClockSkewMillis: configuration.maximumClockSkewMillis,
            maximumCheckpointBytes: configuration.maximumCheckpointBytes)
        var peerCheck: OpenSSLHandler.PeerCheck?
        if let dialKey, let pinned = state.withLockedValue({ $0.dialers[dialKey]?.pinned }) {
            peerCheck = { verified in
                let named = (try? NodeID(verified.identity)).map { "\($0)" } ?? "\(verified.identity)"
                return named == "\(pinned)" ? nil : "\(dialKey) is configured as \(pinned), but its certificate names \(named)"
            }
        }
        try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls, peerCheck: peerCheck))
        if let dialKey {
            try channel.pipeline.syncOperations.addHandler(
                DialledIdentityRecorder { [self] node in
                    state.withLockedValue { state in
                        state.dialledNodes[dialKey] = node
                        state.dialers[dialKey]?.verified = true
                    }
                })
        }
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SyncFrameDecoder(maximumFrameSize: configuration.maximumFrameSize)))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(SyncFrameEncoder()))
        try channel.pipeline.syncOperations.addHandler(
            PeerSessionHandler(
                engine: engine, manager: peers, direction: direction, settings: settings, tasks: sessionTasks, logger: logger))
    }

    /// Connects to a configured peer; when the connection fails or ends, tries again after an
    /// exponentially growing delay with ±25% jitter (so restarted partners do not all dial at once).
    private func dial(_ key: String, _ generation: UInt64, host: String, port: Int, delay: TimeAmount, first: Bool) {
        let loop = group.next()
        let attempt: @Sendable () -> Void = { [self] in
            guard state.withLockedValue({ !$0.stopping && $0.dialers[key]?.generation == generation }) else { return }
            // This address is a node that dialled us and won the tie-break: dialling again would
            // only be closed as a duplicate. Check again later. (A session dialled to *another*
            // address naming the same node does not stop us: two processes sharing an identity
            // must both be heard, so that their fork is found.)
            if let node = state.withLockedValue({ $0.dialledNodes[key] }), let end = peers.penaltyEnd(of: node) {
                // In the penalty box: not dialled until the penalty ends.
                self.dial(key, generation, host: host, port: port, delay: .milliseconds(Int64(max(0, end.timeIntervalSinceNow) * 1000) + 1), first: false)
                return
            }
            if let node = state.withLockedValue({ $0.dialledNodes[key] }), peers.direction(of: node) == .accepted {
                self.dial(key, generation, host: host, port: port, delay: .nanoseconds(configuration.reconnectDelay.maximum.nanoseconds / 4), first: false)
                return
            }
            ClientBootstrap(group: loop)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try self.configurePipeline(channel, direction: .dialled, dialKey: key) }
                }
                .connect(host: host, port: port)
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        let connectedAt = NIODeadline.now()
                        let wanted = self.state.withLockedValue { state -> Bool in
                            guard state.dialers[key]?.generation == generation, !state.stopping else { return false }
                            state.dialers[key]?.channel = channel
                            state.dialers[key]?.verified = false
                            return true
                        }
                        guard wanted else {
                            channel.close(promise: nil)
                            return
                        }
                        channel.closeFuture.whenComplete { _ in
                            let verified = self.state.withLockedValue { state -> Bool in
                                guard let current = state.dialers[key]?.channel, current === channel else { return false }
                                state.dialers[key]?.channel = nil
                                return state.dialers[key]?.verified ?? false
                            }
                            // A session that ended is redialled at once; a handshake that was
                            // refused (an untrusted or mispinned peer), or a session the peer
                            // closed at once (it refuses us for now), backs off like a failed dial.
                            let lasted = NIODeadline.now() - connectedAt >= .seconds(2)
                            let next =
                                verified && lasted ? self.configuration.reconnectDelay.initial : min(delay * 2, self.configuration.reconnectDelay.maximum)
                            self.dial(key, generation, host: host, port: port, delay: next, first: false)
                        }
                    case .failure(let error):
                        self.logger.debug("dial failed", metadata: ["peer": "\(host):\(port)", "reason": "\(error)"])
                        let next = min(delay * 2, self.configuration.reconnectDelay.maximum)
                        self.dial(key, generation, host: host, port: port, delay: next, first: false)
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

/// Tells the dialer which node an address turned out to be (from the verified certificate).
final class DialledIdentityRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let record: @Sendable (NodeID) -> Void

    init(record: @escaping @Sendable (NodeID) -> Void) { self.record = record }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let identity = event as? PeerIdentityEvent, let node = try? NodeID(identity.peer.identity) { record(node) }
        context.fireUserInboundEventTriggered(event)
    }
}

extension Channel {
    /// Writes a goodbye frame on a session's channel (outside its handler), then closes it.
    func closeSayingGoodbye(_ reason: GoodbyeReason, detail: String) {
        let goodbye = (try? SyncMessageCodec.encode(.goodbye(reason, detail: detail))) ?? []
        writeAndFlush(ByteBuffer(bytes: goodbye)).whenComplete { _ in self.close(promise: nil) }
    }
}
