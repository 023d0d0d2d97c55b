import AdminAPI
import Foundation
import TestSupport
import Testing

/// `mineralctl dashboard` against real daemons: what it serves and refuses over HTTP, and, where
/// a headless Chromium with Selenium is installed, the page itself: an alert raised at another
/// node appears without a reload, the reserve chart renders, a failing hook is shown, and the
/// page loads with the network to anything but the dashboard blocked.
@Suite("web dashboard with real daemons", .serialized)
struct DashboardProcessTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("dashboard") }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A headless browser can be driven here: Debian's chromium and chromium-driver, Selenium.
    static let browserAvailable: Bool = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"),
            let python = python3
        else { return false }
        return (try? CommandRun.runBlocking(url: python, ["-c", "import selenium"]).status) == 0
    }()

    static let python3: URL? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        .map { URL(fileURLWithPath: $0) }

    /// - Parameter euConfig: more of EU's config (hooks).
    func start(euConfig: String = "") async throws -> (eu: DaemonProcess, jp: DaemonProcess, dashboard: StreamingCommand, port: Int, url: String) {
        let ports = freePorts(2)
        let eu = try DaemonProcess("EU", "eu-1", port: ports[0], peers: [ports[1]], root: root.url.path, pki: pki, files: files, extraConfig: euConfig)
        let jp = try DaemonProcess("JP", "jp-1", port: ports[1], peers: [ports[0]], root: root.url.path, pki: pki, files: files)
        for daemon in [eu, jp] { try await daemon.start() }
        for command in [["reserve", "target", "gallium", "200"], ["reserve", "set", "gallium", "130"], ["reserve", "set", "tungsten", "900", "--unit", "kg"]] {
            #expect(try await CommandRun.ctl(eu, command).status == 0)
        }
        #expect(try await CommandRun.ctl(jp, ["reserve", "set", "gallium", "40"]).status == 0)
        _ = try await eu.syncAndWait(with: [jp])
        let dashboard = try StreamingCommand("mineralctl", ["--socket", eu.socketPath, "dashboard", "--listen", "127.0.0.1:0"])
        let line = try await dashboard.waitForLine(containing: "dashboard: http://127.0.0.1:", seconds: 20)
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init), "\(line)")
        let port = try #require(Int(url.split(separator: ":")[2].prefix { $0.isNumber }), "\(line)")
        return (eu, jp, dashboard, port, url)
    }

    @Test func servesThePageAndTheNodesDataReadOnlyAndOnlyToItsOwnName() async throws {
        let (eu, jp, dashboard, port, url) = try await start()
        // Nothing without the key the printed address carries; the key is exchanged for a cookie.
        let keyless = try RawHTTP.request(port: port, "GET", "/api/status")
        #expect(keyless.status == 401 && !keyless.body.contains("EU/eu-1") && keyless.body.contains("open the address mineralctl dashboard printed"))
        #expect(try RawHTTP.request(port: port, "GET", "/").status == 401)
        #expect(try RawHTTP.request(port: port, "GET", "/?key=0123").status == 403)
        #expect(try RawHTTP.request(port: port, "GET", "/api/status", cookie: "mineralsync-dashboard=0123").status == 401)
        let key = try #require(url.split(separator: "=").last.map(String.init))
        let opened = try RawHTTP.request(port: port, "GET", "/?key=\(key)")
        #expect(opened.status == 303 && opened.headers["location"] == "/")
        #expect(opened.headers["set-cookie"] == "mineralsync-dashboard=\(key); HttpOnly; SameSite=Lax; Path=/")
        let cookie = "mineralsync-dashboard=\(key)"
        let page = try RawHTTP.request(port: port, "GET", "/", cookie: cookie)
        #expect(page.status == 200 && page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["content-security-policy"]?.contains("default-src 'none'; script-src 'self'") == true)
        #expect(page.body.contains("<script src=\"/dashboard.js\""))
        // What is served is what Dashboard/ holds (Scripts/embed-dashboard.py was run after the last change).
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.packageRoot.appendingPathComponent("Dashboard").path) {
            let served = try RawHTTP.request(port: port, "GET", file == "index.html" ? "/" : "/\(file)", cookie: cookie)
            let source = try String(contentsOf: Self.packageRoot.appendingPathComponent("Dashboard/\(file)"), encoding: .utf8)
            #expect(served.status == 200 && served.body == source.trimmingSuffix(while: \.isNewline), "\(file) is stale: run Scripts/embed-dashboard.py")
        }
        // Nothing on the page comes from elsewhere (SVG's namespace is a name, not a place).
        for asset in ["/", "/dashboard.js", "/dashboard.css"] {
            let text = try RawHTTP.request(port: port, "GET", asset, cookie: cookie).body.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
            #expect(!text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"), "\(asset) names another origin")
        }
        let status = try RawHTTP.request(port: port, "GET", "/api/status", cookie: cookie)
        #expect(status.status == 200 && status.headers["cache-control"] == "no-store")
        #expect(try AdminJSON.decoder.decode(StatusResponse.self, from: Data(status.body.utf8)).node == "EU/eu-1")
        let reserves = try AdminJSON.decoder.decode(
            [ReserveItem].self, from: Data(try RawHTTP.request(port: port, "GET", "/api/reserves", cookie: cookie).body.utf8))
        #expect(Set(reserves.map(\.participant)) == ["EU", "JP"])
        // Read-only; addressed by its own name only (a rebinding page cannot reach it); no other paths.
        #expect(try RawHTTP.request(port: port, "POST", "/api/alerts", cookie: cookie).status == 405)
        #expect(try RawHTTP.request(port: port, "POST", "/api/alerts", body: "{}").status == 413, "no request carries a body")
        let rebound = try RawHTTP.request(port: port, "GET", "/api/status", host: "attacker.example:\(port)", cookie: cookie)
        #expect(rebound.status == 421 && !rebound.body.contains("EU/eu-1"))
        #expect(try RawHTTP.request(port: port, "GET", "/api/feeds/cut", cookie: cookie).status == 404)
        #expect(try RawHTTP.request(port: port, "GET", "/../Package.swift", cookie: cookie).status == 404)
        // Events: the node's changes as server-sent events.
        let events = try RawHTTP.stream(port: port, "/api/events", cookie: cookie)
        try events.waitFor("event: open")
        #expect(events.headers["content-type"] == "text/event-stream")
        #expect(
            try await CommandRun.ctl(
                jp,
                [
                    "alert", "raise", "--mineral", "gallium", "--severity", "high", "--category", "logistics",
                    "--summary", "Port closed"
                ]
            ).status == 0)
        let data = try events.waitFor("Port closed")
        #expect(data.hasPrefix("data: {") && data.contains("\"issuer\":\"JP/jp-1\""), "\(data)")
        // A consumption changes days of cover: the rows it changes come over the stream.
        #expect(try await CommandRun.ctl(eu, ["reserve", "consumption", "gallium", "365"]).status == 0)
        let cover = try events.waitFor("\"daysOfCover\":\"130\"")
        #expect(cover.contains("\"participant\":\"EU\"") && cover.contains("\"mineral\":\"gallium\""), "\(cover)")
        events.close()
        // At most 16 event streams at once; one that ends (a closed tab) frees its place at once,
        // whether or not the node has anything to say.
        var open: [RawHTTP.Stream] = []
        for _ in 0..<16 {
            let stream = try RawHTTP.stream(port: port, "/api/events", cookie: cookie)
            try stream.waitFor("event: open")
            open.append(stream)
        }
        let seventeenth = try RawHTTP.request(port: port, "GET", "/api/events", cookie: cookie)
        #expect(seventeenth.status == 429 && seventeenth.body.contains("16 event streams are open already"))
        open.removeFirst().close()
        var reopened = false
        for _ in 0..<100 where !reopened {
            let stream = try RawHTTP.stream(port: port, "/api/events", cookie: cookie)
            // A refused stream answers 429 and closes: waitFor then fails instead of finding "open".
            reopened = (try? stream.waitFor("event: open")) != nil
            if reopened {
                open.append(stream)
            } else {
                stream.close()
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(reopened, "a closed stream's place is given back")
        for stream in open { stream.close() }
        // A bad address is refused before anything is served.
        let bad = try await CommandRun.ctl(eu, ["dashboard", "--listen", "nowhere"])
        #expect(bad.status == 64 && bad.error.contains("--listen \"nowhere\" must be host:port"), "\(bad.error)")
        dashboard.stop()
        for daemon in [eu, jp] { try await daemon.stop() }
    }

    @Test(.enabled(if: browserAvailable, "needs chromium, chromium-driver and Python's selenium"))
    func aHeadlessBrowserShowsAnAlertRaisedAtAnotherNodeWithoutAReload() async throws {
        // EU's pager fails: the page must say so (the people on duty may not be told).
        let pager = root.path("pager.sh")
        try "#!/bin/sh\necho 'the pager gateway is down' >&2\nexit 1\n".write(toFile: pager, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: pager)
        let (eu, jp, dashboard, _, url) = try await start(euConfig: "hooks:\n  - name: pager\n    events: [alert-raised]\n    exec: \(pager)\n")
        let summary = "Smelter fire halts gallium output"
        let shot = root.path("dashboard.png")
        let browser = try StreamingCommand(
            url: Self.python3!,
            [
                "Tests/Browser/dashboard_check.py", "--url", url,
                "--expect-alert-summary", summary, "--expect-warning", "Hook pager is failing on alert-raised/",
                "--screenshot", shot, "--timeout", "30"
            ],
            directory: Self.packageRoot)
        _ = try await browser.waitForLine(containing: "READY", seconds: 90)
        #expect(
            try await CommandRun.ctl(
                jp,
                [
                    "alert", "raise", "--mineral", "gallium", "--severity", "critical", "--category", "production-outage",
                    "--summary", summary
                ]
            ).status == 0)
        let status = try await browser.waitForExit(seconds: 90)
        #expect(status == 0, "the browser check said: \(browser.printed(.error))")
        #expect(browser.printed().contains("OK "))
        #expect(FileManager.default.fileExists(atPath: shot))
        dashboard.stop()
        for daemon in [eu, jp] { try await daemon.stop() }
    }
}

extension String {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var text = self
        while let last = text.last, predicate(last) { text.removeLast() }
        return text
    }
}

/// HTTP/1.1 over a plain socket, for checking exactly what the dashboard answers (a Host
/// header of the test's choosing included).
enum RawHTTP {
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: String
    }

    static func connect(_ port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw POSIXError(.ECONNREFUSED)
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return descriptor
    }

    static func send(_ descriptor: Int32, _ method: String, _ path: String, host: String, cookie: String?, body: String) {
        let cookieLine = cookie.map { "Cookie: \($0)\r\n" } ?? ""
        let request = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n\(cookieLine)Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        _ = request.withCString { write(descriptor, $0, strlen($0)) }
    }

    static func request(port: Int, _ method: String, _ path: String, host: String? = nil, cookie: String? = nil, body: String = "") throws -> Response {
        let descriptor = try connect(port)
        defer { close(descriptor) }
        send(descriptor, method, path, host: host ?? "127.0.0.1:\(port)", cookie: cookie, body: body)
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            received += buffer.prefix(count)
        }
        return parse(String(decoding: received, as: UTF8.self))
    }

    static func parse(_ text: String) -> Response {
        let parts = text.components(separatedBy: "\r\n\r\n")
        let lines = parts[0].components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// An open response whose body is read as it comes.
    final class Stream {
        let descriptor: Int32
        private var text = ""
        private(set) var headers: [String: String] = [:]

        init(descriptor: Int32) { self.descriptor = descriptor }

        /// Reads until a line containing `needle` arrived; returns that line.
        @discardableResult
        func waitFor(_ needle: String) throws -> String {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                if let line = text.components(separatedBy: .newlines).first(where: { $0.contains(needle) }) { return line }
                let count = read(descriptor, &buffer, buffer.count)
                guard count > 0 else { throw POSIXError(.ETIMEDOUT) }
                text += String(decoding: buffer.prefix(count), as: UTF8.self)
                if headers.isEmpty, text.contains("\r\n\r\n") { headers = RawHTTP.parse(text).headers }
            }
        }

        func close() { Glibc.close(descriptor) }
    }

    static func stream(port: Int, _ path: String, cookie: String) throws -> Stream {
        let descriptor = try connect(port)
        send(descriptor, "GET", path, host: "127.0.0.1:\(port)", cookie: cookie, body: "")
        return Stream(descriptor: descriptor)
    }
}
