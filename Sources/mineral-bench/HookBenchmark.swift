import AdminAPI
import ArgumentParser
import Foundation

/// `mineral-bench hooks`: how soon a notification hook's program starts after an alert is
/// committed, with real daemons. EU/eu-1 raises alerts; JP/jp-1, its peer, runs an `exec` hook
/// (a shell script that records when it started and the event it was given). Latency is from
/// JP's commit (the event's `at`) to the script's first instruction. The baseline, in the same
/// run: the same script started directly by this process (what starting a program costs here).
struct HookBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks", abstract: "Hook delivery latency, commit to program started, with real daemons.")

    @Option(help: "Alerts raised, one every --interval-ms.") var alerts = 1_000
    @Option(help: "Milliseconds between two alerts.") var intervalMs = 20

    func validate() throws {
        guard alerts >= 1, intervalMs >= 0 else { throw ValidationError("need --alerts ≥ 1 and --interval-ms ≥ 0") }
    }

    func run() async throws {
        #if DEBUG
            print("warning: a debug build; run `swift build -c release && .build/release/mineral-bench hooks` for real figures")
        #endif
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mineral-bench-hooks-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let record = "\(scratch)/started.log"
        let script = "\(scratch)/record.sh"
        try """
        #!/bin/sh
        started=$(date +%s%N)
        printf '%s %s\\n' "$started" "$(cat)" >> \(record)
        """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)

        // Baseline: the script started by this process, 100 times.
        var direct: [Double] = []
        for _ in 0..<100 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: script)
            let input = Pipe()
            process.standardInput = input
            let before = Date().timeIntervalSince1970
            try process.run()
            input.fileHandleForWriting.write(Data("{}".utf8))
            try input.fileHandleForWriting.close()
            process.waitUntilExit()
            let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
            direct.append(Double(lines.last!.split(separator: " ")[0])! / 1e9 - before)
        }
        try FileManager.default.removeItem(atPath: record)

        let pki = try BenchAlliance(trustDomain: "critical-minerals")
        let eu = try BenchDaemon(pki: pki, scratch: scratch, identity: try pki.identity("EU", "eu-1"))
        defer { eu.stop() }
        try eu.start()
        let jp = try BenchDaemon(
            pki: pki, scratch: scratch, identity: try pki.identity("JP", "jp-1"), peers: [eu.port],
            extraConfig: """
                hooks:
                  - name: record
                    events: [alert-raised]
                    exec: \(script)
                """)
        defer { jp.stop() }
        try jp.start()
        let client = AdminClient(socketPath: eu.socket)
        let started = Date()
        for index in 0..<alerts {
            _ = try client.call(
                AdminAPI.raiseAlert,
                AlertRaiseRequest(
                    mineral: "gallium", severity: "high", category: "export-restriction",
                    summary: "bench \(index)"))
            try await Task.sleep(for: .milliseconds(intervalMs))
        }
        // The last deliveries may still be under way.
        var lines: [Substring] = []
        let deadline = Date().addingTimeInterval(60)
        repeat {
            lines = ((try? String(contentsOfFile: record, encoding: .utf8)) ?? "").split(separator: "\n")
            if lines.count >= alerts { break }
            try await Task.sleep(for: .milliseconds(100))
        } while Date() < deadline
        let elapsed = Date().timeIntervalSince(started)
        var latencies: [Double] = []
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let startedAt = Double(parts[0]),
                let message = try? AdminJSON.decoder.decode(HookEventMessage.self, from: Data(parts[1].utf8)),
                let committed = AdminJSON.parseDate(message.at)
            else { continue }
            latencies.append(startedAt / 1e9 - committed.timeIntervalSince1970)
        }
        latencies.sort()
        direct.sort()
        func percentile(_ values: [Double], _ p: Double) -> Double {
            values.isEmpty ? .nan : values[min(values.count - 1, Int(Double(values.count) * p))] * 1000
        }
        print(
            String(
                format: "hooks: %d alerts raised at EU, one every %d ms; JP's exec hook ran %d times in %.1f s", alerts, intervalMs, latencies.count, elapsed))
        print(
            String(
                format: "  commit at JP → program started: p50 %6.2f ms   p99 %6.2f ms   max %6.2f ms   goal p99 ≤ 50 ms",
                percentile(latencies, 0.5), percentile(latencies, 0.99), percentile(latencies, 1)))
        print(
            String(
                format: "  baseline, the script started by this process: p50 %6.2f ms   p99 %6.2f ms   (ratio p50 %.2f×)",
                percentile(direct, 0.5), percentile(direct, 0.99), percentile(latencies, 0.5) / percentile(direct, 0.5)))
        print(String(format: "  RSS: EU %d MiB, JP %d MiB", eu.rssMiB(), jp.rssMiB()))
    }
}
