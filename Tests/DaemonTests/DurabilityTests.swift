import AdminAPI
import Foundation
import TestSupport
import Testing

/// "Nothing acknowledged is lost": each write is on disk before the admin API answers. Checked
/// from outside the daemon: it runs with a preloaded library that logs every completed
/// fsync/fdatasync with the file it synced, and each acknowledged write must have been preceded
/// by a sync of the store's write-ahead log (or database). A store opened with
/// `synchronous = NORMAL` (WAL commits without a sync) fails this test.
@Suite("durability: fsync before done", .serialized)
struct DurabilityTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("durable") }

    /// Syncs of the registry store's files logged so far.
    func storeSyncs(in log: String, directory: String) -> Int {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { line in
            line.contains("\(directory)/registry.sqlite")
        }.count
    }

    @Test func everyAcknowledgedWriteWasSyncedToDiskFirst() async throws {
        let probe = try BuiltExecutable.library("libFsyncProbe.so")
        let log = root.path("syncs.log")
        let node = try DaemonProcess("EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files)
        node.environment = ["LD_PRELOAD": probe.path, "MINERALSYNC_SYNC_LOG": log]
        try await node.start()
        let directory = URL(fileURLWithPath: node.directory).standardizedFileURL.resolvingSymlinksInPath().path
        // Opening the store syncs it: no line here means the probe is not loaded and proves nothing.
        try #require(storeSyncs(in: log, directory: directory) > 0, "the probe is not loaded: \(log) holds no sync of the store")

        for index in 0..<12 {
            let before = storeSyncs(in: log, directory: directory)
            let written: WriteResponse =
                try index % 3 == 2
                ? node.client.post("/v1/alerts", AlertRaiseRequest(mineral: "gallium", severity: "low", category: "other", summary: "drill \(index)"))
                : node.client.post("/v1/reserves", ReserveReportRequest(mineral: "gallium", quantity: "\(index)"))
            #expect(written.seq == UInt64(index + 1))
            let after = storeSyncs(in: log, directory: directory)
            #expect(
                after > before,
                "write \(index + 1) was acknowledged without a sync of the store (\(before) → \(after)): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")"
            )
        }
        // An import of many rows is one transaction: acknowledged after (at least) one sync.
        let before = storeSyncs(in: log, directory: directory)
        let rows = (0..<200).map { ReserveReportRequest(mineral: "tungsten", quantity: "\($0)", site: "s\($0 % 9)") }
        let imported: [WriteResponse] = try node.client.post("/v1/reserves/import", ReserveImportRequest(rows: rows))
        #expect(imported.count == 200)
        #expect(storeSyncs(in: log, directory: directory) > before)
        try await node.stop()
    }
}
