import AdminAPI
import Foundation
import OpenSSLCrypto
import PeerTestSupport
import Registry
import TestSupport
import Testing

/// The admin API's responses are a contract (scripts and dashboards read them): every shape is
/// pinned by a fixture in `Docs/admin-api/`, compared byte for byte with what a real daemon
/// sends, after times, ids, digests, ports and the uptime are replaced by placeholders. The
/// fixtures are read as bytes, never decoded with the server's own types.
///
/// After an intended change to a shape, regenerate them and review the diff:
///     MINERALSYNC_UPDATE_FIXTURES=1 swift test --filter AdminContractTests
@Suite("admin API contract: every response shape against its fixture", .serialized)
struct AdminContractTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Docs/admin-api")
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("contract") }

    /// Collects (fixture name, status, raw body) and compares them at the end, all at once.
    final class Recording: @unchecked Sendable {
        var responses: [(name: String, status: Int, body: String)] = []
        func record(_ name: String, _ response: AdminClient.Response, expecting status: Int, sourceLocation: SourceLocation = #_sourceLocation) {
            let body = String(decoding: response.body, as: UTF8.self)
            #expect(response.status == status, "\(name): HTTP \(response.status) \(body)", sourceLocation: sourceLocation)
            responses.append((name, response.status, body))
        }
    }

    static func json(_ value: some Encodable) throws -> Data { try AdminJSON.encoder.encode(value) }

    @Test func everyResponseShapeMatchesItsFixture() async throws {
        let ports = freePorts(5)
        // Statements every second, so that status shows EU's agreement with US once both hold the same.
        let proofs = "proofs:\n  interval: 1s\n"
        let eu = try DaemonProcess("EU", "eu-1", port: ports[0], peers: [ports[1]], root: root.url.path, pki: pki, files: files, extraConfig: proofs)
        let us = try DaemonProcess("US", "us-1", port: ports[1], peers: [], root: root.url.path, pki: pki, files: files, extraConfig: proofs)
        // JP dials a port nobody listens on: no peer is connected.
        let jp = try DaemonProcess("JP", "jp-1", port: ports[2], peers: [ports[3]], root: root.url.path, pki: pki, files: files)
        for node in [us, eu, jp] { try await node.start() }
        try await eu.syncAndWait(with: [us])  // the session is up: every write below is pushed as it is made
        let recording = Recording()
        let client = eu.client

        // A watch at US sees what EU writes, until the last write shows (the graphite alert's
        // resolution). Lines show a register or alert as it is after the batch that changed it, so
        // the fixtures pin lines whose content no batching can change.
        let watched = Task { () throws -> [String] in
            try await onThread {
                var lines: [String] = []
                try us.client.stream("/v1/watch") { line in
                    lines.append(line)
                    return !line.contains("\"resolution\":\"cleared\"")
                }
                return lines
            }
        }
        try await us.waitForLog("watch subscribed")

        // Writes.
        recording.record(
            "write",
            try client.send(
                "POST", "/v1/reserves",
                body: Self.json(
                    ReserveReportRequest(
                        mineral: "gallium", quantity: "120.5", unit: "t", site: "Rotterdam", asOf: "2026-11-01", note: "strategic stock"))), expecting: 201)
        _ = try client.send(
            "POST", "/v1/reserves", body: Self.json(ReserveReportRequest(mineral: "gallium", quantity: "130", site: "Rotterdam", asOf: "2026-11-15")))
        _ = try client.send("POST", "/v1/targets", body: Self.json(TargetRequest(mineral: "gallium", quantity: "200")))
        recording.record(
            "import",
            try client.send(
                "POST", "/v1/reserves/import",
                body: Self.json(
                    ReserveImportRequest(rows: [
                        ReserveReportRequest(mineral: "tungsten", quantity: "900", unit: "t", asOf: "2026-10-01"),
                        ReserveReportRequest(mineral: "germanium", quantity: "800", unit: "kg", site: "Hamburg", asOf: "2026-10-01")
                    ]))), expecting: 201)
        let raised = try client.post(
            "/v1/alerts",
            AlertRaiseRequest(
                mineral: "gallium", severity: "high", category: "export-restriction",
                summary: "Export licences required", region: "CN", expires: "2027-06-30"), as: WriteResponse.self)
        _ = try client.send("POST", "/v1/alerts/\(raised.id.prefix(8))/ack", body: Self.json(NoteRequest(note: "seen")))
        _ = try client.send("POST", "/v1/alerts/\(raised.id)/update", body: Self.json(AlertUpdateRequest(severity: "critical", summary: "Licences refused")))
        let other = try client.post(
            "/v1/alerts", AlertRaiseRequest(mineral: "graphite", severity: "low", category: "logistics", summary: "Port congestion"),
            as: WriteResponse.self)
        _ = try client.send("POST", "/v1/alerts/\(other.id)/resolve", body: Self.json(NoteRequest(note: "cleared")))
        recording.record(
            "sync", try client.send("POST", "/v1/sync", body: Self.json(SyncRequest(peer: "US/us-1", wait: true, timeoutSeconds: 30))),
            expecting: 200)
        try await us.syncAndWait(with: [eu])
        // EU and US compare their views at the 10 entries both hold (status shows it).
        try await eu.waitForLog("entries=10 node=US/us-1")

        // A connection that is not TLS at all: a security event at EU.
        try Self.sendGarbage(to: ports[0])
        try await eu.waitForLog("not a TLS peer")

        // Reads.
        // EU pushed 10 entries; it may send one twice when US's vector crossed a push in flight
        // (the anti-entropy repair), so the fixtures leave that counter out and it is checked here.
        let sent = try eu.status().peers.first { $0.node == "US/us-1" }?.entriesSent ?? 0
        #expect(sent >= 10, "EU sent US \(sent) entries")
        for (name, path) in [
            ("status", "/v1/status"), ("peers", "/v1/peers"), ("minerals", "/v1/minerals"), ("reserves", "/v1/reserves"),
            ("reserve-history", "/v1/reserves/history?mineral=gallium"), ("reserve-totals", "/v1/reserves/totals"), ("targets", "/v1/targets"),
            ("alerts", "/v1/alerts"), ("alert", "/v1/alerts/\(raised.id)")
        ] {
            recording.record(name, try client.send("GET", path, body: nil), expecting: 200)
        }
        let lines = try await within(20, "US's watch lines") { try await watched.value }
        let alertLine = try #require(lines.last { $0.contains("\"type\":\"alert\"") })
        let reserveLine = try #require(lines.first { $0.contains("\"type\":\"reserve\"") && $0.contains("\"tungsten\"") })
        recording.responses.append(("watch-alert", 200, alertLine + "\n"))
        recording.responses.append(("watch-reserve", 200, reserveLine + "\n"))

        // Every error status the API uses, each with its {error, message} body.
        recording.record(
            "error-400-validation", try client.send("POST", "/v1/reserves", body: Self.json(ReserveReportRequest(mineral: "unobtainium", quantity: "1"))),
            expecting: 400)
        recording.record("error-400-invalid-json", try client.send("POST", "/v1/alerts", body: Data("{not json".utf8)), expecting: 400)
        recording.record(
            "error-400-empty-update", try client.send("POST", "/v1/alerts/\(raised.id)/update", body: Self.json(AlertUpdateRequest())), expecting: 400)
        recording.record("error-400-short-prefix", try client.send("GET", "/v1/alerts/abc", body: nil), expecting: 400)
        recording.record(
            "error-403-policy", try us.client.send("POST", "/v1/alerts/\(raised.id)/resolve", body: Self.json(NoteRequest(note: "not ours"))), expecting: 403)
        recording.record("error-404-alert", try client.send("GET", "/v1/alerts/\(String(repeating: "d", count: 64))", body: nil), expecting: 404)
        recording.record(
            "error-404-update-unknown-alert",
            try client.send("POST", "/v1/alerts/deadbeefdeadbeef/update", body: Self.json(AlertUpdateRequest(severity: "low"))), expecting: 404)
        recording.record("error-404-route", try client.send("GET", "/v1/nowhere", body: nil), expecting: 404)
        recording.record(
            "error-404-hook", try client.send("POST", "/v1/hooks/skip", body: Self.json(HookSkipRequest(hook: "pager", event: "alert-raised/x"))),
            expecting: 404)
        recording.record("error-405", try client.send("DELETE", "/v1/targets", body: nil), expecting: 405)
        recording.record("error-409-not-connected", try client.send("POST", "/v1/sync", body: Self.json(SyncRequest(peer: "JP/jp-1"))), expecting: 409)
        recording.record(
            "error-409-no-peers", try jp.client.send("POST", "/v1/sync", body: Self.json(SyncRequest(wait: true, timeoutSeconds: 1))), expecting: 409)
        recording.record("error-413", try client.send("POST", "/v1/reserves", body: Data(repeating: 0x20, count: 5 << 20)), expecting: 413)
        // A peer claims to hold more of JP's feed than JP: writes wait for its proof (503).
        let claimMark = jp.logText.count
        let claimant = try await HostilePeer(identity: try pki.node("US", "us-8"), trust: try pki.trustStore(), port: ports[2])
        try await claimant.hello(VersionVector([try NodeID("JP/jp-1"): 9]))
        try await jp.waitForLog("writes wait for its proof", after: claimMark)
        recording.record(
            "error-503-claimed", try jp.client.send("POST", "/v1/reserves", body: Self.json(ReserveReportRequest(mineral: "gallium", quantity: "1"))),
            expecting: 503)
        await claimant.close()
        // A peer that says hello and then never answers: `sync --wait` gives up with 504.
        let mark = us.logText.count
        let silent = try await HostilePeer(identity: try pki.node("US", "us-9"), trust: try pki.trustStore(), port: ports[1])
        try await silent.hello()
        try await us.waitForLog("session established", after: mark)
        recording.record(
            "error-504-timeout", try us.client.send("POST", "/v1/sync", body: Self.json(SyncRequest(peer: "US/us-9", wait: true, timeoutSeconds: 1))),
            expecting: 504)
        await silent.close()

        for node in [eu, us, jp] { try await node.stop() }
        try Self.compare(recording.responses)
    }

    static func sendGarbage(to port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw AdminClient.ClientError.socket(path: "127.0.0.1:\(port)", reason: "connect failed") }
        let request = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(fd, &buffer, buffer.count) > 0 {}
    }

    /// Compares every response with its fixture (or writes the fixtures when asked to).
    static func compare(_ responses: [(name: String, status: Int, body: String)]) throws {
        let update = ProcessInfo.processInfo.environment["MINERALSYNC_UPDATE_FIXTURES"] == "1"
        for (name, _, body) in responses {
            let normalised = AdminContractNormaliser.normalise(body)
            let file = fixtures.appendingPathComponent("\(name).json")
            if update {
                try normalised.write(to: file, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try String(contentsOf: file, encoding: .utf8)
            #expect(normalised == expected, "\(name).json differs from the response:\n  expected \(expected)  got      \(normalised)")
        }
        if !update {
            let known = Set(responses.map { "\($0.name).json" })
            let unused = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0.hasSuffix(".json") && !known.contains($0) }
            #expect(unused.isEmpty, "fixtures no response checks: \(unused)")
        }
    }
}

/// Replaces what differs from run to run with placeholders: ISO 8601 times, 64-digit hex (ids
/// and digests, numbered by first appearance so that equal ids stay equal), loopback ports,
/// the uptime, and how many entries were sent to a peer (see the test).
enum AdminContractNormaliser {
    static func normalise(_ text: String) -> String {
        var text = replace(#"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"#, in: text) { _ in "<time>" }
        text = replace(#"127\.0\.0\.1:\d+"#, in: text) { _ in "127.0.0.1:<port>" }
        text = replace(#""uptimeSeconds":\d+"#, in: text) { _ in #""uptimeSeconds":<n>"# }
        text = replace(#""entriesSent":\d+"#, in: text) { _ in #""entriesSent":<n>"# }
        // Measured by ping: a few ms either way, or null before the first pong.
        text = replace(#""clockOffsetMillis":(-?\d+|null)"#, in: text) { _ in #""clockOffsetMillis":<ms>"# }
        text = replace(#""roundTripMillis":(\d+|null)"#, in: text) { _ in #""roundTripMillis":<ms>"# }
        var numbers: [String: Int] = [:]
        text = replace("[0-9a-f]{64}", in: text) { hex in
            if numbers[hex] == nil { numbers[hex] = numbers.count + 1 }
            return "<hex\(numbers[hex]!)>"
        }
        return text
    }

    private static func replace(_ pattern: String, in text: String, with replacement: (String) -> String) -> String {
        let expression = try! NSRegularExpression(pattern: pattern)
        var result = ""
        var last = text.startIndex
        for match in expression.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let range = Range(match.range, in: text)!
            result += text[last..<range.lowerBound]
            result += replacement(String(text[range]))
            last = range.upperBound
        }
        return result + text[last...]
    }
}
