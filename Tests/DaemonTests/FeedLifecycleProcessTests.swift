import AdminAPI
import Foundation
import TestSupport
import Testing

/// A feed's life with real daemons (ARCHITECTURE §8.2, §8.3): keys renewed by SIGHUP and feeds
/// continued, a node meeting every feed after the old certificates expired, an expired
/// certificate, and restores from old backups with partners up and down.
extension AllianceProcessTests {
    /// Writes a renewed certificate and key for `node` and points its config at them; SIGHUP.
    func renew(_ node: DaemonProcess, validFor days: Double) async throws {
        let renewed = try pki.node(node.participant, node.name, notAfter: Date(timeIntervalSinceNow: days * 86400))
        try files.write(renewed, as: "\(node.name)-renewed")
        try String(contentsOfFile: node.configPath, encoding: .utf8)
            .replacingOccurrences(of: "pki/\(node.name).pem", with: "pki/\(node.name)-renewed.pem")
            .replacingOccurrences(of: "pki/\(node.name).key", with: "pki/\(node.name)-renewed.key")
            .write(toFile: node.configPath, atomically: true, encoding: .utf8)
        let mark = node.logText.count
        node.hangUp()
        try await node.waitForLog("key rotated", after: mark)
    }

    /// Every node renews its key and certificate with SIGHUP; each feed continues, and nothing
    /// is refused anywhere. A node that joins once every first certificate has expired accepts
    /// every feed whole and shows the same registry.
    ///
    /// The first certificates expire 20 s after they are issued, and the test waits for that
    /// moment: libfaketime would spare the wait, but a Swift program started under it sees no
    /// command-line arguments (CommandLine.arguments is empty), so the daemon cannot be given
    /// its config.
    @Test func everyNodeRotatesItsKeyAndALateJoinerAcceptsTheWholeHistory() async throws {
        let firstExpiry = Date(timeIntervalSinceNow: 20)
        let nodes = try mesh(validUntil: firstExpiry)
        let alliance = ["EU", "US", "JP"].map { nodes[$0]! }
        for node in alliance { try await node.start() }
        for node in alliance { try await node.importReserves(20, tag: "first-key") }
        try await expectConverged(alliance, entries: 60)

        for node in alliance { try await renew(node, validFor: 30) }
        for node in alliance { try await node.importReserves(20, tag: "second-key") }
        try await expectConverged(alliance, entries: 120)
        for node in alliance {
            let status = try node.status()
            #expect(status.keyHistory.count == 2, "\(node.nodeID) key history: \(status.keyHistory)")
            #expect(status.keyHistory.last?.current == true && status.keyHistory.first?.current == false)
            #expect(status.peers.allSatisfy { $0.rejected == 0 }, "\(node.nodeID) refused entries: \(status.peers)")
            #expect(!status.securityEvents.contains { $0.kind == "rejected-entries" })
        }

        // JP's second node starts once every first certificate has expired.
        try await Task.sleep(for: .seconds(max(0, firstExpiry.timeIntervalSinceNow + 1)))
        let late = try DaemonProcess("JP", "jp-2", port: freePorts(1)[0], peers: [nodes["US"]!.port], root: root.url.path, pki: pki, files: files)
        try await late.start()
        try await late.syncAndWait(with: [nodes["US"]!])
        let joined = try late.status()
        #expect(joined.entries == 120)
        #expect(joined.viewDigest == (try nodes["US"]!.status().viewDigest))
        #expect(joined.peers.allSatisfy { $0.rejected == 0 }, "the late joiner refused entries: \(joined.peers)")
        for node in alliance + [late] { try await node.stop() }
    }

    /// A certificate that expires while the node runs: writes are refused (exit 78, saying what
    /// to do) and nothing is signed; a renewal by SIGHUP makes the node writable again, its feed
    /// continuing.
    @Test func aNodeWhoseCertificateExpiredRefusesWritesUntilItIsRenewed() async throws {
        let expiry = Date(timeIntervalSinceNow: 4)
        let nodes = try mesh(links: [:], validUntil: expiry)
        let eu = nodes["EU"]!
        try await eu.start()
        let write = { try await CommandRun.run("mineralctl", ["--socket", eu.socketPath, "reserve", "set", "gallium", "5"]) }
        #expect(try await write().status == 0)
        try await Task.sleep(for: .seconds(max(0, expiry.timeIntervalSinceNow + 0.5)))
        let refused = try await write()
        #expect(refused.status == 78, "\(refused.error)")
        #expect(refused.error.contains("this node's certificate expired at"), "\(refused.error)")
        #expect(try eu.status().entries == 1)
        try await renew(eu, validFor: 30)
        #expect(try await write().status == 0)
        #expect(try eu.status().versionVector["EU/eu-1"] == 2)
        try await eu.stop()
    }

    /// Restores EU from a backup older than what partners hold of its feed, once with partners
    /// up and once with every partner down: each time EU takes a write at once, in a new segment
    /// of its feed; nothing it wrote is lost, no fork is reported anywhere, and all converge.
    @Test func aNodeRestoredFromAnOldBackupWritesAtOnceAndNeverForksItsFeed() async throws {
        let nodes = try mesh()
        let (eu, us, jp) = (nodes["EU"]!, nodes["US"]!, nodes["JP"]!)
        for node in [eu, us, jp] { try await node.start() }
        let store = "\(eu.directory)/registry.sqlite"
        let write = { (amount: String) in try await CommandRun.run("mineralctl", ["--socket", eu.socketPath, "reserve", "set", "gallium", amount]) }
        try await eu.importReserves(10, tag: "before-backup")
        try await eu.stop()
        let backup = try Data(contentsOf: URL(fileURLWithPath: store))  // a cold backup of the database
        try await eu.start()
        try await eu.importReserves(10, tag: "after-backup")
        try await expectConverged([eu, us, jp], entries: 20)

        /// Stops EU and copies the backup over its store.
        func restore() async throws {
            try await eu.stop()
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
            try backup.write(to: URL(fileURLWithPath: store))
            try await eu.start()
        }
        func expectNoFork(_ nodes: [DaemonProcess]) throws {
            for node in nodes { #expect(try !node.status().securityEvents.contains { $0.kind == "fork" }, "\(node.nodeID) reports a fork") }
        }

        // Partners up.
        try await restore()
        let upWrite = try await write("21")
        #expect(upWrite.status == 0, "\(upWrite.error)")
        let firstSegment = try eu.status().feed
        #expect(firstSegment.hasPrefix("EU/eu-1@"), "EU writes \(firstSegment)")
        try await expectConverged([eu, us, jp], entries: 21)
        #expect(try eu.status().versionVector["EU/eu-1"] == 20, "EU's entries after the backup came back from partners")
        try expectNoFork([eu, us, jp])

        // Every partner down.
        try await us.stop()
        try await jp.stop()
        try await restore()
        let downWrite = try await write("22")
        #expect(downWrite.status == 0, "\(downWrite.error)")
        let secondSegment = try eu.status().feed
        #expect(secondSegment.hasPrefix("EU/eu-1@") && secondSegment != firstSegment)
        try await us.start()
        try await jp.start()
        try await expectConverged([eu, us, jp], entries: 22)
        let vector = try us.status().versionVector
        #expect(vector["EU/eu-1"] == 20 && vector[firstSegment] == 1 && vector[secondSegment] == 1, "\(vector)")
        try expectNoFork([eu, us, jp])
        for node in [eu, us, jp] { try await node.stop() }
    }

    /// A CRL installed at one node reaches every node through sync and is in force there at
    /// once: the revoked node is cut off everywhere, and an entry it signed that partners took
    /// before the CRL is refused by a node that meets it afterwards. Then the participant's other
    /// node cuts the revoked feed: every node shows the entries up to the cut and none after.
    @Test func aCRLAtOneNodeIsInForceEverywhereAndACutShowsTheGenuineEntries() async throws {
        let nodes = try mesh()
        let (eu, us, jp) = (nodes["EU"]!, nodes["US"]!, nodes["JP"]!)
        let rogue = try DaemonProcess("US", "us-2", port: freePorts(1)[0], peers: [us.port], root: root.url.path, pki: pki, files: files)
        for node in [eu, us, jp, rogue] { try await node.start() }
        let write = { (amount: String) in try await CommandRun.run("mineralctl", ["--socket", rogue.socketPath, "reserve", "set", "gallium", amount]) }
        #expect(try await write("1").status == 0)
        try await us.syncAndWait(with: [rogue])
        for node in [eu, jp] {
            try await node.syncAndWait(with: [us])
            #expect(try node.status().versionVector["US/us-2"] == 1)
        }

        // EU is down while the rogue writes again: US and JP take it.
        try await eu.stop()
        #expect(try await write("2").status == 0)
        try await us.syncAndWait(with: [rogue])
        try await jp.syncAndWait(with: [us])
        #expect(try jp.status().versionVector["US/us-2"] == 2)

        // The US authority revokes us-2; only EU's operator installs the CRL.
        try files.write("us.crl", try pki.authority("US").revocationList(revoking: [rogue.identity.serial]).pemRepresentation, mode: 0o644)
        try String(contentsOfFile: eu.configPath, encoding: .utf8).replacingOccurrences(of: "crls: []", with: "crls: [pki/us.crl]")
            .write(toFile: eu.configPath, atomically: true, encoding: .utf8)
        let (usMark, jpMark) = (us.logText.count, jp.logText.count)
        try await eu.start()
        try await us.waitForLog("revocation list in force", after: usMark)
        try await jp.waitForLog("revocation list in force", after: jpMark)
        try await us.waitForLog("closed session: peer certificate no longer trusted", after: usMark)
        for node in [eu, us, jp] {
            let crls = try node.status().revocationLists
            #expect(crls.map(\.participants) == [["US"]], "\(node.nodeID): \(crls)")
        }
        // EU met the rogue's second entry only after the CRL: refused.
        try await eu.syncAndWait(with: [us, jp])
        #expect(try eu.status().versionVector["US/us-2"] == 1)
        // What the rogue writes now reaches nobody.
        #expect(try await write("3").status == 0)
        try await us.waitForLog("closing connection", after: usMark)
        #expect(try us.status().versionVector["US/us-2"] == 2)
        // After a restart, the CRL a peer sent is still in force.
        try await jp.stop()
        try await jp.start()
        #expect(try jp.status().revocationLists.map(\.participants) == [["US"]])
        // Whatever a revoked certificate signed is shown nowhere until something still trusted
        // vouches for it, whether a node took it before the CRL (US, JP: restarted) or not (EU).
        for node in [eu, us, jp] {
            let reserves: [ReserveItem] = try node.client.get("/v1/reserves")
            #expect(!reserves.contains { $0.reportedBy.hasPrefix("US/us-2") }, "\(node.nodeID)")
        }
        #expect(Set(try [eu, us, jp].map { try $0.status().viewDigest }).count == 1)

        // US's other node cuts the rogue's feed after its first entry: every node shows that
        // one (vouched for by the cut, whatever became of the key) and not the second.
        let cut = try await CommandRun.ctl(us, ["feed", "cut", "US/us-2", "--at", "1", "--reason", "key stolen"])
        #expect(cut.status == 0, "\(cut.error)")
        for node in [eu, jp] { try await node.syncAndWait(with: [us]) }
        for node in [eu, us, jp] {
            let reserves: [ReserveItem] = try node.client.get("/v1/reserves")
            #expect(reserves.filter { $0.reportedBy.hasPrefix("US/us-2") }.map(\.quantity) == ["1"], "\(node.nodeID): \(reserves)")
            let status = try node.status()
            #expect(status.feedsCut.map(\.feed) == ["US/us-2"] && status.feedsCut.allSatisfy(\.inForce))
            // US and JP hold the second entry as evidence; EU never took it.
            #expect(status.feedsCut.first?.heldAfterCut == (node === eu ? 0 : 1), "\(node.nodeID)")
            #expect(status.securityEvents.contains { $0.kind == "feed-cut" && $0.subject == "US/us-2" } == (node !== eu), "\(node.nodeID)")
        }
        #expect(Set(try [eu, us, jp].map { try $0.status().viewDigest }).count == 1)
        // Only another node of the same participant may cut: JP may not, nor may a node cut itself.
        let foreign = try await CommandRun.ctl(jp, ["feed", "cut", "US/us-2", "--at", "0"])
        #expect(foreign.status == 77 && foreign.error.contains("only a node of US may cut its feeds"), "\(foreign.error)")
        let own = try await CommandRun.ctl(us, ["feed", "cut", "US/us-1", "--at", "0"])
        #expect(own.status == 77 && own.error.contains("cannot cut its own feed"), "\(own.error)")
        // A position this node does not hold, and a malformed feed, are refused with the reason.
        let beyond = try await CommandRun.ctl(eu, ["feed", "cut", "EU/eu-9", "--at", "4"])
        #expect(beyond.status != 0 && beyond.error.contains("holds EU/eu-9 up to seq 0 only"), "\(beyond.error)")
        let verbose = try await CommandRun.ctl(us, ["feed", "cut", "US/us-2", "--at", "1", "--reason", String(repeating: "x", count: 2_049)])
        #expect(verbose.status == 65 && verbose.error.contains("reason is longer than 2048 bytes"), "\(verbose.error)")
        let malformed = try await CommandRun.ctl(us, ["feed", "cut", "us-2", "--at", "1"])
        #expect(malformed.status != 0 && malformed.error.contains("must be a node such as EU/eu-1"), "\(malformed.error)")
        for node in [eu, us, jp, rogue] { try await node.stop() }
    }
}
