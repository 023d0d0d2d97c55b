import Foundation
import Logging
import NIOCore
import NIOPosix
import OpenSSLCrypto
import OpenSSLTLS
import Registry
import RegistryStore
import SyncNode
import TestSupport

/// A node in this process, for tests and benchmarks: its own store in a directory (temporary
/// unless given), its own certificate, a real TLS listener on a loopback port, and what it logs
/// kept in memory.
public final class InProcessNode: @unchecked Sendable {
    public let identity: TestNode
    public let node: SyncNode
    public let directory: URL
    /// The node's store (the engine's own; read beside it, as the daemon's hooks do).
    public let store: RegistryStore
    public var engine: SyncEngine { node.engine }
    public var port: Int { node.boundPort! }
    /// Every message the node logged at `logLevel` or above (warning unless told).
    public let log = CapturedLog()

    /// How many logged messages contain `text`.
    public func logged(_ text: String) -> Int { log.messages.filter { $0.contains(text) }.count }

    /// Anti-entropy every 300 ms unless `adjust` says otherwise (tests wait on it).
    public init(
        _ participant: String, _ name: String, pki: TestPKI, group: any EventLoopGroup, logLevel: Logger.Level = .warning,
        claimProofTimeout: Duration = .seconds(10), waitingLimits: FeedLedger.WaitingLimits = .init(), feedQuota: Int? = nil,
        directory: URL? = nil, identity: TestNode? = nil, trust: TrustStore? = nil, joinFromCheckpoint: Bool = false,
        checkpointWait: Duration = .seconds(120),
        adjust: (inout SyncNode.Configuration) -> Void = { _ in }
    ) throws {
        self.identity = try identity ?? pki.node(participant, name)
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("node-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let trust = try trust ?? pki.trustStore()
        let store = try RegistryStore(path: self.directory.appendingPathComponent("registry.sqlite").path, node: self.identity.id)
        self.store = store
        let verbose = ProcessInfo.processInfo.environment["MINERALSYNC_TEST_LOG"] == "1"
        let captured = log
        var logger = Logger(label: "test.\(participant).\(name)") { label in captured.handler(label: label, printing: verbose) }
        logger.logLevel = verbose ? .debug : logLevel
        let engine = try SyncEngine(
            store: store, key: self.identity.key, certificateChain: [self.identity.certificate], trustStore: trust,
            waitingLimits: waitingLimits, feedQuota: feedQuota,
            claimProofTimeout: claimProofTimeout, joinFromCheckpoint: joinFromCheckpoint, checkpointWait: checkpointWait, logger: logger)
        var configuration = SyncNode.Configuration(listenHost: "127.0.0.1", listenPort: 0, peers: [])
        configuration.antiEntropyInterval = .milliseconds(300)
        adjust(&configuration)
        let server = try TLSContext(
            configuration: .makeServerConfiguration(certificateChain: [self.identity.certificate], privateKey: self.identity.key, trustStore: trust))
        let client = try TLSContext(
            configuration: .makeClientConfiguration(certificateChain: [self.identity.certificate], privateKey: self.identity.key, trustStore: trust))
        node = SyncNode(
            engine: engine, configuration: configuration, serverTLS: TLSContextProvider(server),
            clientTLS: TLSContextProvider(client), group: group, logger: logger)
        // As the daemon does when a peer's CRL is put in force (it also renews its TLS contexts).
        engine.onTrustChanged { [node] trust in node.closeSessionsNoLongerTrusted(by: trust) }
    }

    public func start() async throws { try await node.start() }

    public func dial(_ other: InProcessNode) { node.addPeer(host: "127.0.0.1", port: other.port) }

    /// Says goodbye to every peer, then closes the store.
    public func stop() async {
        await node.shutdown()
        await engine.close()
    }
}
