import AdminAPI
import Foundation
import PeerTestSupport
import Registry
import SyncProtocol
import TestSupport
import Testing

/// mineralctl as a subprocess against a daemon started by the test: every command, in text
/// and in --json, and the refusals a person must be able to act on.
@Suite("mineralctl against a running daemon", .serialized)
struct MineralctlTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("ctl") }

    func ok(_ node: DaemonProcess, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let run = try await CommandRun.ctl(node, arguments)
        #expect(run.status == 0, "mineralctl \(arguments.joined(separator: " ")): \(run.error)", sourceLocation: sourceLocation)
        #expect(!run.output.contains("\u{1B}["), "no colour when stdout is not a terminal", sourceLocation: sourceLocation)
        return run.output
    }

    func json<T: Decodable>(_ type: T.Type, _ node: DaemonProcess, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> T {
        let text = try await ok(node, arguments + ["--json"], sourceLocation: sourceLocation)
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    func refused(_ node: DaemonProcess, _ arguments: [String], status: Int32, saying: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let run = try await CommandRun.ctl(node, arguments)
        #expect(run.status == status, "mineralctl \(arguments.joined(separator: " ")) → \(run.status): \(run.error)", sourceLocation: sourceLocation)
        #expect(run.error.contains(saying), "\(run.error)", sourceLocation: sourceLocation)
        #expect(run.error.split(separator: "\n").count == 1, "one line: \(run.error)", sourceLocation: sourceLocation)
    }

    @Test func everyCommandInTextAndJSON() async throws {
        let eu = try DaemonProcess("EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files)
        try await eu.start()

        #expect(try await ok(eu, ["status"]).contains("EU/eu-1 (participant EU)"))
        let minerals = try await json([MineralItem].self, eu, ["minerals"])
        #expect(minerals.contains { $0.id == "gallium" && $0.hsCodes == ["8112.92"] })
        let table = try await ok(eu, ["minerals"])
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("gallium") && $0.contains("8112.92") }, "\(table)")

        #expect(
            try await ok(eu, ["reserve", "set", "gallium", "120.5", "--unit", "t", "--site", "Rotterdam", "--as-of", "2026-11-01", "--note", "stock"])
                .contains("reported gallium 120.5 t at Rotterdam"))
        #expect(try await json(WriteResponse.self, eu, ["reserve", "set", "germanium", "800", "--unit", "kg"]).seq == 2)
        #expect(try await ok(eu, ["reserve", "target", "gallium", "200"]).contains("target for gallium set to 200 t"))
        #expect(try await json(WriteResponse.self, eu, ["reserve", "target", "germanium", "2", "--unit", "t"]).seq == 4)
        #expect(try await ok(eu, ["reserve", "set", "gallium", "130", "--site", "Rotterdam"]).contains("reported"))

        // JSON shapes are a contract: exactly these keys.
        let listed = try await ok(eu, ["reserve", "list", "--mineral", "gallium", "--json"])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        #expect(objects.count == 1)
        #expect(
            Set(objects[0].keys) == [
                "participant", "mineral", "site", "quantity", "unit", "asOf", "reportedBy", "target", "coverage", "note",
                "form", "basis", "withheld", "withheldReason", "entry", "revises", "annualConsumption", "daysOfCover"
            ])
        #expect(objects[0]["coverage"] as? String == "0.65")
        #expect(try await ok(eu, ["reserve", "list", "--participant", "EU"]).contains("Rotterdam"))
        let history = try await json([ReserveItem].self, eu, ["reserve", "history", "gallium"])
        #expect(history.map(\.quantity) == ["120.5", "130"])
        #expect(try await ok(eu, ["reserve", "history", "gallium"]).contains("120.5 t"))

        // Import: all or nothing, a bad row named by its line.
        let good = try root.write("good.csv", "mineral,quantity,unit,site,as_of\ntungsten,10,t,\"Site A, North\",2026-10-01\n\nantimony,5.5,kg,,\n")
        #expect(try await ok(eu, ["reserve", "import", good]).contains("imported 2 reserve reports"))
        let entriesBefore = try eu.status().entries
        let bad = try root.write("bad.csv", "mineral,quantity,unit,site,as_of\ntungsten,10,t,,\nunobtainium,1,t,,\ngallium,3,t,,\n")
        try await refused(eu, ["reserve", "import", bad], status: 65, saying: "bad.csv line 3: unknown mineral \"unobtainium\"")
        #expect(try eu.status().entries == entriesBefore)

        // Alerts.
        let id = try await ok(
            eu,
            [
                "alert", "raise", "--mineral", "gallium", "--severity", "high", "--category", "export-restriction",
                "--summary", "Licences required", "--region", "CN", "--expires", "2027-06-30"
            ]
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))
        let raised = try await json(
            [String: String].self, eu, ["alert", "raise", "--mineral", "graphite", "--severity", "low", "--category", "logistics", "--summary", "Slow port"])
        #expect(raised["id"]?.count == 64)
        #expect(try await ok(eu, ["alert", "ack", String(id.prefix(10)), "--note", "seen"]).contains("acknowledged"))
        #expect(try await json(WriteResponse.self, eu, ["alert", "update", id, "--severity", "critical", "--summary", "Licences refused"]).seq > 0)
        let open = try await json([AlertItem].self, eu, ["alert", "list", "--open", "--mineral", "gallium", "--min-severity", "high"])
        #expect(open.map(\.id) == [id])
        #expect(open[0].severity == "critical")
        #expect(open[0].acknowledgedBy == ["EU"])
        let alertObjects = try #require(try JSONSerialization.jsonObject(with: Data(try await ok(eu, ["alert", "list", "--json"]).utf8)) as? [[String: Any]])
        #expect(
            Set(alertObjects[0].keys) == [
                "id", "mineral", "severity", "category", "region", "summary", "issuer", "raisedAt", "updatedAt",
                "expiresAt", "acknowledgedBy", "resolved", "resolution"
            ])
        #expect(alertObjects.contains { $0["resolution"] is NSNull }, "absent values are null, not missing")
        #expect(try await ok(eu, ["alert", "list"]).contains(String(id.prefix(12))))
        #expect(try await ok(eu, ["alert", "show", id]).contains("Licences refused"))
        #expect(try await json(AlertItem.self, eu, ["alert", "show", id]).region == "CN")
        #expect(try await ok(eu, ["alert", "resolve", id, "--note", "licences granted"]).contains("resolved"))
        #expect(try await json([AlertItem].self, eu, ["alert", "list", "--open"]).map(\.id) == [raised["id"]!])

        // Status, peers, sync with no peers.
        let status = try await json(StatusResponse.self, eu, ["status"])
        #expect(status.node == "EU/eu-1")
        #expect(status.entries == 12)
        #expect(status.versionVector == ["EU/eu-1": 12])
        #expect(try await ok(eu, ["peers"]).contains("(none)"))
        #expect(try await json([PeerItem].self, eu, ["peers"]).isEmpty)
        #expect(try await ok(eu, ["sync"]).contains("no connected peers"))
        try await refused(eu, ["sync", "--wait"], status: 75, saying: "no peer is connected")
        // Global options work before the command too, and MINERAL_SYNC_SOCKET stands in for --socket.
        #expect(try await CommandRun.run("mineralctl", ["--json", "--socket", eu.socketPath, "status"]).output.contains("\"node\" : \"EU/eu-1\""))
        #expect(try await CommandRun.run("mineralctl", ["status"], environment: ["MINERAL_SYNC_SOCKET": eu.socketPath]).status == 0)
        try await eu.stop()
    }

    @Test func refusalsAreOneActionableLineAndWriteNothing() async throws {
        let eu = try DaemonProcess("EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files)
        try await eu.start()
        try await refused(eu, ["reserve", "set", "unobtainium", "5"], status: 65, saying: "unknown mineral \"unobtainium\"")
        try await refused(eu, ["reserve", "set", "gallium", "--", "-5"], status: 65, saying: "must be a non-negative decimal")
        try await refused(eu, ["reserve", "set", "gallium", "5", "--unit", "lb"], status: 65, saying: "unit \"lb\" must be t or kg")
        try await refused(eu, ["reserve", "set", "gallium", "5", "--as-of", "last tuesday"], status: 65, saying: "must be a date such as 2026-11-26")
        // A date in the future is refused at the author (past ones are back-filled history).
        let tomorrow = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400))
        try await refused(eu, ["reserve", "set", "gallium", "5", "--as-of", tomorrow], status: 65, saying: "is in the future (this node's clock says")
        try await refused(
            eu, ["alert", "raise", "--mineral", "gallium", "--severity", "apocalyptic", "--category", "other", "--summary", "x"],
            status: 65, saying: "severity \"apocalyptic\" must be one of")
        try await refused(
            eu, ["alert", "raise", "--mineral", "gallium", "--severity", "low", "--category", "other", "--summary", "x", "--expires", "soon"],
            status: 65, saying: "expires \"soon\" must be a date")
        try await refused(eu, ["alert", "show", "deadbeefdeadbeef"], status: 1, saying: "no alert with id starting deadbeefdeadbeef")
        try await refused(eu, ["reserve", "import", root.path("missing.csv")], status: 65, saying: "cannot read the file")
        // Fields beyond what every receiver accepts are refused before anything is signed.
        try await refused(
            eu, ["reserve", "set", "gallium", "5", "--site", String(repeating: "s", count: 300)], status: 65, saying: "site is longer than 128 bytes")
        try await refused(
            eu, ["alert", "raise", "--mineral", "gallium", "--severity", "low", "--category", "other", "--summary", String(repeating: "x", count: 5000)],
            status: 65, saying: "summary is longer than 4096 bytes")
        try await refused(
            eu,
            [
                "alert", "raise", "--mineral", "gallium", "--severity", "low", "--category", "other", "--summary", "x", "--region",
                String(repeating: "r", count: 129)
            ],
            status: 65, saying: "region is longer than 128 bytes")
        try await refused(
            eu, ["reserve", "set", "gallium", "5", "--note", String(repeating: "n", count: 2049)], status: 65, saying: "note is longer than 2048 bytes")
        #expect(try eu.status().entries == 0)
        try await eu.stop()
        try await refused(eu, ["status"], status: 69, saying: "the node is not running")
    }

    /// What an operator sees of a partner that broke the protocol: the penalty in `peers`, a
    /// security event in `status`, and the reason in one log line.
    @Test func aPartnerThatBreaksTheRulesIsShownPenalized() async throws {
        let port = try freePorts(1)[0]
        let eu = try DaemonProcess("EU", "eu-1", port: port, peers: [], root: root.url.path, pki: pki, files: files)
        try await eu.start()
        let attacker = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: port)
        try await attacker.hello()
        var author = attacker.identity.author()
        let entry = author.write(Ops.report("JP"), at: 1).signed
        try await attacker.send(.entries([SignedEntry(body: entry.body, signature: Array(repeating: 0xAB, count: 1 << 20))]))
        _ = try await attacker.untilClosed()
        try await eu.waitForLog("peer penalized")
        let table = try await ok(eu, ["peers"])
        #expect(table.contains("JP/jp-666") && table.contains("penalized until"), "\(table)")
        #expect(table.contains("1048576-byte signature"))
        let peers = try await json([PeerItem].self, eu, ["peers"])
        #expect(peers.first?.offences == 1 && peers.first?.penalizedUntil != nil)
        let status = try await json(StatusResponse.self, eu, ["status"])
        #expect(
            status.securityEvents.contains {
                $0.kind == "penalized" && $0.subject == "JP/jp-666" && $0.detail.contains("1 offence; last: message exceeds a limit")
            })
        // Back at once: refused, and the refusal is a security event too.
        let again = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: port)
        _ = try await again.untilClosed()
        let after = try await json(StatusResponse.self, eu, ["status"])
        #expect(after.securityEvents.contains { $0.kind == "refused-connection" && $0.detail.contains("JP/jp-666 is refused until") })
        #expect(eu.logText.split(separator: "\n").filter { $0.contains("peer penalized") }.count == 1)
        try await eu.stop()
    }

    /// Import files as they come from spreadsheets and hands: each malformed one refused with
    /// the line and what is wrong, nothing written; the forms RFC 4180 allows are read.
    @Test func malformedImportFilesAreRefusedByLineAndWellFormedOnesRead() async throws {
        let eu = try DaemonProcess("EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files)
        try await eu.start()
        let header = "mineral,quantity,unit,site,as_of\n"
        let refusals: [(String, String, String)] = [
            ("unclosed.csv", header + "gallium,5,t,\"Rotterdam,\n", "unclosed.csv line 2: a quoted field is not closed"),
            ("after-quote.csv", header + "gallium,5,t,\"Rotterdam\" North,\n", "after-quote.csv line 2: text after the closing quote"),
            ("inner-quote.csv", header + "gallium,5,t,Rotter\"dam,\n", "inner-quote.csv line 2: a quote inside an unquoted field"),
            (
                "columns.csv", header + "gallium,5,t,Rotterdam,2026-11-01,extra\n",
                "columns.csv line 2: expected columns mineral,quantity,unit,site,as_of, found 6 fields"
            ),
            ("one-column.csv", header + "gallium\n", "one-column.csv line 2: expected columns"),
            ("empty.csv", "", "empty.csv: no rows to import"),
            ("header-only.csv", header, "header-only.csv: no rows to import"),
            ("quantity.csv", header + "gallium,5,t,,\n\ntungsten,1e3,t,,\n", "quantity.csv line 4: quantity \"1e3\" must be a non-negative decimal"),
            ("date.csv", header + "gallium,5,t,,11/01/2026\n", "date.csv line 2: asOf \"11/01/2026\" must be a date"),
            ("multiline.csv", header + "gallium,5,t,\"Site\nNorth\",\nunobtainium,1,t,,\n", "multiline.csv line 4: unknown mineral \"unobtainium\"")
        ]
        for (name, content, message) in refusals {
            let path = try root.write(name, content)
            try await refused(eu, ["reserve", "import", path], status: 65, saying: message)
        }
        let latin1 = root.path("latin1.csv")
        try Data(header.utf8 + [0x67, 0x61, 0x6C, 0x6C, 0x69, 0x75, 0x6D, 0x2C, 0x35, 0x2C, 0x74, 0x2C, 0xE9, 0x2C, 0x0A]).write(
            to: URL(fileURLWithPath: latin1))
        try await refused(eu, ["reserve", "import", latin1], status: 65, saying: "latin1.csv: not UTF-8 text")
        #expect(try eu.status().entries == 0)

        // A byte-order mark, CRLF line ends, a quoted comma, a doubled quote and a field over two lines.
        let good = try root.write(
            "excel.csv",
            "\u{FEFF}mineral,quantity,unit,site,as_of\r\ngallium,5,t,\"Depot \"\"A\"\", North\",2026-11-01\r\ntungsten,7,kg,\"Line 1\nLine 2\",\r\n")
        #expect(try await ok(eu, ["reserve", "import", good]).contains("imported 2 reserve reports"))
        let reserves = try await json([ReserveItem].self, eu, ["reserve", "list"])
        #expect(Set(reserves.map(\.site)) == ["Depot \"A\", North", "Line 1\nLine 2"])
        try await eu.stop()
    }

    /// `watch` outlives a restart of the node: it says it lost the node, connects again when the
    /// node is back, and goes on printing. With --no-reconnect it ends with status 69.
    @Test func watchReconnectsWhenTheNodeRestarts() async throws {
        let eu = try DaemonProcess("EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files)
        try await eu.start()
        let watch = try StreamingCommand("mineralctl", ["--socket", eu.socketPath, "watch", "--json"])
        let once = try StreamingCommand("mineralctl", ["--socket", eu.socketPath, "watch", "--no-reconnect"])
        try await eu.waitForLog("watch subscribed")
        _ = try await ok(eu, ["alert", "raise", "--mineral", "gallium", "--severity", "low", "--category", "other", "--summary", "before the restart"])
        _ = try await watch.waitForLine(containing: "before the restart", seconds: 20)

        try await eu.stop()
        _ = try await watch.waitForLine(containing: "lost the node at \(eu.socketPath)", in: .error, seconds: 20)
        #expect(try await once.waitForExit(seconds: 20) == 69)
        _ = try await once.waitForLine(containing: "stopped; watch ends", in: .error, seconds: 5)

        let mark = eu.logText.count
        try await eu.start()
        try await eu.waitForLog("watch subscribed", after: mark, seconds: 30)
        _ = try await watch.waitForLine(containing: "watching \(eu.socketPath) again", in: .error, seconds: 20)
        _ = try await ok(eu, ["alert", "raise", "--mineral", "gallium", "--severity", "low", "--category", "other", "--summary", "after the restart"])
        let line = try await watch.waitForLine(containing: "after the restart", seconds: 20)
        #expect(try JSONDecoder().decode(WatchEvent.self, from: Data(line.utf8)).alert?.issuer == "EU/eu-1")

        // Killed outright, the same.
        let errors = watch.count(.error)
        #expect(try await eu.kill() == 9)
        _ = try await watch.waitForLine(containing: "lost the node", in: .error, after: errors, seconds: 20)
        watch.stop()
    }

    /// `watch --only alert` is for a duty officer: alerts, and no reserve reports; a kind that
    /// does not exist is refused, naming the kinds.
    @Test func watchOnlyAlertsLeavesReserveReportsOut() async throws {
        let eu = try DaemonProcess("EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files)
        try await eu.start()
        let alerts = try StreamingCommand("mineralctl", ["--socket", eu.socketPath, "watch", "--only", "alert", "--json"])
        try await eu.waitForLog("watch subscribed")
        _ = try await ok(eu, ["reserve", "set", "gallium", "12"])
        _ = try await ok(eu, ["alert", "raise", "--mineral", "gallium", "--severity", "low", "--category", "other", "--summary", "only alerts here"])
        _ = try await alerts.waitForLine(containing: "only alerts here", seconds: 20)
        #expect(!alerts.printed().contains("\"type\":\"reserve\""), "a reserve report was shown: \(alerts.printed())")
        alerts.stop()
        try await refused(eu, ["watch", "--json", "--only", "everything", "--no-reconnect"], status: 65, saying: "type \"everything\" must be alert or reserve")
        try await eu.stop()
    }

    /// A peer that connected but has not said hello has said nothing of what it holds: `sync
    /// --wait` with it waits (and times out here), never reports two empty vectors in sync.
    @Test func syncWaitsForThePeersHelloNotJustItsConnection() async throws {
        let eu = try DaemonProcess("EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files)
        try await eu.start()
        // Connected (the TLS handshake claims the session; `sync --peer` waits for that) but no hello sent.
        let silent = try await HostilePeer(identity: try pki.node("US", "us-1"), trust: try pki.trustStore(), port: eu.port)
        try await refused(eu, ["sync", "--peer", "US/us-1", "--wait", "--timeout", "1"], status: 75, saying: "not in sync with US/us-1 before the time-out")
        await silent.close()
        try await eu.stop()
    }
}
