import AdminAPI
import Foundation
import TestSupport
import Testing

/// Time and causality with real daemons: EU runs two nodes, eu-2 with its clock a day ahead
/// (`faketime -f +1d`). A report eu-1 makes after seeing eu-2's wins over it everywhere, though
/// its clock is a day smaller; the skew is measured, shown and reported, not obeyed.
@Suite("clock skew between real daemons", .serialized)
struct ClockSkewProcessTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("skew") }

    func reserves(_ node: DaemonProcess) throws -> [ReserveItem] { try node.client.get("/v1/reserves?participant=EU") }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/faketime"), "needs faketime (Debian: faketime)"))
    func aReportMadeAfterSeeingOneFromADayAheadWinsEverywhereAndTheSkewIsShown() async throws {
        let ports = freePorts(3)
        // Certificates valid for a month: eu-2's clock must find every one of them valid.
        let month = Date(timeIntervalSinceNow: 30 * 86_400)
        func node(_ participant: String, _ name: String, _ index: Int) throws -> DaemonProcess {
            try DaemonProcess(
                participant, name, port: ports[index], peers: ports.enumerated().filter { $0.offset != index }.map(\.element),
                root: root.url.path, pki: pki, files: files, identity: try pki.node(participant, name, notAfter: month))
        }
        let (eu1, eu2, us) = (try node("EU", "eu-1", 0), try node("EU", "eu-2", 1), try node("US", "us-1", 2))
        eu2.launcher = ["faketime", "-f", "+1d"]
        eu2.environment = ["FAKETIME_DONT_FAKE_MONOTONIC": "1"]
        let (eu1Mark, usMark) = (eu1.logText.count, us.logText.count)
        for daemon in [eu1, eu2, us] { try await daemon.start() }
        // Each session pings at once: both partners measure eu-2's clock a day ahead and log it.
        try await eu1.waitForLog("peer's clock differs from this node's", after: eu1Mark)
        try await us.waitForLog("peer's clock differs from this node's", after: usMark)

        // `sync --wait` is asked of eu-1 and us-1 only: under libfaketime, Swift's Task.sleep
        // never returns, and that command's wait sleeps between its checks.
        #expect(try await CommandRun.ctl(eu2, ["reserve", "set", "gallium", "1"]).status == 0)
        try await eu1.syncAndWait(with: [eu2])
        #expect(try reserves(eu1).map(\.quantity) == ["1"])
        #expect(try await CommandRun.ctl(eu1, ["reserve", "set", "gallium", "2"]).status == 0)
        try await us.syncAndWait(with: [eu1, eu2])
        try await eu1.syncAndWait(with: [eu2, us])
        for daemon in [eu1, eu2, us] {
            #expect(try reserves(daemon).map(\.quantity) == ["2"], "\(daemon.nodeID): the report made after seeing 1 t must win")
            let history: [ReserveItem] = try daemon.client.get("/v1/reserves/history?participant=EU&mineral=gallium")
            #expect(history.map(\.quantity) == ["1", "2"], "\(daemon.nodeID)")
        }
        #expect(Set(try [eu1, eu2, us].map { try $0.status().viewDigest }).count == 1)

        // The offset is in `mineralctl peers`, and a security event names eu-2 and the offset.
        let peers = try await CommandRun.ctl(eu1, ["peers", "--json"])
        let items = try AdminJSON.decoder.decode([PeerItem].self, from: Data(peers.output.utf8))
        let offset = try #require(items.first { $0.node == "EU/eu-2" }?.clockOffsetMillis, "\(peers.output)")
        #expect(abs(offset - 86_400_000) < 60_000, "measured \(offset) ms")
        #expect(try await CommandRun.ctl(eu1, ["peers"]).output.contains("+864"))
        for daemon in [eu1, us] {
            let events = try daemon.status().securityEvents
            #expect(events.contains { $0.kind == "clock-skew" && $0.subject == "EU/eu-2" && $0.detail.contains("+1d 0h") }, "\(daemon.nodeID): \(events)")
            #expect(events.contains { $0.kind == "entries-dated-ahead" && $0.subject == "EU/eu-2" }, "\(daemon.nodeID): \(events)")
        }
        // eu-2 is told its own clock is the odd one out, in its status and in its log.
        #expect(try eu2.status().clockWarning?.contains("ahead of 2 of the 2 peers measured") == true)
        #expect(eu2.logText.contains("this node's clock is about 1d 0h 0m ahead of"))
        #expect(try eu1.status().clockWarning == nil)
        // A date typed in the future is refused at the author.
        let future = try await CommandRun.ctl(
            eu1, ["reserve", "set", "gallium", "3", "--as-of", ISO8601DateFormatter().string(from: Date(timeIntervalSinceNow: 3_600))])
        #expect(future.status == 65 && future.error.contains("is in the future"))
        for daemon in [eu1, eu2, us] { try await daemon.stop() }
    }
}
