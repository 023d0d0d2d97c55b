import AdminAPI
import Foundation
import Testing
import TestSupport

/// Key history with real daemons (ARCHITECTURE §8.2): keys renewed by SIGHUP, feeds continued,
/// and a node meeting every feed after the old certificates expired.
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
        for node in alliance { try node.importReserves(20, tag: "first-key") }
        try expectConverged(alliance, entries: 60)

        for node in alliance { try await renew(node, validFor: 30) }
        for node in alliance { try node.importReserves(20, tag: "second-key") }
        try expectConverged(alliance, entries: 120)
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
        try late.syncAndWait(with: [nodes["US"]!])
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
        let write = { try CommandRun.run("mineralctl", ["--socket", eu.socketPath, "reserve", "set", "gallium", "5"]) }
        #expect(try write().status == 0)
        try await Task.sleep(for: .seconds(max(0, expiry.timeIntervalSinceNow + 0.5)))
        let refused = try write()
        #expect(refused.status == 78, "\(refused.error)")
        #expect(refused.error.contains("this node's certificate expired at"), "\(refused.error)")
        #expect(try eu.status().entries == 1)
        try await renew(eu, validFor: 30)
        #expect(try write().status == 0)
        #expect(try eu.status().versionVector["EU/eu-1"] == 2)
        try await eu.stop()
    }
}
