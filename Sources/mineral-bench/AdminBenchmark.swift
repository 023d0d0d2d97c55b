import AdminAPI
import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import OpenSSLCrypto
import Registry
import RegistryStore
import SyncNode

/// `mineral-bench admin`: what an operator's `mineralctl` meets on a busy node, with real
/// daemons. EU/eu-1 starts holding N entries; `GET /v1/status` is timed on it idle (a client
/// on the admin socket, no process start). Then JP/jp-1 joins, empty, dialling EU, and US/us-1
/// dials JP: during JP's catch-up, `status` is timed at EU (the sender) and JP (the receiver),
/// and alerts raised at US every 250 ms are timed until JP's `watch` shows them.
struct AdminBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Admin API latency on an idle node and during a catch-up, and alert propagation meanwhile, with real daemons.")

    @Option(help: "Entries EU holds before JP joins.") var entries = 500_000
    @Option(help: "Seconds of back-to-back status calls on the idle node.") var idleSeconds = 3.0

    func validate() throws {
        guard entries >= 1, idleSeconds > 0 else { throw ValidationError("need --entries ≥ 1 and --idle-seconds > 0") }
    }

    func run() async throws {
        #if DEBUG
            print("warning: a debug build; run `swift build -c release && .build/release/mineral-bench admin` for real figures")
        #endif
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mineral-bench-admin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let pki = try BenchAlliance(trustDomain: "critical-minerals")

        let euIdentity = try pki.identity("EU", "eu-1")
        let eu = try BenchDaemon(pki: pki, scratch: scratch, identity: euIdentity)
        defer { eu.stop() }
        let filling = try await Stopwatch.secondsAsync { try await eu.fill(entries: entries, identity: euIdentity, pki: pki) }
        print(String(format: "EU/eu-1 holds %d entries (50 feeds), written to its store in %.1f s", entries, filling))
        let restart = try Stopwatch.seconds { try eu.start() }
        print(String(format: "  start until status answers: %.2f s   RSS %d MiB", restart, eu.rssMiB()))

        let idle = StatusProbe(socket: eu.socket, interval: 0)
        idle.start()
        try await Task.sleep(for: .seconds(idleSeconds))
        idle.stop()
        print(
            String(
                format: "  status, idle: p50 %.2f ms   p99 %.2f ms   (%d calls)   goal at 1,000,000 entries ≤ 5 ms",
                idle.percentile(0.5) * 1000, idle.p99 * 1000, idle.count))

        let jp = try BenchDaemon(pki: pki, scratch: scratch, identity: try pki.identity("JP", "jp-1"), peers: [eu.port])
        defer { jp.stop() }
        let us = try BenchDaemon(pki: pki, scratch: scratch, identity: try pki.identity("US", "us-1"), peers: [jp.port])
        defer { us.stop() }
        let joined = DispatchTime.now().uptimeNanoseconds
        try jp.start()
        try us.start()
        let arrivals = AlertArrivals()
        let watch = Thread { arrivals.watch(socket: jp.socket) }
        watch.start()
        let atSender = StatusProbe(socket: eu.socket)
        let atReceiver = StatusProbe(socket: jp.socket)
        for probe in [atSender, atReceiver] { probe.start() }
        var raised: [(id: String, at: UInt64)] = []
        let deadline = Date().addingTimeInterval(600)
        while atReceiver.entries < entries, Date() < deadline {
            let start = DispatchTime.now().uptimeNanoseconds
            let request = AlertRaiseRequest(
                mineral: "gallium", severity: "high", category: "export-restriction",
                summary: "bench \(start)")
            if let written = try? AdminClient(socketPath: us.socket).call(AdminAPI.raiseAlert, request) {
                raised.append((written.id, start))
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        let caughtUp = Double(DispatchTime.now().uptimeNanoseconds - joined) / 1e9
        for probe in [atSender, atReceiver] { probe.stop() }
        // The last alerts may still be on their way.
        let latencies = await arrivals.latencies(of: raised, waitingUpTo: 10)
        print(
            String(
                format: "JP/jp-1 joins through EU (US/us-1 dials JP): holds every entry after %.2f s%@", caughtUp,
                (atReceiver.entries < entries ? " (TIMED OUT)" : "") as NSString))
        print(
            String(
                format: "  status at EU (sender):   p50 %6.2f ms   p99 %6.2f ms   max %6.2f ms   (%d calls)   goal p99 ≤ 50 ms",
                atSender.percentile(0.5) * 1000, atSender.p99 * 1000, atSender.percentile(1) * 1000, atSender.count))
        print(
            String(
                format: "  status at JP (receiver): p50 %6.2f ms   p99 %6.2f ms   max %6.2f ms   (%d calls)   goal p99 ≤ 50 ms",
                atReceiver.percentile(0.5) * 1000, atReceiver.p99 * 1000, atReceiver.percentile(1) * 1000, atReceiver.count))
        let arrived = latencies.compactMap { $0 }.sorted()
        if arrived.isEmpty {
            print("  alerts US → JP: none of \(raised.count) arrived")
        } else {
            print(
                String(
                    format: "  alerts US → JP during the catch-up: p50 %6.1f ms   max %6.1f ms   (%d of %d arrived)   goal ≤ 1 s",
                    arrived[arrived.count / 2] * 1000, arrived.last! * 1000, arrived.count, raised.count))
        }
        print(String(format: "  RSS: EU %d MiB, JP %d MiB, US %d MiB", eu.rssMiB(), jp.rssMiB(), us.rssMiB()))
    }
}

/// When each alert showed in a daemon's `watch` stream.
final class AlertArrivals: @unchecked Sendable {
    private let seen = NIOLockedValueBox<[String: UInt64]>([:])

    /// Blocks, reading the watch stream, until the daemon ends it.
    func watch(socket: String) {
        try? AdminClient(socketPath: socket).stream(AdminAPI.watch, query: [("type", "alert")]) { event in
            if let alert = event.alert {
                let now = DispatchTime.now().uptimeNanoseconds
                seen.withLockedValue { if $0[alert.id] == nil { $0[alert.id] = now } }
            }
            return true
        }
    }

    /// Seconds from each raise until it showed, nil for one that did not within the wait.
    func latencies(of raised: [(id: String, at: UInt64)], waitingUpTo seconds: Double) async -> [Double?] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !raised.allSatisfy({ item in seen.withLockedValue { $0[item.id] != nil } }) {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return raised.map { item in seen.withLockedValue { $0[item.id] }.map { Double($0 - item.at) / 1e9 } }
    }
}
