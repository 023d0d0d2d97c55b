import AdminAPI
import Foundation
import GRDB
import TestSupport
import Testing

/// Three ways to the same vector give one digest, with real daemons: EU, US and JP agree on a
/// checkpoint; a new node (EU/eu-2, `sync.join-from-checkpoint`) starts from the checkpoint US
/// serves and syncs only the entries after it; US restarts from its snapshot and JP, its
/// snapshot deleted, from every entry. At the same vector all of them show the same digest,
/// and the new node's store holds only what followed the checkpoint; restarted, it still does.
@Suite("joining from a checkpoint between daemons", .serialized)
struct CheckpointJoinProcessTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("checkpoint-join") }

    static func storeEntries(of node: DaemonProcess) throws -> Int {
        let queue = try DatabaseQueue(path: "\(node.directory)/registry.sqlite")
        defer { try? queue.close() }
        return try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM entry") ?? -1 }
    }

    static func execute(_ sql: String, in node: DaemonProcess) throws {
        let queue = try DatabaseQueue(path: "\(node.directory)/registry.sqlite")
        try queue.write { try $0.execute(sql: sql) }
        try queue.close()
    }

    @Test func aNewNodeJoinsFromACheckpointAndShowsWhatSnapshotsAndReplayingShow() async throws {
        let ports = Dictionary(uniqueKeysWithValues: zip(["EU", "US", "JP", "EU2"], freePorts(4)))
        let links = ["EU": ["US", "JP"], "US": ["JP"], "JP": [String]()]
        let proofs = "proofs:\n  interval: 1s\n"
        func daemon(_ participant: String) throws -> DaemonProcess {
            // EU may drop the history it archived; the others keep every entry (the default).
            try DaemonProcess(
                participant, "\(participant.lowercased())-1", port: ports[participant]!, peers: links[participant]!.map { ports[$0]! },
                root: root.url.path, pki: pki, files: files,
                extraConfig: proofs + (participant == "EU" ? "history:\n  drop-archived: true\n" : ""))
        }
        let (eu, us, jp) = (try daemon("EU"), try daemon("US"), try daemon("JP"))
        for node in [eu, us, jp] { try await node.start() }
        try await eu.importReserves(300, tag: "eu")
        try await jp.importReserves(200, tag: "jp")
        let raised: WriteResponse = try us.client.post(
            "/v1/alerts", AlertRaiseRequest(mineral: "gallium", severity: "high", category: "other", summary: "mine outage"))
        try await us.syncAndWait(with: [eu, jp])
        let _: WriteResponse = try jp.client.post("/v1/alerts/\(raised.id)/ack", NoteRequest(note: "seen"))
        try await eu.syncAndWait(with: [us, jp])
        try await us.syncAndWait(with: [eu, jp])
        try await us.waitForLog("checkpoint state of 502 entries served from now on", seconds: 30)

        // The new node asks US, takes its checkpoint, and gets only what follows it.
        let joiner = try DaemonProcess(
            "EU", "eu-2", port: ports["EU2"]!, peers: [ports["US"]!], root: root.url.path, pki: pki, files: files,
            joinFromCheckpoint: true, extraConfig: proofs)
        try await joiner.start()
        try await joiner.waitForLog("joined from a checkpoint: syncing the entries after it", seconds: 30)
        try await eu.importReserves(40, tag: "after")
        try await eu.syncAndWait(with: [us, jp])
        try await us.syncAndWait(with: [eu, jp, joiner])
        try await joiner.syncAndWait(with: [us])
        let expected = try eu.status()
        #expect(expected.entries == 542)
        #expect(try joiner.status().entries == 542)
        #expect(try joiner.status().viewDigest == expected.viewDigest)
        #expect(try joiner.status().checkpoint?.entries ?? 0 >= 502)
        // Status says where its history starts; the others hold every entry.
        let joinedFrom = try #require(try joiner.status().joinedFrom)
        #expect(joinedFrom.entries >= 502 && joinedFrom.entries <= 542 && joinedFrom.signedBy.count == 3)
        #expect(try eu.status().joinedFrom == nil)
        let shown = try await CommandRun.ctl(joiner, ["status"])
        #expect(shown.output.contains("from the checkpoint at \(joinedFrom.entries) entries"), "\(shown.output)")
        let history = try await CommandRun.ctl(joiner, ["reserve", "history", "gallium"])
        #expect(
            history.status == 0 && history.output.contains("this node holds the history from the checkpoint at \(joinedFrom.entries) entries on"),
            "\(history.output) \(history.error)")

        // US from its snapshot (a clean stop), JP from every entry (its snapshot deleted).
        try await us.stop()
        var mark = us.logText.count
        try await us.start()
        try await us.waitForLog("from=\"a snapshot of 542 entries and 0 after it\"", after: mark)
        try await jp.stop()
        try Self.execute("DELETE FROM snapshot", in: jp)
        mark = jp.logText.count
        try await jp.start()
        try await jp.waitForLog("from=\"every entry\"", after: mark)
        for node in [us, jp] {
            let status = try node.status()
            #expect(status.entries == 542 && status.viewDigest == expected.viewDigest, "\(node.name): \(status.entries) \(status.viewDigest)")
        }
        // The same alert, acknowledged, at the node that never held the entries about it.
        let alert: AlertItem = try joiner.client.get("/v1/alerts/\(raised.id)")
        #expect(alert.acknowledgedBy == ["JP"])

        // The history below the checkpoint, archived by a node that holds it, checks out with
        // any node's anchors; one byte changed, or the file cut short, does not; a node that
        // joined from a checkpoint has none to archive, and says so.
        let archive = root.path("history.msarch")
        try await eu.waitForLog("checkpoint state of 542 entries served from now on", seconds: 30)
        let exported = try await CommandRun.ctl(eu, ["archive", "export", "--out", archive])
        #expect(exported.status == 0 && exported.output.contains("wrote "), "\(exported.output) \(exported.error)")
        let checked = try await CommandRun.run("mineral-syncd", ["verify-archive", archive, "--config", jp.configPath])
        #expect(
            checked.status == 0 && checked.output.contains("OK — ") && checked.output.contains("signed by EU/eu-1, JP/jp-1, US/us-1"),
            "\(checked.output) \(checked.error)")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        let copy = root.path("changed.msarch")
        bytes[bytes.count - 40] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: copy))
        let tampered = try await CommandRun.run("mineral-syncd", ["verify-archive", copy, "--config", jp.configPath])
        #expect(tampered.status == 1 && tampered.error.contains("does not check out"), "\(tampered.error)")
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: copy))
        let cut = try await CommandRun.run("mineral-syncd", ["verify-archive", copy, "--config", jp.configPath])
        #expect(cut.status == 1 && cut.error.contains("ends within a frame"), "\(cut.error)")
        let refused = try await CommandRun.ctl(joiner, ["archive", "export", "--out", root.path("joined.msarch")])
        #expect(refused.status != 0 && refused.error.contains("joined from a checkpoint: it holds no history before it"), "\(refused.error)")
        let unwritable = try await CommandRun.ctl(eu, ["archive", "export", "--out", "/proc/history.msarch"])
        #expect(unwritable.status != 0 && unwritable.error.contains("/proc/history.msarch"), "\(unwritable.error)")

        // The new node holds no entry from before the checkpoint, and restarts to the same views.
        try await joiner.stop()
        #expect(try Self.storeEntries(of: joiner) <= 40 + 542 - 502)
        mark = joiner.logText.count
        try await joiner.start()
        try await joiner.waitForLog("this node joined from a checkpoint: it holds no entry before it", after: mark)
        #expect(try joiner.status().viewDigest == expected.viewDigest)

        // Dropping the archived history: refused where the config keeps everything, and with an
        // archive that does not check out; done at EU, which then shows the same registry,
        // holds only what followed, and restarts to the same views.
        let kept = try await CommandRun.ctl(jp, ["archive", "drop", "--archive", archive])
        #expect(kept.status != 0 && kept.error.contains("history.drop-archived is false"), "\(kept.error)")
        let unchecked = try await CommandRun.ctl(eu, ["archive", "drop", "--archive", copy])
        #expect(unchecked.status != 0 && unchecked.error.contains("ends within a frame"), "\(unchecked.error)")
        #expect(try Self.storeEntries(of: eu) == 542)
        let dropped = try await CommandRun.ctl(eu, ["archive", "drop", "--archive", archive])
        #expect(dropped.status == 0 && dropped.output.contains("dropped 542 entries"), "\(dropped.output) \(dropped.error)")
        #expect(try eu.status().viewDigest == expected.viewDigest)
        #expect(try eu.status().joinedFrom?.entries == 542)
        #expect(try Self.storeEntries(of: eu) == 0)
        try await eu.stop()
        mark = eu.logText.count
        try await eu.start()
        try await eu.waitForLog("this node joined from a checkpoint: it holds no entry before it", after: mark)
        #expect(try eu.status().viewDigest == expected.viewDigest)
        // And it goes on writing and syncing.
        let _: WriteResponse = try eu.client.post("/v1/reserves", ReserveReportRequest(mineral: "gallium", quantity: "9", site: "after-drop"))
        try await eu.syncAndWait(with: [us, jp])
        #expect(try us.status().viewDigest == (try eu.status().viewDigest))

        for node in [eu, us, jp, joiner] { _ = try await node.stop() }
    }
}
