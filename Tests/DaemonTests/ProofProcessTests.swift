import AdminAPI
import Foundation
import TestSupport
import Testing

/// Convergence proofs between real daemons: EU, US and JP sign their view statements every
/// second; once all three hold the same entries, every node records agreement with the other
/// two and keeps a checkpoint that `mineralctl proof --out` writes out and the openssl command
/// line alone verifies. Then JP is restarted knowing a mineral the others do not: its report of
/// it is valid at JP and a policy violation elsewhere, so at the same vector the views differ,
/// and both sides say so as a security event within a proof interval.
@Suite("convergence proofs between daemons", .serialized)
struct ProofProcessTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("proofs") }

    @Test func nodesAgreeKeepAVerifiableCheckpointAndReportADivergenceOnBothSides() async throws {
        let ports = Dictionary(uniqueKeysWithValues: zip(["EU", "US", "JP"], freePorts(3)))
        let links = ["EU": ["US", "JP"], "US": ["JP"], "JP": [String]()]
        func daemon(_ participant: String, extra: String = "") throws -> DaemonProcess {
            try DaemonProcess(
                participant, "\(participant.lowercased())-1", port: ports[participant]!, peers: links[participant]!.map { ports[$0]! },
                root: root.url.path, pki: pki, files: files, extraConfig: "proofs:\n  interval: 1s\n" + extra)
        }
        let (eu, us) = (try daemon("EU"), try daemon("US"))
        var jp = try daemon("JP")
        for node in [eu, us, jp] { try await node.start() }
        // Before any checkpoint: one line saying so, and a failure status.
        let early = try await CommandRun.ctl(eu, ["proof"])
        #expect(early.status == 1 && early.error.contains("no checkpoint yet"), "\(early.status): \(early.error)")
        try await eu.importReserves(40, tag: "eu")
        try await jp.importReserves(25, tag: "jp")
        try await eu.syncAndWait(with: [us, jp])
        try await us.syncAndWait(with: [eu, jp])

        // Every node agrees with the other two participants, and holds a checkpoint of all three.
        for node in [eu, us, jp] {
            try await node.waitForLog("checkpoint at 65 entries", seconds: 30)
            let status = try node.status()
            #expect(Set((status.agreements ?? []).map(\.participant)) == Set(["EU", "US", "JP"]).subtracting([status.participant]))
            #expect(status.checkpoint?.entries == 65)
            #expect(status.checkpoint?.digest == status.viewDigest)
            #expect(status.checkpoint?.signedBy.count == 3)
        }

        // The proof, written out, is verified by the openssl command line alone.
        // A directory that cannot be written: one line naming it.
        let unwritable = try await CommandRun.ctl(eu, ["proof", "--out", "/proc/proof"])
        #expect(unwritable.status != 0 && unwritable.error.contains("cannot write the proof to /proc/proof"), "\(unwritable.error)")
        #expect(unwritable.error.split(separator: "\n").count == 1)
        let directory = root.path("proof")
        let written = try await CommandRun.ctl(eu, ["proof", "--out", directory])
        #expect(written.status == 0, "\(written.error)")
        #expect(written.output.contains("65"))
        let verify = try await CommandRun.run(url: URL(fileURLWithPath: "/bin/sh"), ["verify.sh"], directory: URL(fileURLWithPath: directory))
        #expect(verify.status == 0, "\(verify.output) \(verify.error)")
        #expect(verify.output.components(separatedBy: "Signature Verified Successfully").count - 1 == 3, "\(verify.output)")
        // One byte changed in one statement: openssl refuses it.
        let message = "\(directory)/JP-jp-1.msg"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: message))
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: URL(fileURLWithPath: message))
        #expect(try await CommandRun.run(url: URL(fileURLWithPath: "/bin/sh"), ["verify.sh"], directory: URL(fileURLWithPath: directory)).status != 0)

        // JP comes back knowing a mineral the others do not, and reports it: valid at JP, a
        // policy violation at EU and US. At the same vector, the views differ.
        _ = try await jp.stop()
        jp = try daemon("JP", extra: "minerals:\n  extensions:\n    - {id: proofium, name: Proofium}\n")
        let (euMark, jpMark) = (eu.logText.count, 0)
        try await jp.start()
        #expect(try jp.status().checkpoint?.entries == 65, "the checkpoint is kept across a restart")
        let _: WriteResponse = try jp.client.post("/v1/reserves", ReserveReportRequest(mineral: "proofium", quantity: "5"))
        try await eu.syncAndWait(with: [us, jp])
        try await eu.waitForLog("security event: views differ at the same vector", after: euMark, seconds: 10)
        try await jp.waitForLog("security event: views differ at the same vector", after: jpMark, seconds: 10)
        let status = try eu.status()
        let event = try #require(status.securityEvents.first { $0.kind == "views-diverge" && $0.subject == "JP/jp-1" })
        #expect(event.detail.contains(status.viewDigest), "names our digest: \(event.detail)")
        let jpStatus = try jp.status()
        #expect(jpStatus.securityEvents.contains { $0.kind == "views-diverge" && $0.detail.contains(jpStatus.viewDigest) })
        for node in [eu, us, jp] { _ = try await node.stop() }
    }
}
