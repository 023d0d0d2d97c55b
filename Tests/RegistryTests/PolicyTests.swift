import Registry
import TestSupport
import Testing

/// Nobody writes for somebody else, whoever relays the entry.
@Suite struct PolicyTests {
    let alliance = TestAlliance.standard

    /// What every receiver would refuse as malformed is refused at the author, before signing,
    /// and the author's feed does not move.
    @Test func aLocalWriteBeyondAFieldLimitIsNeverSigned() throws {
        let author = alliance.author("EU/eu-1")
        let registry = MineralRegistry()
        #expect(throws: InvalidOperation(reason: "site is longer than 128 bytes")) {
            _ = try registry.draft(Ops.report("EU", site: String(repeating: "s", count: 129)), by: author, now: 1)
        }
        let (entry, next) = try registry.draft(Ops.report("EU", site: String(repeating: "s", count: 128)), by: author, now: 1)
        #expect(entry.seq == 1 && next.nextSeq == 2 && author.nextSeq == 1)
    }

    @Test func usSignedReportOfEUReservesIsRejectedWithItsReason() throws {
        var us = alliance.author("US/us-1")
        let forged = us.write(Ops.report("EU", "gallium", "1"), at: 1)
        var registry = MineralRegistry()
        let result = registry.ingest([forged.signed], keys: alliance.keys)
        #expect(result.accepted.count == 1)  // authentic: kept as evidence, relayed
        #expect(registry.views.reserves.isEmpty)  // but it changes nothing
        let violation = try #require(registry.views.violations[forged.id])
        #expect(violation == .writesForAnotherParticipant(author: us.node, claimed: "EU", operation: "report reserves"))
        #expect(violation.description.contains("US/us-1 may not report reserves for EU"))
        // And the same request made locally is refused before anything is signed.
        #expect(throws: PolicyViolation.self) { try registry.draft(Ops.report("EU"), by: alliance.author("US/us-1"), now: 2) }
    }

    @Test func targetsForAnotherParticipantAreRejected() {
        var jp = alliance.author("JP/jp-1")
        let forged = jp.write(Ops.target("US"), at: 1)
        var registry = MineralRegistry()
        _ = registry.ingest([forged.signed], keys: alliance.keys)
        #expect(registry.views.targets.isEmpty)
        #expect(registry.views.violations[forged.id] != nil)
    }

    @Test func acknowledgementMadeForAnotherParticipantIsRejected() throws {
        var eu = alliance.author("EU/eu-1")
        var jp = alliance.author("JP/jp-1")
        let raise = eu.write(Ops.raise(), at: 1)
        let forgedAck = jp.write(Ops.ack(raise.id, "US"), at: 2)
        var registry = MineralRegistry()
        _ = registry.ingest([raise.signed, forgedAck.signed], keys: alliance.keys)
        let alert = try #require(registry.views.alert(raise.id))
        #expect(alert.acknowledgements.isEmpty)
        #expect(registry.views.violations[forgedAck.id] == .writesForAnotherParticipant(author: jp.node, claimed: "US", operation: "acknowledge an alert"))
    }

    @Test func resolveOrUpdateByANonIssuerIsRejected() throws {
        var eu = alliance.author("EU/eu-1")
        var us = alliance.author("US/us-1")
        let raise = eu.write(Ops.raise(), at: 1)
        let resolve = us.write(Ops.resolve(raise.id), at: 2)
        let update = us.write(Ops.update(raise.id, severity: .info), at: 3)
        var registry = MineralRegistry()
        _ = registry.ingest([resolve.signed, update.signed, raise.signed], keys: alliance.keys)
        let alert = try #require(registry.views.alert(raise.id))
        #expect(!alert.isResolved)
        #expect(alert.severity == .high)
        #expect(registry.views.violations[resolve.id] == .notIssuer(author: us.node, issuer: "EU", operation: "resolve the alert"))
        #expect(registry.views.violations[update.id] == .notIssuer(author: us.node, issuer: "EU", operation: "update the alert"))
        #expect(throws: PolicyViolation.notIssuer(author: us.node, issuer: "EU", operation: "resolve the alert")) {
            try registry.draft(Ops.resolve(raise.id), by: us, now: 4)
        }
        // Another EU node may resolve it: the issuer is the participant, not the node.
        let eu2 = alliance.author("EU/eu-2")
        #expect(throws: Never.self) { try registry.draft(Ops.resolve(raise.id), by: eu2, now: 5) }
    }

    @Test func unknownMineralsAndMalformedOperationsAreNotFolded() throws {
        var us = alliance.author("US/us-1")
        let unknown = us.write(Ops.report("US", "unobtainium", "1"), at: 1)
        let (negative, _) = try HandcraftedEntries.negativeReserve(by: us, now: 2)
        var registry = MineralRegistry()
        let result = registry.ingest([unknown.signed, negative.signed], keys: alliance.keys)
        #expect(result.accepted.count == 2)
        #expect(registry.views.reserves.isEmpty)
        #expect(registry.views.violations[unknown.id] == .unknownMineral(try MineralID("unobtainium")))
        guard case .malformedOperation(let reason) = registry.views.violations[negative.id] else {
            Issue.record("negative quantity folded")
            return
        }
        #expect(reason.contains("\"-5\""))
        // A node whose catalogue was extended by config folds the same entry.
        let extended = EntryPolicy(catalogue: try MineralCatalogue(extensions: [(id: "unobtainium", name: "Unobtainium")]))
        var other = MineralRegistry(policy: extended)
        _ = other.ingest([unknown.signed], keys: alliance.keys)
        #expect(other.views.reserves.count == 1)
    }

    @Test func localRequestsAgainstUnknownOrResolvedAlertsAreRefused() throws {
        var registry = MineralRegistry()
        var eu = alliance.author("EU/eu-1")
        let ghost = SHA256Probe.id
        #expect(throws: PolicyViolation.unknownAlert(ghost)) { try registry.draft(Ops.ack(ghost, "EU"), by: eu, now: 1) }
        let (raise, next) = try registry.draft(Ops.raise(), by: eu, now: 2)
        try registry.adoptOwn(raise)
        eu = next
        let (resolve, after) = try registry.draft(Ops.resolve(raise.id), by: eu, now: 3)
        try registry.adoptOwn(resolve)
        #expect(throws: PolicyViolation.alertResolved(raise.id)) { try registry.draft(Ops.update(raise.id, severity: .low), by: after, now: 4) }
    }
}

enum SHA256Probe {
    static let id = EntryID(bytes: [UInt8](repeating: 7, count: 32))!
}
