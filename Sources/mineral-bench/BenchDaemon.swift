import AdminAPI
import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import Registry
import RegistryStore
import SyncNode

/// A real `mineral-syncd` process (the one next to this binary) with its own PKI files and a
/// default config, for benchmarks that measure what an operator would see.
final class BenchDaemon: @unchecked Sendable {
    let node: NodeID
    let port: Int
    let socket: String
    let directory: String
    /// The running process; a new one at each `start` (a daemon may be stopped and started again).
    private var process = Process()
    private let binary: URL
    private let configPath: String
    private let log: String

    /// - Parameter peers: the listen ports of the nodes this one dials.
    /// - Parameter extraConfig: more top-level config sections (`proofs:`, `sync:`).
    init(
        pki: BenchAlliance, scratch: String, identity: BenchAlliance.Identity, peers: [Int] = [], level: String = "warning",
        extraConfig: String = ""
    ) throws {
        node = identity.id
        directory = "\(scratch)/\(identity.id.name)"
        try FileManager.default.createDirectory(atPath: "\(directory)/pki", withIntermediateDirectories: true)
        let name = identity.id.name
        try identity.certificate.pemRepresentation.write(toFile: "\(directory)/pki/\(name).pem", atomically: true, encoding: .utf8)
        try identity.key.pemRepresentation().write(toFile: "\(directory)/pki/\(name).key", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: "\(directory)/pki/\(name).key")
        var anchors: [String] = []
        for (participant, issuer) in pki.issuers.sorted(by: { $0.key < $1.key }) {
            try issuer.certificate.pemRepresentation.write(toFile: "\(directory)/pki/\(participant).pem", atomically: true, encoding: .utf8)
            anchors.append("    \(participant): pki/\(participant).pem")
        }
        port = try Self.freePort()
        socket = "\(directory)/admin.sock"
        log = "\(directory)/daemon.log"
        let peerList = peers.isEmpty ? "peers: []" : "peers:\n" + peers.map { "  - address: 127.0.0.1:\($0)" }.joined(separator: "\n")
        let config = """
            node: {participant: \(identity.id.participant), name: \(name), data-dir: ./data}
            listen: 127.0.0.1:\(port)
            admin: {socket: ./admin.sock}
            tls:
              trust-domain: \(pki.trustDomain)
              certificate: pki/\(name).pem
              private-key: pki/\(name).key
              trust-anchors:
            \(anchors.joined(separator: "\n"))
            \(peerList)
            log: {format: text, level: \(level)}
            \(extraConfig)
            """
        try config.write(toFile: "\(directory)/\(name).yaml", atomically: true, encoding: .utf8)
        binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mineral-syncd")
        configPath = "\(directory)/\(name).yaml"
        FileManager.default.createFile(atPath: log, contents: nil)
    }

    /// Where the daemon keeps its store: fill it before `start` to begin with a history.
    var storePath: String { "\(directory)/data/registry.sqlite" }

    func start() throws {
        process = Process()
        process.executableURL = binary
        process.arguments = ["run", "--config", configPath]
        let logHandle = FileHandle(forWritingAtPath: log)
        logHandle?.seekToEndOfFile()
        process.standardError = logHandle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if (try? AdminClient(socketPath: socket).call(AdminAPI.status)) != nil { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ValidationError("\(node) did not answer within 120 s; see \(log)")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// SIGKILL: no clean shutdown, no snapshot at the end.
    /// Whether the daemon's log holds `text` (at the level it logs).
    func logged(_ text: String) -> Bool {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(text)
    }

    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// VmHWM: the most the daemon's resident set has been, since it started.
    func peakRSSMiB() -> Int { Self.statusField("VmHWM:", pid: process.processIdentifier) / 1024 }
    /// VmRSS: its resident set now.
    func rssMiB() -> Int { Self.statusField("VmRSS:", pid: process.processIdentifier) / 1024 }

    private static func statusField(_ name: String, pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return -1024 }
        return kib
    }

    /// The daemon's store filled with `entries` reserve reports from 50 feeds (about 1,160
    /// registers), as the engine commits them, then closed cleanly (its snapshot saved).
    func fill(entries: Int, identity: BenchAlliance.Identity, pki: BenchAlliance) async throws {
        let history = try pki.history(entries: entries, feeds: 50)
        try FileManager.default.createDirectory(
            atPath: "\(directory)/data", withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        var logger = Logger(label: "bench.fill")
        logger.logLevel = .critical
        let engine = try SyncEngine(
            store: try RegistryStore(path: storePath, node: identity.id), key: identity.key,
            certificateChain: [identity.certificate], trustStore: pki.trust, logger: logger)
        for start in stride(from: 0, to: history.entries.count, by: 5000) {
            _ = await engine.ingest(
                Array(history.entries[start..<min(start + 5000, history.entries.count)]),
                certificates: start == 0 ? history.certificates : [], from: engine.node)
        }
        await engine.close()
    }

    /// A reserve report through the admin socket, as `mineralctl reserve set` sends it.
    func localWrite() -> Bool {
        let request = ReserveReportRequest(mineral: "gallium", quantity: "\(Int.random(in: 1...999))", unit: "t", site: nil, asOf: nil, note: nil)
        return (try? AdminClient(socketPath: socket).call(AdminAPI.reportReserve, request)) != nil
    }

    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        return channel.localAddress!.port!
    }
}

/// `GET /v1/status` at a daemon, back to back (a pause of `interval` between), until stopped:
/// latencies, and the entries the last answer counted.
final class StatusProbe: @unchecked Sendable {
    private let socket: String
    private let interval: Double
    private let state = NIOLockedValueBox<(stop: Bool, times: [Double], entries: Int)>((false, [], 0))

    init(socket: String, interval: Double = 0.02) {
        self.socket = socket
        self.interval = interval
    }

    func run() {
        while !state.withLockedValue({ $0.stop }) {
            let start = DispatchTime.now().uptimeNanoseconds
            let status = try? AdminClient(socketPath: socket).call(AdminAPI.status)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            state.withLockedValue {
                $0.times.append(seconds)
                if let status { $0.entries = status.entries }
            }
            if interval > 0 { Thread.sleep(forTimeInterval: interval) }
        }
    }

    /// Runs on a thread of its own (a blocking loop must not hold one of the few threads Swift's
    /// concurrency pool has).
    func start() {
        Thread {
            self.run()
            self.finished.signal()
        }.start()
    }

    /// Stops the loop and waits for its last call.
    func stop() {
        state.withLockedValue { $0.stop = true }
        finished.wait()
    }

    private let finished = DispatchSemaphore(value: 0)

    var entries: Int { state.withLockedValue { $0.entries } }
    var count: Int { state.withLockedValue { $0.times.count } }

    func percentile(_ p: Double) -> Double {
        let times = state.withLockedValue { $0.times }.sorted()
        return times.isEmpty ? .nan : times[min(times.count - 1, Int(Double(times.count) * p))]
    }

    var p99: Double { percentile(0.99) }
}
