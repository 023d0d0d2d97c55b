import Foundation
import HTTPServing
import Logging
import NIOCore
import NIOPosix
import NodeConfig
import OpenSSLCrypto
import OpenSSLTLS
import Prometheus
import Registry
import RegistryStore
import ServiceLifecycle
import SyncNode
import UnixSignals

/// `mineral-syncd`: opens the store and assembles the node's services into one `ServiceGroup`
/// (sync node, notification hooks, admin socket, metrics endpoint, configuration reloader),
/// run until SIGTERM or SIGINT. Graceful shutdown stops them in reverse order: reloads end, the
/// metrics endpoint and the admin socket close (no new writes), the hooks stop (a delivery in
/// flight is made again at the next start), then the sync node says goodbye to every peer and
/// closes the store; the data directory's lock is released last.
///
/// Everything that can refuse to start (the data directory, the store, TLS, the listen address,
/// the admin socket, the metrics address) is set up and bound before the group runs, so that
/// the node either starts whole or says exactly what stopped it.
public final class NodeDaemon: Sendable {
    private let configurationPath: String
    private let configuration: NodeConfiguration
    private let materials: NodeMaterials
    private let logger: Logger
    private let metricsRegistry: PrometheusCollectorRegistry?

    /// - Parameter metricsRegistry: where swift-metrics was bootstrapped to; served on
    ///   `metrics.listen` when both are set.
    public init(
        configurationPath: String, configuration: NodeConfiguration, materials: NodeMaterials, logger: Logger,
        metricsRegistry: PrometheusCollectorRegistry?
    ) {
        self.configurationPath = configurationPath
        self.configuration = configuration
        self.materials = materials
        self.logger = logger
        self.metricsRegistry = metricsRegistry
    }

    public func run() async throws {
        // A hook's program that exits without reading its input must not stop the node.
        signal(SIGPIPE, SIG_IGN)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        // The admin socket and the metrics endpoint on a loop of their own: an operator's request
        // never waits behind the sessions' TLS and frames.
        let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { for loops in [group, adminGroup] { loops.shutdownGracefully { _ in } } }
        // Signals are trapped before anything starts: a SIGHUP that arrives early is handled, and
        // a SIGTERM while the node is starting stops it gracefully once it has started (the
        // admin socket answers before the group runs; the default action would kill it).
        let hangUps = await UnixSignalsSequence(trapping: .sighup)
        let stops = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let lock = try DataDirectoryLock(directory: try dataDirectory())
        defer { lock.release() }
        let services = try await assemble(group: group, adminGroup: adminGroup, hangUps: hangUps)
        SystemdNotifier.notify("READY=1\nSTATUS=syncing with \(configuration.peers.count) configured peers")
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map {
                    ServiceGroupConfiguration.ServiceConfiguration(
                        service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                logger: logger))
        let logger = logger
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await serviceGroup.run() }
            tasks.addTask {
                for await signal in stops {
                    logger.info("\(signal): stopping")
                    SystemdNotifier.notify("STOPPING=1")
                    await serviceGroup.triggerGracefulShutdown()
                    return
                }
            }
            try await tasks.next()  // the group ran to its end
            tasks.cancelAll()
        }
    }

    private func dataDirectory() throws(DaemonError) -> String {
        let data = configuration.dataDirectory
        do {
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DaemonError.dataDirectory(path: data, reason: "\(error.localizedDescription)")
        }
        return data
    }

    /// The services, in start order (they stop in reverse), everything opened and bound. What
    /// was opened before a failure is closed again before the error is thrown.
    private func assemble(group: any EventLoopGroup, adminGroup: any EventLoopGroup, hangUps: UnixSignalsSequence) async throws -> [any Service] {
        let store: RegistryStore
        do { store = try RegistryStore(path: configuration.storePath, node: configuration.node) } catch {
            throw DaemonError.store(error.description)
        }
        let engine: SyncEngine
        do {
            engine = try SyncEngine(
                store: store, key: materials.privateKey, certificateChain: materials.certificateChain,
                trustStore: materials.trustStore, policy: EntryPolicy(catalogue: materials.catalogue),
                waitingLimits: FeedLedger.WaitingLimits(
                    bytesPerFeed: configuration.sync.maximumWaitingBytesPerFeed,
                    totalBytes: configuration.sync.maximumWaitingBytes),
                feedQuota: configuration.sync.maximumFeedBytes,
                claimProofTimeout: .milliseconds(configuration.sync.claimProofTimeout.milliseconds),
                maximumClockSkewMillis: configuration.sync.maximumClockSkew.milliseconds,
                snapshotInterval: configuration.sync.snapshotInterval,
                joinFromCheckpoint: configuration.sync.joinFromCheckpoint,
                mayDropArchivedHistory: configuration.history.dropArchived,
                proofQuorum: configuration.proofs.quorum.map(Set.init), logger: logger)
        } catch {
            try? store.close()
            throw DaemonError.store(error.description)
        }
        let (serverTLS, clientTLS): (TLSContext, TLSContext)
        do { (serverTLS, clientTLS) = try Self.tlsContexts(configuration, materials, trust: await engine.currentTrustStore) } catch {
            await engine.close()
            throw DaemonError.tls("\(error)")
        }
        // Before anything can be committed: an entry a peer sends at once must leave its event
        // in the outbox for hooks, as every later one does.
        let hooks: HookService
        do {
            hooks = try await HookService(hooks: configuration.hooks, engine: engine, store: store, group: adminGroup, logger: logger)
        } catch {
            await engine.close()
            throw DaemonError.store("setting up the hooks: \(error)")
        }
        let node = SyncNode(
            engine: engine, configuration: syncSettings(), serverTLS: TLSContextProvider(serverTLS),
            clientTLS: TLSContextProvider(clientTLS), group: group, logger: logger)
        let reloader = ConfigurationReloader(
            path: configurationPath, configuration: configuration, materials: materials, engine: engine,
            node: node, hooks: hooks, hangUps: hangUps, logger: logger)
        engine.onTrustChanged { [weak reloader] trust in reloader?.trustChanged(trust) }
        var opened: [any Channel] = []
        func abandon() async {
            for channel in opened { try? await channel.close() }
            await node.shutdown()
            await engine.close()
        }
        do {
            try await node.start()
        } catch {
            await abandon()
            throw DaemonError.listen(address: "\(configuration.listen)", reason: HTTPServer.reason(error))
        }
        let board = hooks.board
        let admin = AdminService(
            engine: engine, node: node, catalogue: materials.catalogue, startedAt: Date(),
            certificateExpiry: { [reloader] in reloader.certificateExpiry },
            configuredPeers: { [reloader] in reloader.configuredPeerCount },
            hooks: { board.isEmpty ? nil : board.items(newest: (try? await store.newestEvent()) ?? 0) },
            skipHookEvent: { [hooks] request throws(AdminFailure) in try await hooks.skip(request) },
            logger: logger)
        do {
            opened.append(
                try await HTTPServer.start(
                    .unixSocket(path: configuration.adminSocket, mode: configuration.adminSocketMode),
                    group: adminGroup, maximumBodyBytes: 4 << 20
                ) { await admin.handle($0) })
        } catch {
            await abandon()
            throw DaemonError.adminSocket(path: configuration.adminSocket, reason: HTTPServer.reason(error))
        }
        if let address = configuration.metricsListen, let registry = metricsRegistry {
            do {
                opened.append(
                    try await HTTPServer.start(.tcp(host: address.host, port: address.port), group: adminGroup, maximumBodyBytes: 0) { request in
                        guard request.method == .GET, request.path == "/metrics" else {
                            return HTTPResponse(status: .notFound, contentType: "text/plain", body: ByteBuffer(string: "metrics are at /metrics\n"))
                        }
                        return HTTPResponse(contentType: "text/plain; version=0.0.4", body: ByteBuffer(bytes: registry.emitToBuffer()))
                    })
            } catch {
                await abandon()
                throw DaemonError.metrics(address: "\(address)", reason: HTTPServer.reason(error))
            }
        }
        logger.info(
            "node ready",
            metadata: [
                "node": "\(configuration.node)", "listen": "\(node.boundPort.map { "\(configuration.listen.host):\($0)" } ?? "?")",
                "admin": "\(configuration.adminSocket)", "entries": "\(engine.vector.total)"
            ])
        return [SyncNodeService(engine: engine, node: node, proofInterval: .milliseconds(configuration.proofs.interval.milliseconds), logger: logger), hooks]
            + opened.map { HTTPServerService(channel: $0) } + [reloader]
    }

    private func syncSettings() -> SyncNode.Configuration {
        var settings = SyncNode.Configuration(
            listenHost: configuration.listen.host, listenPort: configuration.listen.port,
            peers: configuration.peers.map { ($0.host, $0.port) })
        settings.antiEntropyInterval = .milliseconds(configuration.sync.antiEntropyInterval.milliseconds)
        settings.idleTimeout = .milliseconds(configuration.sync.idleTimeout.milliseconds)
        settings.maximumFrameSize = configuration.sync.maximumFrameBytes
        settings.maximumPendingBytes = configuration.sync.maximumPendingBytes
        settings.batchSize = configuration.sync.batchSize
        settings.penaltyPolicy = PenaltyPolicy(
            base: Double(configuration.sync.penalty.milliseconds) / 1000,
            maximum: Double(configuration.sync.maximumPenalty.milliseconds) / 1000)
        settings.invalidEntriesPerSession = configuration.sync.invalidEntriesPerSession
        settings.maximumClockSkewMillis = configuration.sync.maximumClockSkew.milliseconds
        settings.maximumCheckpointBytes = configuration.sync.maximumCheckpointBytes
        for (address, node) in configuration.pinnedPeers { settings.pinnedPeers[SyncNode.address(host: address.host, port: address.port)] = node }
        return settings
    }

    /// - Parameter trust: the anchors and CRLs in force (the configured ones, and newer CRLs
    ///   received from peers: `SyncEngine.currentTrustStore`).
    static func tlsContexts(_ configuration: NodeConfiguration, _ materials: NodeMaterials, trust: TrustStore) throws -> (TLSContext, TLSContext) {
        let timeout = TimeAmount.milliseconds(configuration.tls.handshakeTimeout.milliseconds)
        return (
            try TLSContext(
                configuration: .makeServerConfiguration(
                    certificateChain: materials.certificateChain, privateKey: materials.privateKey,
                    trustStore: trust, handshakeTimeout: timeout)),
            try TLSContext(
                configuration: .makeClientConfiguration(
                    certificateChain: materials.certificateChain, privateKey: materials.privateKey,
                    trustStore: trust, handshakeTimeout: timeout))
        )
    }
}
