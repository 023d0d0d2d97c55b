import AdminAPI
import ArgumentParser
import Foundation
import OpenSSLCrypto
import Registry
import SyncProtocol

/// `mineral-bench compare ...`: our side of Benchmarks/compare.sh, one JSON object per run so
/// the script can put it next to pycrdt, Yjs, Serf and OpenSSL's own tools.
struct CompareBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Our side of Benchmarks/compare.sh (prints JSON).",
        subcommands: [Apply.self, CatchUp.self, Propagation.self])

    /// N remote last-writer-wins updates to K keys (reserve reports for K sites), applied one at a time.
    struct Apply: ParsableCommand {
        @Option var updates = 50_000
        @Option var keys = 1_000
        @Option(help: "Passes of the unverified apply, each over fresh state; the median is reported.") var passes = 5
        @Option(help: ArgumentHelp("For profilers: repeat only the unverified path N times.", visibility: .hidden)) var profileUnverified = 0
        @Flag(help: ArgumentHelp("Time decoding, the id hash and folding apart (best of 9, ns per entry).", visibility: .hidden)) var phases = false

        func validate() throws {
            guard passes >= 1, updates >= keys, keys >= 1 else { throw ValidationError("need passes ≥ 1 and updates ≥ keys ≥ 1") }
        }

        func run() throws {
            let (entries, key) = try Workload.overwrites(updates, keys: keys)
            let signed = entries.map(\.signed)
            if phases {
                var best = (Double.infinity, Double.infinity, Double.infinity)
                for _ in 0..<9 {
                    var decoded: [Entry] = []
                    decoded.reserveCapacity(signed.count)
                    let d = try Stopwatch.seconds { for entry in signed { decoded.append(try EntryCodec.decode(entry)) } }
                    let h = Stopwatch.seconds { for entry in signed { _ = entry.id } }
                    let f = Stopwatch.seconds {
                        var views = RegistryViews()
                        for entry in decoded { views.fold(entry) }
                    }
                    best = (min(best.0, d), min(best.1, h), min(best.2, f))
                }
                print(
                    "decode \(Int(best.0 / Double(updates) * 1e9)) ns  (id hash \(Int(best.1 / Double(updates) * 1e9)) ns)  fold \(Int(best.2 / Double(updates) * 1e9)) ns"
                )
                return
            }
            if profileUnverified > 0 {
                for _ in 0..<profileUnverified {
                    var views = RegistryViews()
                    for entry in signed { views.fold(try EntryCodec.decode(entry)) }
                }
                return
            }
            // With signature checks: each update arrives alone, so each costs one verification.
            // As on pycrdt's side, the state outlives the timing: tearing it down is not applying.
            var registry = MineralRegistry()
            let verified = Stopwatch.seconds {
                for entry in signed { precondition(registry.ingest([entry], keys: { _ in key }).accepted.count == 1) }
            }
            precondition(registry.views.reserves.count == keys)
            // Without: decode, check structure, fold (what a CRDT library does per update).
            // Each pass starts from fresh views; the median pass is reported, as the peers' scripts do.
            var times: [Double] = []
            for _ in 0..<passes {
                var views = RegistryViews()
                times.append(
                    try Stopwatch.seconds {
                        for entry in signed { views.fold(try EntryCodec.decode(entry)) }
                    })
                precondition(views.reserves.count == keys)
            }
            let unverified = times.sorted()[times.count / 2]
            print(
                #"{"updates": \#(updates), "keys": \#(keys), "verified_per_s": \#(Int(Double(updates) / verified)), "unverified_per_s": \#(Int(Double(updates) / unverified)), "#
                    + #""unverified_passes_per_s": \#(times.map { Int(Double(updates) / $0) })}"#)
        }
    }

    /// Bytes to bring a peer up to date after 1 update on top of N overwrites, and the full state.
    struct CatchUp: ParsableCommand {
        @Option var overwrites = 100_000
        @Option var keys = 1_000

        func validate() throws {
            guard overwrites >= keys, keys >= 1 else { throw ValidationError("need --overwrites ≥ --keys ≥ 1") }
        }

        func run() throws {
            let (entries, _) = try Workload.overwrites(overwrites + 1, keys: keys)
            let last = entries.last!
            let own = last.signed.body.count + last.signed.signature.count
            let entriesFrame = 4 + (try SyncMessageCodec.encode(.entries([last.signed]))).count
            var vector = VersionVector()
            vector[last.origin] = last.seq - 1
            let vectorFrame = 4 + (try SyncMessageCodec.encode(.vector(vector))).count
            let full = try entries.reduce(0) { $0 + 4 + (try SyncMessageCodec.encode(.entries([$1.signed]))).count }
            let history = entries.reduce(0) { $0 + $1.signed.body.count + $1.signed.signature.count }
            // What a node joining from a checkpoint downloads instead of the history: the state
            // (a statement of each of three participants, the views, the feed's entry at V) in
            // its parts' frames (the certificates sent ahead of it are not counted).
            var views = RegistryViews()
            views.fold(entries)
            let statements = try ["EU/eu-1", "US/us-1", "JP/jp-1"].map { name in
                try SignedStatement.signing(
                    ViewStatement(node: try NodeID(name), vector: views.folded, digest: views.digest, signedAtMillis: 1_790_000_000_000),
                    key: try PrivateKey.generate(), signer: SHA256.hash(Array(name.utf8)))
            }
            let state = try CheckpointState.encode(
                ConvergenceTracker.Checkpoint(vector: views.folded, digest: views.digest, statements: statements),
                views: views.snapshot(alertEntries: []), bases: [last.signed])
            let stateFrames = try CheckpointPart.parts(of: state).reduce(0) { $0 + 4 + (try SyncMessageCodec.encode(.checkpointPart($1))).count }
            print(
                #"{"missing_entry_own_bytes": \#(own), "entries_frame_bytes": \#(entriesFrame), "vector_frame_bytes": \#(vectorFrame), "#
                    + #""full_history_bytes": \#(history), "full_history_frames_bytes": \#(full), "#
                    + #""checkpoint_state_bytes": \#(state.count), "checkpoint_state_frames_bytes": \#(stateFrames)}"#)
        }
    }

    /// Alert propagation across running daemons: watches every admin socket, raises alerts at
    /// rotating nodes, and reports the time from the first node having each alert (its origin,
    /// once committed) to the last, so that no client start-up cost counts on either side.
    struct Propagation: ParsableCommand {
        @Option(help: "Admin sockets of the nodes, comma-separated.") var sockets: String
        @Option var alerts = 30

        func validate() throws {
            guard alerts >= 1, !sockets.split(separator: ",").isEmpty else { throw ValidationError("need --alerts ≥ 1 and at least one socket") }
        }

        func run() throws {
            let clients = sockets.split(separator: ",").map { AdminClient(socketPath: String($0)) }
            let log = WatchLog(nodes: clients.count)
            for (index, client) in clients.enumerated() {
                Thread {
                    try? client.stream(AdminAPI.watch) { event in
                        guard let id = event.alert?.id else { return true }
                        log.record(id, node: index)
                        return true
                    }
                }.start()
            }
            Thread.sleep(forTimeInterval: 1)  // watch subscriptions open (a one-off setup pause, not a measurement)
            var latencies: [Double] = []
            for trial in 0..<alerts {
                let written = try clients[trial % clients.count].call(
                    AdminAPI.raiseAlert,
                    AlertRaiseRequest(
                        mineral: "gallium", severity: "high", category: "export-restriction", summary: "compare \(trial)"))
                guard let (first, last) = log.wait(for: written.id, timeout: 10) else { throw ValidationError("alert \(written.id) did not reach every node") }
                latencies.append(Double(last - first) / 1e6)
            }
            latencies.sort()
            func at(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            print(
                String(
                    format: #"{"nodes": %d, "alerts": %d, "p50_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}"#, clients.count, alerts, at(0.5), at(0.99),
                    latencies.last!))
        }
    }
}

/// Arrival times of alerts at each node's watch stream.
final class WatchLog: @unchecked Sendable {
    private let condition = NSCondition()
    private let nodes: Int
    private var arrivals: [String: [Int: UInt64]] = [:]

    init(nodes: Int) { self.nodes = nodes }

    func record(_ id: String, node: Int) {
        condition.lock()
        if arrivals[id]?[node] == nil { arrivals[id, default: [:]][node] = DispatchTime.now().uptimeNanoseconds }
        condition.broadcast()
        condition.unlock()
    }

    /// When the first and the last node received `id`, or nil after `timeout` seconds.
    func wait(for id: String, timeout: Double) -> (UInt64, UInt64)? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while (arrivals[id]?.count ?? 0) < nodes {
            if !condition.wait(until: deadline) { return nil }
        }
        let times = arrivals[id]!.values
        return (times.min()!, times.max()!)
    }
}

enum Workload {
    /// `count` reserve reports by one remote node, cycling over `keys` sites.
    static func overwrites(_ count: Int, keys: Int) throws -> (entries: [Entry], key: PublicKey) {
        let key = try PrivateKey.generate()
        var author = FeedAuthor(node: try NodeID("EU/eu-1"), key: key)
        let gallium = try MineralID("gallium")
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            let report = ReserveReport(
                participant: "EU", mineral: gallium, site: "site-\(index % keys)",
                quantity: Quantity(amount: try Amount("\(1000 + index % 977).5"), unit: .tonne),
                asOfMillis: 1_790_000_000_000 + UInt64(index))
            let (entry, next) = try author.drafting(.reportReserve(report), now: 1_790_000_000_000 + UInt64(index))
            author = next
            entries.append(entry)
        }
        return (entries, key.publicKey)
    }
}
