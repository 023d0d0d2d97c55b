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

/// A node of an in-process test alliance: its own store in a temporary directory, its own
/// certificate, a real TLS listener on a loopback port.
final class TestNodeProcess: @unchecked Sendable {
    let identity: TestNode
    let node: SyncNode
    let directory: URL
    var engine: SyncEngine { node.engine }
    var port: Int { node.boundPort! }
    /// Every message the node logged at warning or above.
    let log = CapturedLog()

    /// How many logged messages contain `text`.
    func logged(_ text: String) -> Int { log.messages.filter { $0.contains(text) }.count }

    init(
        _ participant: String, _ name: String, pki: TestPKI, group: any EventLoopGroup,
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
        let verbose = ProcessInfo.processInfo.environment["MINERALSYNC_TEST_LOG"] == "1"
        let captured = log
        var logger = Logger(label: "test.\(participant).\(name)") { label in captured.handler(label: label, printing: verbose) }
        logger.logLevel = verbose ? .debug : .warning
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

    func start() async throws { try await node.start() }

    func dial(_ other: TestNodeProcess) { node.addPeer(host: "127.0.0.1", port: other.port) }
}

/// Log messages kept in memory, for tests that count what a node logged.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []

    var messages: [String] { lock.withLock { kept } }

    /// Keeps every message; with `printing`, also writes it to standard error.
    func handler(label: String, printing: Bool) -> any LogHandler { Handler(log: self, label: label, printing: printing) }

    private struct Handler: LogHandler {
        let log: CapturedLog
        let label: String
        let printing: Bool
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            log.lock.withLock { log.kept.append(message.description) }
            if printing { FileHandle.standardError.write(Data("\(label) \(level) \(message) \(metadata ?? [:])\n".utf8)) }
        }
    }
}
