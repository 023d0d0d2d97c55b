import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import OpenSSLTLS
import Registry
import RegistryStore
import SyncNode
import SyncProtocol
import TestSupport

/// `mineral-bench sync`: nodes in this process over loopback TLS, each with its own SQLite
/// store (synchronous=FULL, so every ingest waits for fsync as in production).
/// (a) catch-up of N entries to a fresh node, against validating and storing the same entries
/// with no network (the ceiling); (b) alert propagation to every other node in a 3-node mesh
/// and a 50-node partial mesh; (c) bytes of an anti-entropy round between nodes in sync.
struct SyncBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Catch-up time, alert propagation latency and anti-entropy bytes, over loopback TLS.")

    @Option(help: "Entries for the catch-up test.") var entries = 100_000
    @Option(help: "Alerts timed in the 3-node mesh.") var alerts = 200
    @Option(help: "Nodes in the partial mesh.") var meshNodes = 50
    @Option(help: "Alerts timed in the partial mesh.") var meshAlerts = 40
    @Option(help: "CRLs timed in the partial mesh (installed at one node, until every node has it in force).") var meshRevocations = 10

    func validate() throws {
        // Percentiles of no trial have no value; a mesh of fewer than 3 has no "last node".
        guard entries >= 1, alerts >= 1, meshAlerts >= 1, meshRevocations >= 1, meshNodes >= 3 else {
            throw ValidationError("need --entries, --alerts, --mesh-alerts and --mesh-revocations ≥ 1, and --mesh-nodes ≥ 3")
        }
    }

    func run() async throws {
        #if DEBUG
            print("warning: a debug build; run `swift run -c release mineral-bench sync` for real figures")
        #endif
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mineral-bench-sync-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let pki = try BenchAlliance(trustDomain: "critical-minerals")

        try await catchUp(pki: pki, group: group, scratch: scratch)
        try await propagation(
            nodes: 3, dialling: { index, count in (0..<count).filter { $0 > index } }, trials: alerts,
            pki: pki, group: group, scratch: scratch, goal: "goal p99 ≤ 20 ms")
        let partialMesh = { (index: Int, count: Int) in [(index + 1) % count, (index + 7) % count] }
        try await propagation(
            nodes: meshNodes, dialling: partialMesh, trials: meshAlerts,
            pki: pki, group: group, scratch: scratch, goal: "goal p50 ≤ 50 ms, max ≤ 150 ms")
        try await revocationPropagation(nodes: meshNodes, dialling: partialMesh, trials: meshRevocations, pki: pki, group: group, scratch: scratch)
        antiEntropyBytes(feeds: meshNodes)
        try await group.shutdownGracefully()
    }

    // MARK: (a)

    private func catchUp(pki: BenchAlliance, group: any EventLoopGroup, scratch: String) async throws {
        print("catch-up of \(entries) entries (50 feeds) to a fresh node over loopback TLS")
        let history = try pki.history(entries: entries, feeds: 50)
        // The ceiling: the same entries validated, folded and committed with no network.
        let local = try InProcessNode(bench: pki.identity("US", "ceiling-1"), pki: pki, group: group, directory: "\(scratch)/ceiling")
        let ceiling = try await Stopwatch.secondsAsync {
            for start in stride(from: 0, to: history.entries.count, by: 500) {
                _ = await local.engine.ingest(
                    Array(history.entries[start..<min(start + 500, history.entries.count)]),
                    certificates: start == 0 ? history.certificates : [], from: local.engine.node)
            }
        }
        await local.engine.close()

        let source = try InProcessNode(bench: pki.identity("EU", "source-1"), pki: pki, group: group, directory: "\(scratch)/source")
        for start in stride(from: 0, to: history.entries.count, by: 5000) {
            _ = await source.engine.ingest(
                Array(history.entries[start..<min(start + 5000, history.entries.count)]),
                certificates: start == 0 ? history.certificates : [], from: source.engine.node)
        }
        try await source.node.start()
        let fresh = try InProcessNode(bench: pki.identity("JP", "fresh-1"), pki: pki, group: group, directory: "\(scratch)/fresh")
        try await fresh.node.start()
        let target = source.engine.vector
        let seconds = try await Stopwatch.secondsAsync {
            fresh.node.addPeer(host: "127.0.0.1", port: source.node.boundPort!)
            await fresh.engine.waitUntilHolding(target)
        }
        print(String(format: "  over TLS      %7.2f s  (%8.0f entries/s)   goal ≤ 2 s", seconds, Double(entries) / seconds))
        print(String(format: "  no network    %7.2f s  (%8.0f entries/s)   validate + fold + commit only", ceiling, Double(entries) / ceiling))
        print(String(format: "  catch-up over TLS takes %.2f× the no-network time", seconds / ceiling))
        for node in [source, fresh] { await node.stop() }
        print("")
    }

    // MARK: (b)

    /// `count` nodes, each dialling the ones `dialling` names, connected (a first alert reached
    /// everyone); every commit recorded in `arrivals`.
    private func mesh(
        _ count: Int, dialling: (Int, Int) -> [Int], pki: BenchAlliance, group: any EventLoopGroup, scratch: String,
        arrivals: ArrivalLog
    ) async throws -> (nodes: [InProcessNode], watchers: [Task<Void, Never>]) {
        let participants = ["EU", "US", "JP"]
        var nodes: [InProcessNode] = []
        for index in 0..<count {
            let participant = participants[index % 3]
            nodes.append(
                try InProcessNode(
                    bench: pki.identity(participant, "\(participant.lowercased())-\(index)"), pki: pki, group: group,
                    directory: "\(scratch)/mesh\(count)-\(UUID().uuidString)"))
        }
        for node in nodes { try await node.node.start() }
        var watchers: [Task<Void, Never>] = []
        for node in nodes {
            let stream = await node.engine.subscribe()
            let name = node.engine.node
            watchers.append(
                Task {
                    for await batch in stream { arrivals.record(batch.map(\.id), at: name) }
                })
        }
        for (index, node) in nodes.enumerated() {
            for peer in dialling(index, count) where peer != index { node.node.addPeer(host: "127.0.0.1", port: nodes[peer].node.boundPort!) }
        }
        _ = try await timedAlert(from: nodes[0], to: nodes, arrivals: arrivals, timeout: 60)
        return (nodes, watchers)
    }

    private func propagation(
        nodes count: Int, dialling: (Int, Int) -> [Int], trials: Int, pki: BenchAlliance,
        group: any EventLoopGroup, scratch: String, goal: String
    ) async throws {
        print(
            "alert propagation to all \(count - 1) other nodes, \(count)-node \(count == 3 ? "mesh" : "partial mesh (each dials 2, degree 4)"), \(trials) alerts"
        )
        let arrivals = ArrivalLog()
        let (nodes, watchers) = try await mesh(count, dialling: dialling, pki: pki, group: group, scratch: scratch, arrivals: arrivals)
        var latencies: [Double] = []
        for trial in 0..<trials {
            latencies.append(try await timedAlert(from: nodes[trial % count], to: nodes, arrivals: arrivals, timeout: 10))
        }
        print("  last node has it: " + Self.percentiles(latencies) + "   \(goal)")
        for watcher in watchers { watcher.cancel() }
        for node in nodes { await node.stop() }
        print("")
    }

    static func percentiles(_ seconds: [Double]) -> String {
        let sorted = seconds.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000 }
        return String(format: "p50 %6.2f ms   p99 %6.2f ms   max %6.2f ms", percentile(0.5), percentile(0.99), sorted.last! * 1000)
    }

    /// A CRL installed at one node (as SIGHUP does), timed until every node has it in force.
    private func revocationPropagation(
        nodes count: Int, dialling: (Int, Int) -> [Int], trials: Int, pki: BenchAlliance,
        group: any EventLoopGroup, scratch: String
    ) async throws {
        print("CRL propagation: installed at one node of the \(count)-node partial mesh until every node has it in force, \(trials) CRLs")
        let arrivals = ArrivalLog()
        let (nodes, watchers) = try await mesh(count, dialling: dialling, pki: pki, group: group, scratch: scratch, arrivals: arrivals)
        // Each node records, by the CRL's hash, when it put a CRL in force.
        for node in nodes {
            let name = node.engine.node
            node.engine.onTrustChanged { trust in arrivals.record(trust.crls.map { SHA256.hash($0.der) }, at: name) }
        }
        var latencies: [Double] = []
        let issued = Date(timeIntervalSinceNow: -3600)
        for trial in 0..<trials {
            // Each newer than the last (CRL times are in whole seconds).
            let crl = try pki.issuers["US"]!.revocationList(revoking: [UInt64(900_000 + trial)], lastUpdate: issued.addingTimeInterval(Double(trial)))
            let origin = nodes[(trial * 7) % count]
            let start = DispatchTime.now().uptimeNanoseconds
            await origin.engine.takeRevocations([crl.der], from: nil)
            let last = try await arrivals.waitForAll(SHA256.hash(crl.der), count: count, timeout: 30)
            latencies.append(Double(last - start) / 1e9)
        }
        print("  every node has it in force: " + Self.percentiles(latencies) + "   goal ≤ 2 anti-entropy intervals (20 s), p50 ≤ 1 s")
        for watcher in watchers { watcher.cancel() }
        for node in nodes { await node.stop() }
        print("")
    }

    /// Raises an alert at `origin` and returns the seconds until every other node committed it.
    private func timedAlert(from origin: InProcessNode, to nodes: [InProcessNode], arrivals: ArrivalLog, timeout: Double) async throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        let entry = try await origin.engine.append(
            .raiseAlert(
                AlertRaise(
                    mineral: try MineralID("gallium"), severity: .high,
                    category: .exportRestriction, summary: "bench \(start)")))
        let last = try await arrivals.waitForAll(entry.id, count: nodes.count, timeout: timeout)
        return Double(last - start) / 1e9
    }

    // MARK: (c)

    private func antiEntropyBytes(feeds: Int) {
        var vector = VersionVector()
        for index in 0..<feeds {
            let participant = ["EU", "US", "JP"][index % 3]
            vector[try! NodeID(participant: participant, name: "\(participant.lowercased())-\(index)")] = UInt64(100_000 + index)
        }
        let frame = 4 + ((try? SyncMessageCodec.encode(.vector(vector)))?.count ?? 0)
        // TLS 1.3 adds a 5-byte record header, the inner content type and a 16-byte tag per record.
        let onWire = frame + 22
        print("anti-entropy round between nodes in sync, \(feeds) feeds (seqs ~100,000, node names like eu-12)")
        print(
            String(
                format: "  vector frame %d bytes, %d with TLS record: %.1f bytes per feed   goal ≤ 32 per feed plus framing",
                frame, onWire, Double(frame - 4) / Double(feeds)))
    }
}

/// When each node committed each entry, for propagation timing.
final class ArrivalLog: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [EntryID: [NodeID: UInt64]] = [:]
    private var waiters: [(EntryID, Int, CheckedContinuation<UInt64, Never>)] = []

    func record(_ ids: [EntryID], at node: NodeID) {
        let now = DispatchTime.now().uptimeNanoseconds
        let ready = lock.withLock { () -> [(CheckedContinuation<UInt64, Never>, UInt64)] in
            for id in ids where seen[id]?[node] == nil { seen[id, default: [:]][node] = now }
            var ready: [(CheckedContinuation<UInt64, Never>, UInt64)] = []
            waiters.removeAll { id, count, continuation in
                guard let times = seen[id], times.count >= count else { return false }
                ready.append((continuation, times.values.max()!))
                return true
            }
            return ready
        }
        for (continuation, time) in ready { continuation.resume(returning: time) }
    }

    /// The time the last of `count` nodes (the origin included) committed `id`.
    func waitForAll(_ id: EntryID, count: Int, timeout: Double) async throws -> UInt64 {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<UInt64, Never>) in
            let done = lock.withLock { () -> UInt64? in
                if let times = seen[id], times.count >= count { return times.values.max()! }
                waiters.append((id, count, continuation))
                return nil
            }
            if let done { continuation.resume(returning: done) }
            // A guard against a broken build hanging the benchmark.
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                let expired = lock.withLock { () -> CheckedContinuation<UInt64, Never>? in
                    guard let index = waiters.firstIndex(where: { $0.0 == id }) else { return nil }
                    return waiters.remove(at: index).2
                }
                expired?.resume(returning: 0)
            }
        }
        guard result > 0 else { throw BenchTimeout(id: id) }
        return result
    }
}

struct BenchTimeout: Error, CustomStringConvertible {
    let id: EntryID
    var description: String { "entry \(id) did not reach every node in time" }
}

extension InProcessNode {
    /// A node of the benchmark alliance: the daemon's default timing (not the tests' quick
    /// anti-entropy), logging nothing below critical.
    convenience init(bench identity: BenchAlliance.Identity, pki: BenchAlliance, group: any EventLoopGroup, directory: String) throws {
        try self.init(
            identity.id.participant.description, identity.id.name, pki: pki.pki, group: group, logLevel: .critical,
            directory: URL(fileURLWithPath: directory), identity: identity, trust: pki.trust
        ) { $0 = SyncNode.Configuration(listenHost: "127.0.0.1", listenPort: 0, peers: []) }
    }
}

/// The benchmark alliance: TestSupport's PKI (one CA per participant, node identities on
/// demand, the same one the tests use), plus a signed history for catch-up.
final class BenchAlliance: @unchecked Sendable {
    typealias Identity = TestNode

    let pki: TestPKI
    let trust: TrustStore
    var trustDomain: String { pki.trustDomain }
    var issuers: [String: CertificateIssuer] { pki.authorities }

    init(trustDomain: String) throws {
        pki = try TestPKI(trustDomain: trustDomain, authorityName: { "\($0) bench CA" })
        trust = try pki.trustStore()
    }

    /// A node of `participant` with a fresh key, valid from the epoch (the histories and floods
    /// date their entries with small clocks).
    func identity(_ participant: String, _ name: String) throws -> Identity { try pki.node(participant, name) }

    /// `entries` reserve reports spread over `feeds` origin nodes, feed order preserved.
    func history(entries: Int, feeds: Int) throws -> (entries: [SignedEntry], certificates: [OriginCertificate]) {
        var authors: [FeedAuthor] = []
        var certificates: [OriginCertificate] = []
        for index in 0..<feeds {
            let participant = ["EU", "US", "JP"][index % 3]
            let identity = try identity(participant, "origin-\(index)")
            authors.append(FeedAuthor(node: identity.id, key: identity.key))
            certificates.append(OriginCertificate(node: identity.id, chain: [identity.certificate.der]))
        }
        let minerals = try ["gallium", "germanium", "graphite", "tungsten"].map { try MineralID($0) }
        // Feed by feed, as a catch-up stream sends them (one signature check per contiguous run).
        var signed: [SignedEntry] = []
        signed.reserveCapacity(entries)
        for feed in 0..<feeds {
            for index in stride(from: feed, to: entries, by: feeds) {
                let report = ReserveReport(
                    participant: authors[feed].node.participant, mineral: minerals[index % minerals.count],
                    site: "site-\(index % 97)", quantity: Quantity(amount: try Amount("\(index).5"), unit: .tonne),
                    asOfMillis: 1_790_000_000_000 + UInt64(index))
                let (entry, next) = try authors[feed].drafting(.reportReserve(report), now: 1_790_000_000_000 + UInt64(index))
                authors[feed] = next
                signed.append(entry.signed)
            }
        }
        return (signed, certificates)
    }
}
