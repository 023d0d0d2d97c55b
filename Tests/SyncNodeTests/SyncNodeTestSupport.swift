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

    init(_ participant: String, _ name: String, pki: TestPKI, group: any EventLoopGroup,
         claimProofTimeout: Duration = .seconds(10), waitingLimits: FeedLedger.WaitingLimits = .init(), feedQuota: Int? = nil,
         directory: URL? = nil, identity: TestNode? = nil, trust: TrustStore? = nil,
         adjust: (inout SyncNode.Configuration) -> Void = { _ in }) throws {
        self.identity = try identity ?? pki.node(participant, name)
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("node-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let trust = try trust ?? pki.trustStore()
        let store = try RegistryStore(path: self.directory.appendingPathComponent("registry.sqlite").path, node: self.identity.id)
        var logger = Logger(label: "test.\(participant).\(name)")
        logger.logLevel = ProcessInfo.processInfo.environment["MINERALSYNC_TEST_LOG"] == "1" ? .debug : .critical
        let engine = try SyncEngine(store: store, key: self.identity.key, certificateChain: [self.identity.certificate], trustStore: trust,
                                    waitingLimits: waitingLimits, feedQuota: feedQuota,
                                    claimProofTimeout: claimProofTimeout, logger: logger)
        var configuration = SyncNode.Configuration(listenHost: "127.0.0.1", listenPort: 0, peers: [])
        configuration.antiEntropyInterval = .milliseconds(300)
        adjust(&configuration)
        let server = try TLSContext(configuration: .makeServerConfiguration(certificateChain: [self.identity.certificate], privateKey: self.identity.key, trustStore: trust))
        let client = try TLSContext(configuration: .makeClientConfiguration(certificateChain: [self.identity.certificate], privateKey: self.identity.key, trustStore: trust))
        node = SyncNode(engine: engine, configuration: configuration, serverTLS: TLSContextProvider(server),
                        clientTLS: TLSContextProvider(client), group: group, logger: logger)
        // As the daemon does when a peer's CRL is put in force (it also renews its TLS contexts).
        engine.onTrustChanged { [node] trust in node.closeSessionsNoLongerTrusted(by: trust) }
    }

    func start() async throws { try await node.start() }

    func dial(_ other: TestNodeProcess) { node.addPeer(host: "127.0.0.1", port: other.port) }
}

