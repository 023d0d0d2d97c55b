import AdminAPI
import Foundation
import OpenSSLCrypto
import Registry
import RegistryStore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Three daemon processes, EU, US and JP, over real loopback TLS, driven through the admin API.
@Suite("mineral-syncd alliance of processes", .serialized)
struct AllianceProcessTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("alliance") }

    /// EU, US, JP in a full mesh (or as `links` say), with certificates valid until `validUntil`
    /// (the test PKI's default when nil).
    func mesh(
        links: [String: [String]] = ["EU": ["US", "JP"], "US": ["EU", "JP"], "JP": ["EU", "US"]], batchSize: Int? = nil,
        validUntil: Date? = nil
    ) throws -> [String: DaemonProcess] {
        let ports = Dictionary(uniqueKeysWithValues: zip(["EU", "US", "JP"], freePorts(3)))
        var nodes: [String: DaemonProcess] = [:]
        for participant in ["EU", "US", "JP"] {
            let name = "\(participant.lowercased())-1"
            nodes[participant] = try DaemonProcess(
                participant, name, port: ports[participant]!,
                peers: links[participant, default: []].map { ports[$0]! },
                root: root.url.path, pki: pki, files: files,
                identity: try validUntil.map { try pki.node(participant, name, notAfter: $0) }, batchSize: batchSize)
        }
        return nodes
    }

    func expectConverged(_ nodes: [DaemonProcess], entries: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for node in nodes { try await node.syncAndWait(with: nodes.filter { $0 !== node }) }
        let statuses = try nodes.map { try $0.status() }
        #expect(Set(statuses.map(\.viewDigest)).count == 1, "view digests differ", sourceLocation: sourceLocation)
        #expect(statuses.map(\.entries) == Array(repeating: entries, count: nodes.count), sourceLocation: sourceLocation)
    }

    @Test func meshConvergesAndAnAlertRaisedAtOneNodeIsWatchedAtAnother() async throws {
        let nodes = try mesh()
        let (eu, us, jp) = (nodes["EU"]!, nodes["US"]!, nodes["JP"]!)
        for node in [eu, us, jp] { try await node.start() }
        try await us.syncAndWait(with: [eu, jp])  // also waits until both sessions are up

        // JP watches; EU raises an alert; the watch delivers it.
        let watched = Task { () throws -> WatchEvent? in
            try await onThread {
                var event: WatchEvent?
                try jp.client.stream("/v1/watch") { line in
                    event = try? AdminJSON.decoder.decode(WatchEvent.self, from: Data(line.utf8))
                    return event?.type != "alert"
                }
                return event
            }
        }
        try await jp.waitForLog("watch subscribed")
        let raised: WriteResponse = try eu.client.post(
            "/v1/alerts",
            AlertRaiseRequest(
                mineral: "gallium", severity: "critical", category: "export-restriction", summary: "Gallium exports suspended", region: "CN"))
        let event = try await within(20, "the alert at JP's watch") { try await watched.value }
        #expect(event?.alert?.id == raised.id)
        #expect(event?.origin == "EU/eu-1")

        let _: WriteResponse = try us.client.post("/v1/reserves", ReserveReportRequest(mineral: "gallium", quantity: "40", unit: "t"))
        let _: WriteResponse = try jp.client.post("/v1/alerts/\(raised.id)/ack", NoteRequest(note: "JP stockpile release prepared"))
        try await expectConverged([eu, us, jp], entries: 3)
        let alert: AlertItem = try us.client.get("/v1/alerts/\(raised.id)")
        #expect(alert.acknowledgedBy == ["JP"])

        // Only the issuer resolves: US is refused with the reason, nothing written.
        let refused = try us.client.send("POST", "/v1/alerts/\(raised.id)/resolve", body: try AdminJSON.encoder.encode(NoteRequest(note: "not ours")))
        #expect(refused.status == 403)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("policy"))
        #expect(try us.status().entries == 3)

        for node in [eu, us, jp] { #expect(try await node.stop() == 0) }
        #expect(eu.logText.contains("shutting down: saying goodbye to peers"))
    }

    @Test func aNodeDownDuringAThousandWritesCatchesUpAndASIGKILLLosesNothingAcknowledged() async throws {
        // Small stream batches, so that JP's catch-up takes many commits and a kill lands inside
        // it. Only JP dials (EU and US dial each other), so JP decides when its catch-up starts.
        let nodes = try mesh(links: ["EU": ["US"], "US": ["EU"], "JP": ["EU", "US"]], batchSize: 5)
        let (eu, us, jp) = (nodes["EU"]!, nodes["US"]!, nodes["JP"]!)
        for node in [eu, us, jp] { try await node.start() }
        try await eu.syncAndWait(with: [us, jp])
        #expect(try await jp.stop() == 0)

        try await eu.importReserves(500, tag: "eu")
        try await us.importReserves(500, tag: "us")
        try await expectConverged([eu, us], entries: 1000)

        // JP returns and catches up; killed in mid-stream (at its first committed batch, seen on
        // its watch stream), it restarts and catches up again. It comes back without peers, so
        // that its watch is subscribed first, and a SIGHUP gives it its peers.
        let withPeers = try String(contentsOfFile: jp.configPath, encoding: .utf8)
        let peerLines = withPeers.split(separator: "\n", omittingEmptySubsequences: false).filter { $0.hasPrefix("  - address:") }
        try withPeers.replacingOccurrences(of: "peers:\n" + peerLines.joined(separator: "\n"), with: "peers: []")
            .write(toFile: jp.configPath, atomically: true, encoding: .utf8)
        try await jp.start()
        // SIGKILL from the watch's reader itself, the moment the first batch shows: on a loaded
        // machine, a kill sent after the test's task resumes could land after the whole catch-up.
        let pid = try #require(jp.pid)
        let firstBatch = Task { () throws -> Bool in
            try await onThread {
                var seen = false
                try jp.client.stream("/v1/watch") { line in
                    seen = line.contains("\"reserve\"")
                    if seen { Glibc.kill(pid, SIGKILL) }
                    return !seen
                }
                return seen
            }
        }
        try await jp.waitForLog("watch subscribed")
        try withPeers.write(toFile: jp.configPath, atomically: true, encoding: .utf8)
        jp.hangUp()
        #expect(try await within(30, "JP's first caught-up batch") { try await firstBatch.value })
        #expect(try await jp.kill() == 9)
        let heldAtKill = try RegistryStore(path: "\(jp.directory)/registry.sqlite", node: try NodeID("JP/jp-1")).entryCount
        #expect(heldAtKill > 0 && heldAtKill < 1000, "JP held \(heldAtKill) of 1000 entries when killed: not mid-stream")
        try await jp.start()
        try await expectConverged([eu, us, jp], entries: 1000)

        // US acknowledges 300 more writes and is killed at once, while EU and JP still receive
        // them: after the restart every acknowledged entry is in its store and everyone agrees.
        try await us.importReserves(300, tag: "us2")
        #expect(try await us.kill() == 9)
        try await us.start()
        #expect(try us.status().versionVector["US/us-1"] == 800)
        try await expectConverged([eu, us, jp], entries: 1300)
        for node in [eu, us, jp] { try await node.stop() }
    }

    @Test func aSIGHUPThatBringsACRLClosesTheRevokedPeersSessionAndRefusesItAfterwards() async throws {
        let nodes = try mesh(links: ["EU": ["US"], "US": ["EU"]])
        let (eu, us) = (nodes["EU"]!, nodes["US"]!)
        let usSerial = us.identity.serial
        for node in [eu, us] { try await node.start() }
        try await eu.syncAndWait(with: [us])

        try files.write("us.crl", try pki.authority("US").revocationList(revoking: [usSerial]).pemRepresentation, mode: 0o644)
        let config = try String(contentsOfFile: eu.configPath, encoding: .utf8).replacingOccurrences(of: "crls: []", with: "crls: [pki/us.crl]")
        try config.write(toFile: eu.configPath, atomically: true, encoding: .utf8)
        let before = eu.logText.count
        eu.hangUp()
        try await eu.waitForLog("configuration reloaded", after: before)
        try await eu.waitForLog("closed session: peer certificate no longer trusted", after: before)
        // Both keep dialling; each attempt is refused during the handshake (recorded as a security
        // event, then logged). The next attempt may be up to the longest reconnect delay away
        // (30 s, +25% jitter): a session that lasted under 2 s doubles the delay it was dialled
        // with, which grows while the other node is still starting (seen in CI under load).
        try await eu.waitForLog("closing connection", after: before, seconds: 45)
        let status = try eu.status()
        #expect(status.peersConnected == 0)
        #expect(status.securityEvents.contains { $0.kind == "refused-connection" && $0.detail.contains("revoked") })
        let peer = try #require(status.peers.first { $0.node == "US/us-1" })
        #expect(peer.lastError?.contains("no longer trusted") == true)

        // A broken config on SIGHUP changes nothing and says why.
        try "node: [".write(toFile: eu.configPath, atomically: true, encoding: .utf8)
        let mark = eu.logText.count
        eu.hangUp()
        try await eu.waitForLog("reload refused; the running configuration stays in force", after: mark)
        #expect(try eu.status().node == "EU/eu-1")
        for node in [eu, us] { try await node.stop() }
    }

    @Test func aSIGHUPAddsAndRemovesPeers() async throws {
        let nodes = try mesh(links: [:])
        let (eu, us) = (nodes["EU"]!, nodes["US"]!)
        for node in [eu, us] { try await node.start() }
        #expect(try eu.status().peersConfigured == 0)

        let alone = try String(contentsOfFile: eu.configPath, encoding: .utf8)
        try alone.replacingOccurrences(of: "peers: []", with: "peers:\n  - address: 127.0.0.1:\(us.port)").write(
            toFile: eu.configPath, atomically: true, encoding: .utf8)
        let mark = eu.logText.count
        eu.hangUp()
        try await eu.waitForLog("configuration reloaded", after: mark)
        try await eu.syncAndWait(with: [us])  // waits for the new peer's session
        #expect(try eu.status().peersConfigured == 1)
        #expect(try eu.status().peersConnected == 1)

        try alone.write(toFile: eu.configPath, atomically: true, encoding: .utf8)
        let again = eu.logText.count
        let usMark = us.logText.count
        eu.hangUp()
        try await eu.waitForLog("configuration reloaded", after: again)
        #expect(try eu.status().peersConfigured == 0)
        // US hears why: EU said goodbye because it no longer has US in its configuration.
        try await us.waitForLog("removed from EU/eu-1's configuration", after: usMark)
        #expect(try us.status().peersConnected == 0)
        for node in [eu, us] { try await node.stop() }
    }

    /// `peers[].node` from the config file: a malformed pin is refused on SIGHUP, a wrong one
    /// refuses the dialled node with a reason the operator sees, the right one connects.
    @Test func aPinnedPeerConnectsOnlyAsTheNodeTheConfigNames() async throws {
        let nodes = try mesh(links: [:])
        let (eu, us) = (nodes["EU"]!, nodes["US"]!)
        for node in [eu, us] { try await node.start() }
        let alone = try String(contentsOfFile: eu.configPath, encoding: .utf8)
        func pin(_ node: String) throws {
            try alone.replacingOccurrences(of: "peers: []", with: "peers:\n  - address: 127.0.0.1:\(us.port)\n    node: \(node)")
                .write(toFile: eu.configPath, atomically: true, encoding: .utf8)
        }
        try pin("usa")
        var mark = eu.logText.count
        eu.hangUp()
        try await eu.waitForLog("reload refused; the running configuration stays in force", after: mark)
        #expect(eu.logText.dropFirst(mark).contains("peers[0].node"))
        #expect(try eu.status().peersConfigured == 0)

        try pin("US/us-2")
        mark = eu.logText.count
        eu.hangUp()
        try await eu.waitForLog("configuration reloaded", after: mark)
        try await eu.waitForLog("is configured as US/us-2, but its certificate names US/us-1", after: mark)
        let status = try eu.status()
        #expect(status.peersConnected == 0)
        #expect(status.securityEvents.contains { $0.kind == "refused-connection" && $0.detail.contains("is configured as US/us-2") })

        try pin("US/us-1")
        mark = eu.logText.count
        eu.hangUp()
        try await eu.waitForLog("configuration reloaded", after: mark)
        try await eu.syncAndWait(with: [us])  // waits for the pinned peer's session
        #expect(try eu.status().peersConnected == 1)
        for node in [eu, us] { try await node.stop() }
    }

    @Test func twoProcessesSharingOneIdentityForkTheFeedAndPartnersFreezeIt() async throws {
        let identity = try pki.node("EU", "eu-1")
        let ports = freePorts(3)
        let twinA = try DaemonProcess("EU", "eu-1", port: ports[0], peers: [], root: root.url.path, pki: pki, files: files, identity: identity, label: "eu-1a")
        let twinB = try DaemonProcess("EU", "eu-1", port: ports[1], peers: [], root: root.url.path, pki: pki, files: files, identity: identity, label: "eu-1b")
        for twin in [twinA, twinB] { try await twin.start() }
        let _: WriteResponse = try twinA.client.post("/v1/reserves", ReserveReportRequest(mineral: "gallium", quantity: "10"))
        let _: WriteResponse = try twinB.client.post("/v1/reserves", ReserveReportRequest(mineral: "gallium", quantity: "99999"))

        let us = try DaemonProcess("US", "us-1", port: ports[2], peers: [ports[0], ports[1]], root: root.url.path, pki: pki, files: files)
        try await us.start()
        try await us.waitForLog("fork detected: feed frozen")
        let status = try us.status()
        let fork = try #require(status.securityEvents.first { $0.kind == "fork" })
        #expect(fork.subject == "EU/eu-1")
        for node in [twinA, twinB, us] { try await node.stop() }

        // The evidence survives a restart.
        try await us.start()
        #expect(try us.status().securityEvents.contains { $0.kind == "fork" && $0.subject == "EU/eu-1" })
        try await us.stop()
    }
}
