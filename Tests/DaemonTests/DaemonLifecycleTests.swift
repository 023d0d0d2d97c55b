import AdminAPI
import Foundation
import OpenSSLCrypto
import Registry
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One daemon process: config checks, start, admin API refusals, SIGTERM.
@Suite("mineral-syncd process: config, admin API, lifecycle", .serialized)
struct DaemonLifecycleTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("daemon") }

    func run(_ arguments: [String]) async throws -> CommandRun { try await CommandRun.run("mineral-syncd", arguments) }

    @Test func checkConfigAcceptsAGoodConfigAndTheDaemonRefusesABadOneWithTheSameMessages() async throws {
        let port = freePorts(1)[0]
        let node = try DaemonProcess("EU", "eu-1", port: port, peers: [], root: root.url.path, pki: pki, files: files)
        let good = try await run(["check-config", node.configPath])
        #expect(good.status == 0, "\(good.error)")
        #expect(good.output.contains("OK — node EU/eu-1"))

        // A key others can read, and a misspelt key: both named, with their lines.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: files.path("eu-1.key"))
        let text = try String(contentsOfFile: node.configPath, encoding: .utf8).replacingOccurrences(
            of: "anti-entropy-interval", with: "anti-entropy-intervall")
        try text.write(toFile: node.configPath, atomically: true, encoding: .utf8)
        let bad = try await run(["check-config", node.configPath])
        #expect(bad.status == 78)
        let problems = bad.error.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix(node.configPath) }
        #expect(problems.count == 1, "\(bad.error)")
        #expect(problems.contains { $0.contains("sync.anti-entropy-intervall: unknown key") })

        // Fix the key: the file problem is reported next; the daemon refuses with that same line.
        try text.replacingOccurrences(of: "anti-entropy-intervall", with: "anti-entropy-interval").write(
            toFile: node.configPath, atomically: true, encoding: .utf8)
        let keyProblem = try await run(["check-config", node.configPath])
        #expect(keyProblem.status == 78)
        let line = try #require(keyProblem.error.split(separator: "\n").first { $0.contains("tls.private-key") }).trimmingCharacters(in: .whitespaces)
        #expect(line.contains("chmod 600"))
        let refused = try await run(["--config", node.configPath])
        #expect(refused.status == 78)
        #expect(refused.error.contains(line))
        #expect(!FileManager.default.fileExists(atPath: node.socketPath))
    }

    @Test func servesTheAdminAPIRefusesBadRequestsAndStopsCleanlyOnSIGTERM() async throws {
        let node = try DaemonProcess("EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files)
        try await node.start()
        let socketMode = try FileManager.default.attributesOfItem(atPath: node.socketPath)[.posixPermissions] as? Int
        #expect(socketMode == 0o660)

        let written: WriteResponse = try node.client.post(
            "/v1/reserves", ReserveReportRequest(mineral: "gallium", quantity: "120.5", unit: "t", site: "Rotterdam"))
        #expect(written.seq == 1)
        let alert: WriteResponse = try node.client.post(
            "/v1/alerts",
            AlertRaiseRequest(
                mineral: "gallium", severity: "high", category: "export-restriction", summary: "Export licences required from 1 Dec"))
        let reserves: [ReserveItem] = try node.client.get("/v1/reserves")
        #expect(reserves.map(\.quantity) == ["120.5"])
        #expect(reserves.first?.site == "Rotterdam")
        let alerts: [AlertItem] = try node.client.get("/v1/alerts?open=true")
        #expect(alerts.map(\.id) == [alert.id])
        let shown: AlertItem = try node.client.get("/v1/alerts/\(alert.id.prefix(10))")
        #expect(shown.severity == "high")

        // Bad input: a clear 4xx each, nothing written, the daemon keeps serving.
        let cases: [(String, String, Data?, Int, String)] = [
            ("POST", "/v1/reserves", Data("{not json".utf8), 400, "validation"),
            ("POST", "/v1/reserves", try AdminJSON.encoder.encode(ReserveReportRequest(mineral: "unobtainium", quantity: "1")), 400, "validation"),
            ("POST", "/v1/reserves", try AdminJSON.encoder.encode(ReserveReportRequest(mineral: "gallium", quantity: "-3")), 400, "validation"),
            (
                "POST", "/v1/reserves", try AdminJSON.encoder.encode(ReserveReportRequest(mineral: "gallium", quantity: "3", asOf: "yesterday")), 400,
                "validation"
            ),
            (
                "POST", "/v1/alerts",
                try AdminJSON.encoder.encode(AlertRaiseRequest(mineral: "gallium", severity: "apocalyptic", category: "other", summary: "x")), 400, "validation"
            ),
            (
                "POST", "/v1/alerts",
                try AdminJSON.encoder.encode(AlertRaiseRequest(mineral: "gallium", severity: "low", category: "other", summary: "x", expires: "1969-01-01")),
                400, "validation"
            ),
            (
                "POST", "/v1/reserves", try AdminJSON.encoder.encode(ReserveReportRequest(mineral: "gallium", quantity: "3", asOf: "1900-01-01")), 400,
                "validation"
            ),
            ("POST", "/v1/reserves", Data(repeating: 0x20, count: 5 << 20), 413, "too-large"),
            ("GET", "/v1/nowhere", nil, 404, "not-found"),
            ("GET", "/admin", nil, 404, "not-found"),
            ("DELETE", "/v1/status", nil, 405, "method-not-allowed")
        ]
        for (method, path, body, status, code) in cases {
            let response = try node.client.send(method, path, body: body)
            #expect(response.status == status, "\(method) \(path)")
            let error = try? AdminJSON.decoder.decode(ErrorResponse.self, from: response.body)
            #expect(error?.error == code, "\(method) \(path): \(String(decoding: response.body, as: UTF8.self))")
        }
        let unknown = try node.client.send(
            "POST", "/v1/reserves", body: try AdminJSON.encoder.encode(ReserveReportRequest(mineral: "unobtainium", quantity: "1")))
        #expect(String(decoding: unknown.body, as: UTF8.self).contains("unknown mineral \\\"unobtainium\\\""))
        let status = try node.status()
        #expect(status.entries == 2)
        #expect(status.node == "EU/eu-1")

        #expect(try await node.stop() == 0)
        #expect(node.logText.contains("stopped; store closed"))
        #expect(throws: AdminClient.ClientError.self) { try node.status() }

        // Restarted from the same store: everything acknowledged is there.
        try await node.start()
        #expect(try node.status().entries == 2)
        #expect(try await node.stop() == 0)
    }

    @Test func logsJSONLinesAndServesPrometheusMetrics() async throws {
        let ports = freePorts(2)
        let node = try DaemonProcess(
            "EU", "eu-1", port: ports[0], peers: [], root: root.url.path, pki: pki, files: files,
            logFormat: "json", metricsPort: ports[1])
        try await node.start()
        let _: WriteResponse = try node.client.post("/v1/reserves", ReserveReportRequest(mineral: "gallium", quantity: "1"))
        // Every log line is one JSON object with the standard fields.
        let lines = node.logText.split(separator: "\n")
        #expect(lines.count >= 3)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
            #expect(object["level"] != nil && object["msg"] != nil && object["ts"] != nil && object["label"] == "EU/eu-1", "\(line)")
        }
        #expect(lines.contains { $0.contains(#""msg":"node ready""#) })

        // GET /metrics over plain HTTP on the configured address.
        let text = try Self.httpGet(port: ports[1], path: "/metrics")
        #expect(text.contains("mineralsync_entries_held 1"), "\(text)")
        #expect(text.contains("mineralsync_entries_appended_total 1"))
        #expect(text.contains("# TYPE mineralsync_peers_connected gauge"))
        #expect(try Self.httpGet(port: ports[1], path: "/other").contains("metrics are at /metrics"))
        try await node.stop()
    }

    /// A plain HTTP GET on 127.0.0.1 (the metrics endpoint), returning the body.
    static func httpGet(port: Int, path: String) throws -> String {
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
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        return text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    }

    @Test func refusesToStartWhenThePortIsTakenSayingWhich() async throws {
        let port = freePorts(1)[0]
        let first = try DaemonProcess("EU", "eu-1", port: port, peers: [], root: root.url.path, pki: pki, files: files)
        try await first.start()
        let second = try DaemonProcess("US", "us-1", port: port, peers: [], root: root.url.path, pki: pki, files: files)
        let result = try await run(["--config", second.configPath])
        #expect(result.status == 1)
        #expect(result.error.contains("cannot listen for partners on 127.0.0.1:\(port): Address already in use"), "\(result.error)")
        try await first.stop()
    }
}

extension DaemonLifecycleTests {
    /// Two daemons on one data directory would append to one store with two views and two
    /// feed heads. The second is refused, naming the first's pid; once the first stops, or is
    /// killed with -9, the directory can be used again.
    @Test func aSecondDaemonOnTheSameDataDirectoryIsRefusedNamingTheFirstsPid() async throws {
        let ports = freePorts(2)
        let first = try DaemonProcess("EU", "eu-1", port: ports[0], peers: [], root: root.url.path, pki: pki, files: files)
        try await first.start()
        let pid = try #require(first.pid)
        // The same data directory, another port and admin socket.
        let config = try String(contentsOfFile: first.configPath, encoding: .utf8)
            .replacingOccurrences(of: "listen: 127.0.0.1:\(ports[0])", with: "listen: 127.0.0.1:\(ports[1])")
            .replacingOccurrences(of: "socket: ./eu-1/admin.sock", with: "socket: ./second.sock")
        let secondConfig = try root.write("second.yaml", config, mode: 0o644)
        let refused = try await CommandRun.run("mineral-syncd", ["--config", secondConfig], timeout: 15)
        #expect(refused.status == 1)
        #expect(refused.error.contains("cannot use the data directory"), "\(refused.error)")
        #expect(refused.error.contains("in use by another mineral-syncd (pid \(pid))"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: root.path("second.sock")))
        #expect(try first.status().entries == 0)

        // The lock dies with its holder, however it dies.
        #expect(try await first.kill() == 9)
        try await first.start()
        try await first.stop()
        // A clean stop leaves the directory free as well.
        try await first.start()
        #expect(try await first.stop() == 0)
    }
}
