import AdminAPI
import Foundation
import GRDB
import TestSupport
import Testing

/// A real daemon restarted three ways (from the snapshot a clean stop saved, after SIGKILL from
/// an older snapshot and the entries after it, and with its snapshot damaged on disk) shows
/// the same registry, history included, and says in its log how it loaded.
@Suite("snapshots: a daemon restarted from one, after a crash, and with one damaged", .serialized)
struct SnapshotProcessTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("snapshots") }

    /// What an operator compares: the digest, the entries held, and a reserve history.
    func registry(of node: DaemonProcess) throws -> (digest: String, entries: Int, history: [ReserveItem]) {
        let status = try node.status()
        let history: [ReserveItem] = try node.client.get("/v1/reserves/history?mineral=gallium")
        return (status.viewDigest, status.entries, history)
    }

    @Test func restartsFromASnapshotAfterACrashAndWithADamagedOneShowTheSameRegistry() async throws {
        let eu = try DaemonProcess(
            "EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files,
            snapshotEvery: 1_000)
        try await eu.start()
        try await eu.importReserves(1_500, tag: "a")
        let raised: WriteResponse = try eu.client.post("/v1/alerts", AlertRaiseRequest(mineral: "gallium", severity: "high", category: "other", summary: "s"))
        let _: WriteResponse = try eu.client.post("/v1/alerts/\(raised.id)/ack", NoteRequest(note: "seen"))
        let _: WriteResponse = try eu.client.post("/v1/reserves", ReserveReportRequest(mineral: "gallium", quantity: "7", site: "a-site-0"))
        let before = try registry(of: eu)
        #expect(before.entries == 1_503)
        #expect(before.history.count > 1)

        // A clean stop saves a snapshot of everything: the start folds nothing after it.
        try await eu.stop()
        var mark = eu.logText.count
        try await eu.start()
        try await eu.waitForLog("from=\"a snapshot of 1503 entries and 0 after it\"", after: mark)
        // The start skipped the page check at open (the node stopped cleanly): it runs meanwhile.
        try await eu.waitForLog("store checked: every page is sound", after: mark)
        let clean = try registry(of: eu)
        #expect(clean.digest == before.digest && clean.entries == before.entries && clean.history == before.history)

        // More writes (one import past the interval saves a snapshot), then a few more, then
        // SIGKILL: the start takes the last snapshot and folds the few after it. The snapshot is
        // written off the engine, after the import returned: its log line says when it is.
        let imported = eu.logText.count
        try await eu.importReserves(1_200, tag: "b")
        for index in 0..<3 {
            let _: WriteResponse = try eu.client.post("/v1/reserves", ReserveReportRequest(mineral: "gallium", quantity: "\(index)", site: "a-site-1"))
        }
        try await eu.waitForLog("registry snapshot saved", after: imported)
        let beforeCrash = try registry(of: eu)
        _ = try await eu.kill()
        mark = eu.logText.count
        try await eu.start()
        try await eu.waitForLog("from=\"a snapshot of 2703 entries and 3 after it\"", after: mark)
        let crashed = try registry(of: eu)
        #expect(crashed.digest == beforeCrash.digest && crashed.entries == 2_706 && crashed.history == beforeCrash.history)

        // A snapshot changed on disk is not used: the log says why, and every entry is folded.
        try await eu.stop()
        let queue = try DatabaseQueue(path: "\(eu.directory)/registry.sqlite")
        try await queue.write { db in
            var views = [UInt8](try Data.fetchOne(db, sql: "SELECT views FROM snapshot")!)
            views[views.count / 2] ^= 0x20
            try db.execute(sql: "UPDATE snapshot SET views = ?", arguments: [Data(views)])
        }
        try queue.close()
        mark = eu.logText.count
        try await eu.start()
        try await eu.waitForLog("the registry snapshot was not used", after: mark)
        try await eu.waitForLog("from=\"every entry\"", after: mark)
        let rebuilt = try registry(of: eu)
        #expect(rebuilt.digest == beforeCrash.digest && rebuilt.entries == 2_706 && rebuilt.history == beforeCrash.history)
        try await eu.stop()
    }
}
