import Foundation
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

/// `mineral-syncd` as a service: opens the store, starts the sync node, the admin socket and
/// the metrics endpoint, reloads certificates, CRLs and peers on SIGHUP, and on graceful
/// shutdown (SIGTERM) says goodbye to every peer and closes the store before it returns.
public final class NodeDaemon: Service, Sendable {
    private let configurationPath: String
    private let configuration: NodeConfiguration
    private let materials: NodeMaterials
    private let logger: Logger
    private let metricsRegistry: PrometheusCollectorRegistry?

    /// - Parameter metricsRegistry: where swift-metrics was bootstrapped to; served on
    ///   `metrics.listen` when both are set.
    public init(configurationPath: String, configuration: NodeConfiguration, materials: NodeMaterials, logger: Logger,
                metricsRegistry: PrometheusCollectorRegistry?) {
        self.configurationPath = configurationPath
        self.configuration = configuration
        self.materials = materials
        self.logger = logger
        self.metricsRegistry = metricsRegistry
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        // The admin socket and the metrics endpoint on a loop of their own: an operator's request
        // never waits behind the sessions' TLS and frames.
        let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            // SIGHUP is trapped before anything starts: one that arrives early is handled, never fatal.
            let hangUps = await UnixSignalsSequence(trapping: .sighup)
            let running = try await start(group: group, adminGroup: adminGroup)
            SystemdNotifier.notify("READY=1\nSTATUS=syncing with \(configuration.peers.count) configured peers")
            logger.info("node ready", metadata: [
                "node": "\(configuration.node)", "listen": "\(running.node.boundPort.map { "\(configuration.listen.host):\($0)" } ?? "?")",
                "admin": "\(configuration.adminSocket)", "entries": "\(running.engine.vector.total)",
            ])
            await withTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    for await _ in hangUps.cancelOnGracefulShutdown() {
                        await running.reload(path: self.configurationPath, logger: self.logger)
                    }
                }
                try? await gracefulShutdown()
                tasks.cancelAll()
            }
            SystemdNotifier.notify("STOPPING=1")
            logger.info("shutting down: saying goodbye to peers")
            await running.stop()
            logger.info("stopped; store closed")
        } catch {
            for loops in [group, adminGroup] { try? await loops.shutdownGracefully() }
            throw error
        }
        for loops in [group, adminGroup] { try? await loops.shutdownGracefully() }
    }

    private func start(group: any EventLoopGroup, adminGroup: any EventLoopGroup) async throws -> RunningNode {
        let data = configuration.dataDirectory
        do {
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DaemonError.dataDirectory(path: data, reason: "\(error.localizedDescription)")
        }
        let lock = try DataDirectoryLock(directory: data)
        let store: RegistryStore
        do { store = try RegistryStore(path: configuration.storePath, node: configuration.node) } catch {
            lock.release()
            throw DaemonError.store(error.description)
        }
        let engine: SyncEngine
        do {
            engine = try SyncEngine(store: store, key: materials.privateKey, certificateChain: materials.certificateChain,
                                    trustStore: materials.trustStore, policy: EntryPolicy(catalogue: materials.catalogue),
                                    waitingLimits: FeedLedger.WaitingLimits(bytesPerFeed: configuration.sync.maximumWaitingBytesPerFeed,
                                                                            totalBytes: configuration.sync.maximumWaitingBytes),
                                    feedQuota: configuration.sync.maximumFeedBytes,
                                    claimProofTimeout: .milliseconds(configuration.sync.claimProofTimeout.milliseconds),
                                    maximumClockSkewMillis: configuration.sync.maximumClockSkew.milliseconds, logger: logger)
        } catch {
            try? store.close()
            lock.release()
            throw DaemonError.store(error.description)
        }
        let (serverTLS, clientTLS): (TLSContext, TLSContext)
        do { (serverTLS, clientTLS) = try Self.tlsContexts(configuration, materials, trust: await engine.currentTrustStore) } catch {
            await engine.close()
            lock.release()
            throw DaemonError.tls("\(error)")
        }
        var settings = SyncNode.Configuration(listenHost: configuration.listen.host, listenPort: configuration.listen.port,
                                              peers: configuration.peers.map { ($0.host, $0.port) })
        settings.antiEntropyInterval = .milliseconds(configuration.sync.antiEntropyInterval.milliseconds)
        settings.idleTimeout = .milliseconds(configuration.sync.idleTimeout.milliseconds)
        settings.maximumFrameSize = configuration.sync.maximumFrameBytes
        settings.maximumPendingBytes = configuration.sync.maximumPendingBytes
        settings.batchSize = configuration.sync.batchSize
        settings.penaltyPolicy = PenaltyPolicy(base: Double(configuration.sync.penalty.milliseconds) / 1000,
                                               maximum: Double(configuration.sync.maximumPenalty.milliseconds) / 1000)
        settings.invalidEntriesPerSession = configuration.sync.invalidEntriesPerSession
        settings.maximumClockSkewMillis = configuration.sync.maximumClockSkew.milliseconds
        for (address, node) in configuration.pinnedPeers { settings.pinnedPeers[SyncNode.address(host: address.host, port: address.port)] = node }
        let node = SyncNode(engine: engine, configuration: settings, serverTLS: TLSContextProvider(serverTLS),
                            clientTLS: TLSContextProvider(clientTLS), group: group, logger: logger)
        let running = RunningNode(configuration: configuration, materials: materials, engine: engine, node: node, lock: lock)
        let logger = self.logger
        engine.onTrustChanged { [weak running] trust in running?.trustChanged(trust, logger: logger) }
        do {
            try await node.start()
        } catch {
            await running.stop()
            throw DaemonError.listen(address: "\(configuration.listen)", reason: Self.reason(error))
        }
        let admin = AdminService(engine: engine, node: node, catalogue: materials.catalogue, startedAt: Date(),
                                 certificateExpiry: { [running] in running.certificateExpiry },
                                 configuredPeers: { [running] in running.configuredPeerCount },
                                 logger: logger)
        do {
            running.admin = try await HTTPServer.start(.unixSocket(path: configuration.adminSocket, mode: configuration.adminSocketMode),
                                                       group: adminGroup, maximumBodyBytes: 4 << 20) { await admin.handle($0) }
        } catch let error as DaemonError {
            await running.stop()
            throw error
        } catch {
            await running.stop()
            throw DaemonError.adminSocket(path: configuration.adminSocket, reason: Self.reason(error))
        }
        if let address = configuration.metricsListen, let registry = metricsRegistry {
            do {
                running.metrics = try await HTTPServer.start(.tcp(host: address.host, port: address.port), group: adminGroup, maximumBodyBytes: 0) { request in
                    guard request.method == .GET, request.path == "/metrics" else {
                        return HTTPResponse(status: .notFound, contentType: "text/plain", body: ByteBuffer(string: "metrics are at /metrics\n"))
                    }
                    return HTTPResponse(contentType: "text/plain; version=0.0.4", body: ByteBuffer(bytes: registry.emitToBuffer()))
                }
            } catch {
                await running.stop()
                throw DaemonError.metrics(address: "\(address)", reason: Self.reason(error))
            }
        }
        return running
    }

    /// - Parameter trust: the anchors and CRLs in force (the configured ones, and newer CRLs
    ///   received from peers: `SyncEngine.currentTrustStore`).
    static func tlsContexts(_ configuration: NodeConfiguration, _ materials: NodeMaterials, trust: TrustStore) throws -> (TLSContext, TLSContext) {
        let timeout = TimeAmount.milliseconds(configuration.tls.handshakeTimeout.milliseconds)
        return (
            try TLSContext(configuration: .makeServerConfiguration(certificateChain: materials.certificateChain, privateKey: materials.privateKey,
                                                                   trustStore: trust, handshakeTimeout: timeout)),
            try TLSContext(configuration: .makeClientConfiguration(certificateChain: materials.certificateChain, privateKey: materials.privateKey,
                                                                   trustStore: trust, handshakeTimeout: timeout))
        )
    }

    /// "Address already in use" rather than NIO's type dump.
    static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return "\(String(cString: strerror(io.errnoCode))) (\(io.errnoCode))" }
        return "\(error)"
    }
}
