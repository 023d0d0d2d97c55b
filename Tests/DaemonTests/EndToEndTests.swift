import AdminAPI
import Foundation
import TestSupport
import Testing

/// The whole product as an operator runs it: a PKI made by Certs/pki.sh, three mineral-syncd
/// processes, everything driven through mineralctl.
@Suite("end to end: Certs/pki.sh, three daemons, mineralctl", .serialized)
struct EndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let root: TemporaryDirectory

    init() throws { root = try TemporaryDirectory(prefix: "e2e") }

    /// Runs a shell tool (pki.sh, openssl) in the test directory.
    func tool(_ arguments: [String]) async throws -> CommandRun {
        try await CommandRun.run(url: URL(fileURLWithPath: "/usr/bin/env"), arguments, directory: root.url)
    }

    func pki(_ arguments: String...) async throws {
        let run = try await tool(["bash", Self.repository.appendingPathComponent("Certs/pki.sh").path] + arguments)
        #expect(run.status == 0, "pki.sh \(arguments.joined(separator: " ")): \(run.error)")
    }

    func ctl(_ node: DaemonProcess, _ arguments: String...) async throws -> String {
        let run = try await CommandRun.ctl(node, Array(arguments))
        #expect(run.status == 0, "mineralctl \(arguments.joined(separator: " ")): \(run.error)")
        return run.output
    }

    @Test func anAllianceBuiltWithTheShippedToolsConvergesRestartsAndRefusesStrangers() async throws {
        for participant in ["EU", "US", "JP"] {
            try await pki("ca", participant)
            try await pki("node", participant, "\(participant.lowercased())-1")
        }
        for (participant, node) in [("eu", "eu-1"), ("us", "us-1"), ("jp", "jp-1")] {
            let verify = try await tool(["openssl", "verify", "-CAfile", "pki/\(participant)-ca.pem", "pki/\(node).pem"])
            #expect(verify.output.contains("pki/\(node).pem: OK"), "\(verify.error)")
        }
        let anchors = ["EU": "pki/eu-ca.pem", "US": "pki/us-ca.pem", "JP": "pki/jp-ca.pem"]
        let ports = freePorts(4)
        var nodes: [DaemonProcess] = []
        for (index, participant) in ["EU", "US", "JP"].enumerated() {
            let name = "\(participant.lowercased())-1"
            nodes.append(
                try DaemonProcess(
                    participant, name, port: ports[index], peers: ports[0..<3].filter { $0 != ports[index] },
                    root: root.url.path, anchors: anchors, certificate: "pki/\(name).pem", key: "pki/\(name).key"))
        }
        let (eu, us, jp) = (nodes[0], nodes[1], nodes[2])
        for node in nodes {
            #expect(try await CommandRun.run("mineral-syncd", ["check-config", node.configPath]).status == 0)
            try await node.start()
        }
        _ = try await ctl(us, "sync", "--peer", "EU/eu-1", "--wait")
        _ = try await ctl(us, "sync", "--peer", "JP/jp-1", "--wait")

        // US watches; JP raises; the watch prints it.
        let watch = try StreamingCommand("mineralctl", ["--socket", us.socketPath, "watch", "--json"])
        try await us.waitForLog("watch subscribed")
        let id = try await ctl(
            jp, "alert", "raise", "--mineral", "gallium", "--severity", "critical", "--category", "export-restriction",
            "--summary", "Gallium exports halted"
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        let line = try await watch.waitForLine(containing: id, seconds: 20)
        let event = try JSONDecoder().decode(WatchEvent.self, from: Data(line.utf8))
        #expect(event.alert?.issuer == "JP/jp-1")
        watch.stop()

        _ = try await ctl(eu, "reserve", "set", "gallium", "48.5", "--site", "Rotterdam")
        _ = try await ctl(us, "alert", "ack", id, "--note", "US assessing")
        try await converged(nodes, entries: 3)

        // Only the issuer may resolve: US is refused by its own daemon, with the reason; nothing written.
        let resolve = try await CommandRun.ctl(us, ["alert", "resolve", id, "--note", "not ours"])
        #expect(resolve.status == 77)
        #expect(resolve.error == "mineralctl: US/us-1 may not resolve the alert: only JP, which raised the alert, may\n")
        #expect(try us.status().entries == 3)

        // JP restarts after missing writes, and catches up.
        try await jp.stop()
        _ = try await ctl(eu, "reserve", "set", "tungsten", "900")
        _ = try await ctl(us, "reserve", "set", "tungsten", "1400")
        try await jp.start()
        try await converged(nodes, entries: 5)

        // A node whose certificate comes from a CA nobody configured is refused. The rogue trusts
        // the real EU CA too, so it does accept EU's certificate and presents its own: the refusal
        // is EU's. Its CA carries the real EU CA's name, but not its key: the signature fails.
        try await pki("--dir", "rogue", "ca", "EU")
        try await pki("--dir", "rogue", "node", "EU", "eu-9")
        let bothAnchors =
            try String(contentsOfFile: root.path("rogue/eu-ca.pem"), encoding: .utf8)
            + String(contentsOfFile: root.path("pki/eu-ca.pem"), encoding: .utf8)
        try root.write("rogue/anchors.pem", bothAnchors, mode: 0o644)
        let rogue = try DaemonProcess(
            "EU", "eu-9", port: ports[3], peers: [ports[0]], root: root.url.path,
            anchors: ["EU": "rogue/anchors.pem"], certificate: "rogue/eu-9.pem", key: "rogue/eu-9.key")
        let mark = eu.logText.count
        try await rogue.start()
        try await eu.waitForLog("does not verify", after: mark)
        let refusal = String(eu.logText.dropFirst(mark)).split(separator: "\n").first { $0.contains("does not verify") }.map(String.init) ?? ""
        #expect(refusal.contains("closing connection") && refusal.contains("eu-9"), "\(refusal)")
        let status = try JSONDecoder().decode(StatusResponse.self, from: Data(try await ctl(eu, "status", "--json").utf8))
        #expect(
            status.securityEvents.contains { $0.kind == "refused-connection" && $0.detail.contains("eu-9") && $0.detail.contains("does not verify") },
            "\(status.securityEvents)")
        #expect(!status.peers.contains { $0.node == "EU/eu-9" })
        // The rogue's TLS 1.3 handshake completes on its side before EU's refusal arrives, so it
        // may count EU connected for that moment (and at each retry); it never hears from EU.
        #expect(try rogue.status().peers.allSatisfy { $0.connectedSince == nil && $0.lastContact == nil && $0.entriesReceived == 0 })
        try await rogue.stop()

        // JP's certificate is revoked with pki.sh; after SIGHUP, EU drops and refuses it.
        try await pki("revoke", "JP", "pki/jp-1.pem")
        let config = try String(contentsOfFile: eu.configPath, encoding: .utf8).replacingOccurrences(of: "crls: []", with: "crls: [pki/jp.crl]")
        try config.write(toFile: eu.configPath, atomically: true, encoding: .utf8)
        #expect(try await CommandRun.run("mineral-syncd", ["check-config", eu.configPath]).status == 0)
        let beforeReload = eu.logText.count
        eu.hangUp()
        try await eu.waitForLog("closed session: peer certificate no longer trusted", after: beforeReload)
        try await eu.waitForLog("revoked", after: beforeReload)
        let peers = try JSONDecoder().decode([PeerItem].self, from: Data(try await ctl(eu, "peers", "--json").utf8))
        #expect(peers.first { $0.node == "JP/jp-1" }?.state == "disconnected")
        for node in nodes { #expect(try await node.stop() == 0) }
    }

    @Test func thePKIScriptIssuesP256AndAdminCertificatesAndNeverOverwritesAKey() async throws {
        try await pki("ca", "US")
        try await pki("node", "US", "us-2", "--algorithm", "p256")
        let inspect = try await tool(["bash", Self.repository.appendingPathComponent("Certs/pki.sh").path, "inspect", "pki/us-2.pem"])
        #expect(inspect.output.contains("URI:spiffe://critical-minerals/participant/US/node/us-2"))
        #expect(inspect.output.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
        #expect(inspect.output.contains("Digital Signature"))
        #expect(try await tool(["openssl", "pkey", "-in", "pki/us-2.key", "-noout", "-text"]).output.contains("NIST CURVE: P-256"))
        #expect(try await tool(["openssl", "verify", "-CAfile", "pki/us-ca.pem", "pki/us-2.pem"]).status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: root.path("pki/us-2.key"))[.posixPermissions] as? Int
        #expect(mode == 0o600)

        try await pki("admin", "US", "alice")
        let admin = try await tool(["openssl", "x509", "-in", "pki/admin-alice.pem", "-noout", "-ext", "extendedKeyUsage,subjectAltName"])
        #expect(admin.output.contains("TLS Web Client Authentication") && !admin.output.contains("Server Authentication"))
        #expect(admin.output.contains("URI:spiffe://critical-minerals/participant/US/admin/alice"))

        let key = try String(contentsOfFile: root.path("pki/us-2.key"), encoding: .utf8)
        let again = try await tool(["bash", Self.repository.appendingPathComponent("Certs/pki.sh").path, "node", "US", "us-2"])
        #expect(again.status != 0)
        #expect(again.error.contains("refusing to overwrite"))
        #expect(try String(contentsOfFile: root.path("pki/us-2.key"), encoding: .utf8) == key)
        let badName = try await tool(["bash", Self.repository.appendingPathComponent("Certs/pki.sh").path, "node", "us", "US_2"])
        #expect(badName.status != 0 && badName.error.contains("participant \"us\" must be 2–8 of A–Z and 0–9"))
    }

    /// `sync --wait` from every node to every other, then the same digest and entry count everywhere.
    func converged(_ nodes: [DaemonProcess], entries: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for node in nodes {
            for peer in nodes where peer !== node { _ = try await ctl(node, "sync", "--peer", peer.nodeID, "--wait", "--timeout", "60") }
        }
        var statuses: [StatusResponse] = []
        for node in nodes { statuses.append(try JSONDecoder().decode(StatusResponse.self, from: Data(try await ctl(node, "status", "--json").utf8))) }
        #expect(Set(statuses.map(\.viewDigest)).count == 1, sourceLocation: sourceLocation)
        #expect(statuses.map(\.entries) == Array(repeating: entries, count: nodes.count), sourceLocation: sourceLocation)
    }
}

/// A long-running command (mineralctl watch) whose output lines (standard output and standard
/// error apart) a test awaits.
final class StreamingCommand: @unchecked Sendable {
    enum Stream: Sendable { case output, error }

    private let process = Process()
    private let lock = NSLock()
    private var text: [Stream: String] = [.output: "", .error: ""]
    private var waiters: [(Stream, String, Int, CheckedContinuation<String, any Error>)] = []

    convenience init(_ executable: String, _ arguments: [String]) throws {
        try self.init(url: try BuiltExecutable.url(executable), arguments)
    }

    /// Any program (python3 for the browser check).
    init(url: URL, _ arguments: [String], directory: URL? = nil) throws {
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = directory
        for (stream, pipe) in [(Stream.output, Pipe()), (Stream.error, Pipe())] {
            if stream == .output { process.standardOutput = pipe } else { process.standardError = pipe }
            pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                guard let self, !data.isEmpty else {
                    handle.readabilityHandler = nil
                    return
                }
                self.append(String(decoding: data, as: UTF8.self), to: stream)
            }
        }
        try process.run()
    }

    deinit { stop() }

    func stop() { if process.isRunning { process.terminate() } }

    /// Everything `stream` printed so far.
    func printed(_ stream: Stream = .output) -> String { lock.withLock { text[stream]! } }

    /// How much of `stream` has arrived so far (a mark for `waitForLine(after:)`).
    func count(_ stream: Stream = .output) -> Int { lock.withLock { text[stream]!.count } }

    /// The first line of `stream` containing `needle`, after the first `after` characters.
    func waitForLine(containing needle: String, in stream: Stream = .output, after: Int = 0, seconds: Double) async throws -> String {
        try await within(seconds, "a line containing \(needle)") { [self] in
            try await withCheckedThrowingContinuation { continuation in
                let found = lock.withLock { () -> String? in
                    if let line = Self.line(in: text[stream]!, after: after, containing: needle) { return line }
                    waiters.append((stream, needle, after, continuation))
                    return nil
                }
                if let found { continuation.resume(returning: found) }
            }
        }
    }

    /// Waits for the command to exit; returns its status.
    func waitForExit(seconds: Double) async throws -> Int32 {
        let process = self.process
        return try await within(seconds, "the command to exit") {
            try await onThread {
                process.waitUntilExit()
                return process.terminationStatus
            }
        }
    }

    private static func line(in text: String, after: Int, containing needle: String) -> String? {
        text.dropFirst(after).split(separator: "\n").first { $0.contains(needle) }.map(String.init)
    }

    private func append(_ chunk: String, to stream: Stream) {
        let ready = lock.withLock { () -> [(CheckedContinuation<String, any Error>, String)] in
            text[stream]! += chunk
            var ready: [(CheckedContinuation<String, any Error>, String)] = []
            waiters.removeAll { wanted, needle, after, continuation in
                guard wanted == stream, let line = Self.line(in: text[stream]!, after: after, containing: needle) else { return false }
                ready.append((continuation, line))
                return true
            }
            return ready
        }
        for (continuation, line) in ready { continuation.resume(returning: line) }
    }
}
