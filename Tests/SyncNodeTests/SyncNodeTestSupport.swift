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
         requiresPeerConfirmation: Bool = false, directory: URL? = nil, identity: TestNode? = nil,
         adjust: (inout SyncNode.Configuration) -> Void = { _ in }) throws {
        self.identity = try identity ?? pki.node(participant, name)
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("node-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let trust = try pki.trustStore()
        let store = try RegistryStore(path: self.directory.appendingPathComponent("registry.sqlite").path, node: self.identity.id)
        var logger = Logger(label: "test.\(participant).\(name)")
        logger.logLevel = ProcessInfo.processInfo.environment["MINERALSYNC_TEST_LOG"] == "1" ? .debug : .critical
        let engine = try SyncEngine(store: store, key: self.identity.key, certificateChain: [self.identity.certificate], trustStore: trust,
                                    requiresPeerConfirmation: requiresPeerConfirmation, logger: logger)
        var configuration = SyncNode.Configuration(listenHost: "127.0.0.1", listenPort: 0, peers: [])
        configuration.antiEntropyInterval = .milliseconds(300)
        adjust(&configuration)
        let server = try TLSContext(configuration: .makeServerConfiguration(certificateChain: [self.identity.certificate], privateKey: self.identity.key, trustStore: trust))
        let client = try TLSContext(configuration: .makeClientConfiguration(certificateChain: [self.identity.certificate], privateKey: self.identity.key, trustStore: trust))
        node = SyncNode(engine: engine, configuration: configuration, serverTLS: TLSContextProvider(server),
                        clientTLS: TLSContextProvider(client), group: group, logger: logger)
    }

    func start() async throws { try await node.start() }

    func dial(_ other: TestNodeProcess) { node.addPeer(host: "127.0.0.1", port: other.port) }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Awaits `body`, failing instead of hanging if it takes longer than `seconds` (a guard against
/// a broken build hanging CI, not a sleep: the test proceeds the moment the event happens).
/// The body runs unstructured so that a wait that cannot be cancelled still cannot hang the test.
func within<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let once = OnceBox<T>()
    return try await withCheckedThrowingContinuation { continuation in
        once.set(continuation)
        Task { once.resume(with: await Result(catching: body)) }
        Task {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            once.resume(with: .failure(TimedOut(what: what)))
        }
    }
}

/// Resumes a continuation exactly once, whoever comes first.
final class OnceBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?

    func set(_ continuation: CheckedContinuation<T, any Error>) { lock.withLock { self.continuation = continuation } }

    func resume(with result: Result<T, any Error>) {
        let pending = lock.withLock { () -> CheckedContinuation<T, any Error>? in
            defer { continuation = nil }
            return continuation
        }
        pending?.resume(with: result)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
