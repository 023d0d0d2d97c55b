import AdminAPI
import Foundation
import OpenSSLCrypto
import Registry
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A `mineral-syncd` process started by a test from the built binary, with its own config,
/// data directory and admin socket. Its log (stderr) is collected so tests can await a line.
final class DaemonProcess: @unchecked Sendable {
    let participant: String
    /// The identity, when it came from the test PKI.
    private(set) var identity: TestNode!
    let name: String
    let port: Int
    let directory: String
    let configPath: String
    var socketPath: String { "\(directory)/admin.sock" }
    var client: AdminClient { AdminClient(socketPath: socketPath) }
    var nodeID: String { "\(participant)/\(name)" }

    /// Added to the daemon's environment at each start (LD_PRELOAD, NOTIFY_SOCKET, ...).
    var environment: [String: String] = [:]
    /// A wrapper the daemon runs under, e.g. `["faketime", "-f", "+1d"]`. A wrapper that forks
    /// (faketime does) keeps running as the daemon's parent: signals go to the daemon, its child.
    var launcher: [String] = []
    private let lock = NSLock()
    private var log = ""
    private var process: Process?
    private var logWaiters: [(String, Int, CheckedContinuation<Void, any Error>)] = []

    /// Writes the node's certificate (from the test PKI) and config. `peers` are ports on 127.0.0.1.
    /// - Parameter label: names the data directory, config and key files (default: the node
    ///   name); two processes sharing one identity need different labels.
    convenience init(
        _ participant: String, _ name: String, port: Int, peers: [Int], root: String, pki: TestPKI, files: PKIFiles,
        crls: [String] = [], identity: TestNode? = nil, label: String? = nil, logFormat: String = "text", metricsPort: Int? = nil,
        batchSize: Int? = nil, snapshotEvery: Int? = nil, joinFromCheckpoint: Bool = false, extraConfig: String = ""
    ) throws {
        let label = label ?? name
        let identity = try identity ?? pki.node(participant, name)
        try files.write(identity, as: label)
        let anchors = Dictionary(uniqueKeysWithValues: pki.authorities.keys.map { ($0, "pki/\($0.lowercased())-ca.pem") })
        try self.init(
            participant, name, port: port, peers: peers, root: root, trustDomain: pki.trustDomain, anchors: anchors,
            certificate: "pki/\(label).pem", key: "pki/\(label).key", crls: crls, label: label, logFormat: logFormat, metricsPort: metricsPort,
            batchSize: batchSize, snapshotEvery: snapshotEvery, joinFromCheckpoint: joinFromCheckpoint, extraConfig: extraConfig)
        self.identity = identity
    }

    /// Writes the config for certificate and key files that already exist (paths relative to `root`).
    init(
        _ participant: String, _ name: String, port: Int, peers: [Int], root: String, trustDomain: String = "critical-minerals",
        anchors: [String: String], certificate: String, key: String, crls: [String] = [], label: String? = nil,
        logFormat: String = "text", metricsPort: Int? = nil, batchSize: Int? = nil, snapshotEvery: Int? = nil,
        joinFromCheckpoint: Bool = false, extraConfig: String = ""
    ) throws {
        let label = label ?? name
        self.participant = participant
        self.name = name
        self.port = port
        directory = "\(root)/\(label)"
        configPath = "\(root)/\(label).yaml"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let anchorLines = anchors.sorted { $0.key < $1.key }.map { "    \($0.key): \($0.value)" }.joined(separator: "\n")
        let peerLines = peers.map { "  - address: 127.0.0.1:\($0)" }.joined(separator: "\n")
        let config = """
            node:
              participant: \(participant)
              name: \(name)
              data-dir: ./\(label)
            listen: 127.0.0.1:\(port)
            admin:
              socket: ./\(label)/admin.sock
            tls:
              trust-domain: \(trustDomain)
              certificate: \(certificate)
              private-key: \(key)
              trust-anchors:
            \(anchorLines)
              crls: [\(crls.joined(separator: ", "))]
            peers:\(peers.isEmpty ? " []" : "\n" + peerLines)
            sync:
              anti-entropy-interval: 500ms\(batchSize.map { "\n  batch-size: \($0)" } ?? "")\(snapshotEvery.map { "\n  snapshot-every: \($0)" } ?? "")\(joinFromCheckpoint ? "\n  join-from-checkpoint: true" : "")
            log:
              level: debug
              format: \(logFormat)
            \(metricsPort.map { "metrics:\n  listen: 127.0.0.1:\($0)" } ?? "")
            \(extraConfig)
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// A test that fails half-way must not leave a daemon running.
    deinit {
        if let process, process.isRunning {
            if let pid, pid != process.processIdentifier { Glibc.kill(pid, SIGKILL) }
            Glibc.kill(process.processIdentifier, SIGKILL)
        }
    }

    /// Starts the daemon and returns once it logged "node ready".
    func start() async throws {
        let process = Process()
        if launcher.isEmpty {
            process.executableURL = try BuiltExecutable.url("mineral-syncd")
            process.arguments = ["--config", configPath]
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = launcher + [try BuiltExecutable.url("mineral-syncd").path, "--config", configPath]
        }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let alreadyLogged = lock.withLock { log.count }
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            self.append(String(decoding: data, as: UTF8.self))
        }
        try process.run()
        lock.withLock { self.process = process }
        try await waitForLog("node ready", after: alreadyLogged, seconds: 60)
    }

    var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// The running daemon's process id (under a wrapper: the wrapper's child).
    var pid: Int32? {
        guard let parent = lock.withLock({ process?.processIdentifier }) else { return nil }
        guard !launcher.isEmpty else { return parent }
        let children = (try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { Int32($0) } ?? parent
    }

    /// SIGTERM, then waits for the exit; returns the exit status.
    @discardableResult
    func stop() async throws -> Int32 { try await signal(SIGTERM) }

    /// SIGKILL: no goodbye, no store close.
    @discardableResult
    func kill() async throws -> Int32 { try await signal(SIGKILL) }

    func hangUp() { pid.map { _ = Glibc.kill($0, SIGHUP) } }

    /// Signals the daemon, then waits for the process started (the wrapper, if any, ends with it).
    private func signal(_ signal: Int32) async throws -> Int32 {
        guard let process = lock.withLock({ self.process }), let pid else { return -1 }
        Glibc.kill(pid, signal)
        return try await within(30, "\(nodeID) to exit") {
            try await onThread {
                process.waitUntilExit()
                return process.terminationStatus
            }
        }
    }

    var logText: String { lock.withLock { log } }

    /// Resolves when the log contains `text` after the first `after` characters.
    /// On a timeout the error carries the log's last lines since `after`, so that a failure in CI
    /// says what the daemon did instead.
    func waitForLog(_ text: String, after: Int = 0, seconds: Double = 30) async throws {
        do {
            try await waitingForLog(text, after: after, seconds: seconds)
        } catch let timeout as TimedOut {
            let tail = String(logText.dropFirst(after)).split(separator: "\n").suffix(40).joined(separator: "\n")
            throw TimedOut(what: "\(timeout.what); its log since then ends with:\n\(tail)")
        }
    }

    private func waitingForLog(_ text: String, after: Int, seconds: Double) async throws {
        try await within(seconds, "\(nodeID) to log \"\(text)\"") { [self] in
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let found = lock.withLock { () -> Bool in
                    if String(log.dropFirst(after)).contains(text) { return true }
                    logWaiters.append((text, after, continuation))
                    return false
                }
                if found { continuation.resume() }
            }
        }
    }

    private func append(_ text: String) {
        if ProcessInfo.processInfo.environment["MINERALSYNC_TEST_LOG"] == "1" { FileHandle.standardError.write(Data(text.utf8)) }
        let ready = lock.withLock { () -> [CheckedContinuation<Void, any Error>] in
            log += text
            var ready: [CheckedContinuation<Void, any Error>] = []
            logWaiters.removeAll { wanted, after, continuation in
                guard String(log.dropFirst(after)).contains(wanted) else { return false }
                ready.append(continuation)
                return true
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    // MARK: admin shortcuts

    func status() throws -> StatusResponse { try client.get("/v1/status") }

    /// Asks the node for an anti-entropy round with every connected peer and waits until each
    /// holds the same vector.
    /// (Waited for on a thread of its own, not on the concurrency pool's.)
    @discardableResult
    func syncAndWait(with peers: [DaemonProcess], timeout: Double = 60) async throws -> [SyncResponse] {
        let (client, requests) = (client, peers.map { SyncRequest(peer: $0.nodeID, wait: true, timeoutSeconds: timeout) })
        return try await onThread { try requests.map { request in try client.post("/v1/sync", request) } }
    }

    /// Imports `count` reserve reports (one entry each) in one all-or-nothing request.
    func importReserves(_ count: Int, tag: String) async throws {
        let minerals = ["gallium", "germanium", "graphite", "tungsten", "antimony"]
        let rows = (0..<count).map { index in
            ReserveReportRequest(mineral: minerals[index % minerals.count], quantity: "\(index + 1).5", site: "\(tag)-site-\(index % 37)")
        }
        let client = client
        let _: [WriteResponse] = try await onThread { try client.post("/v1/reserves/import", ReserveImportRequest(rows: rows)) }
    }
}

/// Free TCP ports on 127.0.0.1 (bound and released; the tests use them at once).
func freePorts(_ count: Int) -> [Int] {
    var sockets: [Int32] = []
    var ports: [Int] = []
    for _ in 0..<count {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        ports.append(Int(UInt16(bigEndian: address.sin_port)))
        sockets.append(fd)
    }
    for fd in sockets { close(fd) }
    return ports
}
