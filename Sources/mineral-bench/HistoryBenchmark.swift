import AdminAPI
import ArgumentParser
import Foundation
import GRDB

/// `mineral-bench history`: what years of history cost a node, with real daemons. EU/eu-1 holds
/// N reserve reports from 50 feeds (about 1,160 registers); it is started, stopped with SIGTERM
/// and started again, killed with SIGKILL and started again, and started once more with its
/// snapshot taken away (a full replay); then JP/jp-1 joins through it, empty, syncing every
/// entry; then JP/jp-2 joins from the checkpoint EU serves (EU alone is the quorum here: one
/// daemon holds the history). Each start is timed until `GET /v1/status` answers; each join
/// until the new node holds every entry; RSS is read from /proc after each step.
struct HistoryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Daemon RSS, restart time (from a snapshot, after a crash, full replay), join time and store size, with real daemons.")

    @Option(help: "Reserve reports EU holds.") var entries = 1_000_000
    @Flag(inversion: .prefixedNo, help: "Time a fresh node's full join (minutes at 10,000,000 entries).") var join = true
    @Flag(inversion: .prefixedNo, help: "Time a fresh node's join from a checkpoint.") var checkpointJoin = true

    func validate() throws {
        guard entries >= 1 else { throw ValidationError("need --entries ≥ 1") }
    }

    func run() async throws {
        #if DEBUG
            print("warning: a debug build; run `swift build -c release && .build/release/mineral-bench history` for real figures")
        #endif
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mineral-bench-history-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let pki = try BenchAlliance(trustDomain: "critical-minerals")
        let euIdentity = try pki.identity("EU", "eu-1")
        let eu = try BenchDaemon(pki: pki, scratch: scratch, identity: euIdentity)
        defer { eu.stop() }
        let filling = try await Stopwatch.secondsAsync { try await eu.fill(entries: entries, identity: euIdentity, pki: pki) }
        print(
            String(
                format: "EU/eu-1 holds %d reserve reports (50 feeds), written to its store in %.1f s; store %@ on disk",
                entries, filling, Self.megabytes(onDiskAt: eu.storePath) as NSString))

        func started(_ label: String) throws {
            let seconds = try Stopwatch.seconds { try eu.start() }
            let status = try AdminClient(socketPath: eu.socket).call(AdminAPI.status)
            let padded = label.padding(toLength: 44, withPad: " ", startingAt: 0)
            print(String(format: "  %@ %5.2f s   RSS %4d MiB   (%d entries)", padded as NSString, seconds, eu.rssMiB(), status.entries))
        }
        try started("start (from the snapshot saved at close)")
        eu.stop()
        try started("restart after SIGTERM")
        eu.kill()
        try started("restart after SIGKILL")
        eu.stop()
        let queue = try DatabaseQueue(path: eu.storePath)
        try await queue.write { try $0.execute(sql: "DELETE FROM snapshot; DELETE FROM feed_ids") }
        try queue.close()
        try started("restart without a snapshot (full replay)")
        print("  goal: restart ≤ 1 s at 1,000,000 entries (≤ 1.5 s at 10,000,000); RSS ≤ 200 MiB at 1,000,000")
        if join {
            let jp = try BenchDaemon(pki: pki, scratch: scratch, identity: try pki.identity("JP", "jp-1"), peers: [eu.port])
            let joined = try await Self.timeJoin(jp, holding: entries)
            print(String(format: "JP/jp-1 joins through EU, empty, syncing every entry: holds them all after %@ (goal ≤ 3 s at 1,000,000)", joined as NSString))
            print(
                String(
                    format: "  RSS: EU %d MiB, JP %d MiB; JP's store %@ on disk", eu.rssMiB(), jp.rssMiB(),
                    Self.megabytes(onDiskAt: jp.storePath) as NSString))
            jp.stop()
        }
        guard checkpointJoin else { return }
        // EU signs its views every second and, as the whole quorum, makes a checkpoint at once.
        eu.stop()
        let proofs = "proofs: {interval: 1s, quorum: [EU]}"
        let served = try BenchDaemon(pki: pki, scratch: scratch, identity: euIdentity, level: "info", extraConfig: proofs)
        try served.start()
        defer { served.stop() }
        let deadline = Date().addingTimeInterval(600)
        while !served.logged("checkpoint state of \(entries) entries served from now on"), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let joiner = try BenchDaemon(
            pki: pki, scratch: scratch, identity: try pki.identity("JP", "jp-2"), peers: [served.port],
            extraConfig: proofs + "\nsync: {join-from-checkpoint: true}")
        let joined = try await Self.timeJoin(joiner, holding: entries)
        print(
            String(
                format: "JP/jp-2 joins through EU from its checkpoint: holds every entry after %@ (goal ≤ 3 s at 1,000,000, ≤ 5 s at 10,000,000)",
                joined as NSString))
        print(
            String(
                format: "  RSS: EU %d MiB, JP %d MiB; JP's store %@ on disk", served.rssMiB(), joiner.rssMiB(),
                Self.megabytes(onDiskAt: joiner.storePath) as NSString))
        joiner.stop()
    }

    /// Starts `node` (empty) and times until it holds `entries`: "1.23 s", or "TIMED OUT after …".
    static func timeJoin(_ node: BenchDaemon, holding entries: Int) async throws -> String {
        let joining = DispatchTime.now().uptimeNanoseconds
        try node.start()
        let deadline = Date().addingTimeInterval(900)
        var held = 0
        while held < entries, Date() < deadline {
            held = (try? AdminClient(socketPath: node.socket).call(AdminAPI.status))?.entries ?? 0
            if held < entries { try await Task.sleep(for: .milliseconds(20)) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - joining) / 1e9
        return held < entries ? String(format: "TIMED OUT after %.2f s (%d held)", seconds, held) : String(format: "%.2f s", seconds)
    }

    /// The database file and its WAL, in MiB.
    static func megabytes(onDiskAt path: String) -> String {
        let bytes = [path, path + "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int }.reduce(0, +)
        return String(format: "%.0f MiB", Double(bytes) / 1_048_576)
    }
}
