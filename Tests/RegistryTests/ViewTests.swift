import Foundation
import Registry
import TestSupport
import Testing

@Suite struct ViewTests {
    let alliance = TestAlliance.standard

    @Test func latestReportWinsAndHistoryIsKept() throws {
        var eu1 = alliance.author("EU/eu-1")
        var eu2 = alliance.author("EU/eu-2")
        let old = eu1.write(Ops.report("EU", "gallium", "100"), at: 1_000)
        let newer = eu2.write(Ops.report("EU", "gallium", "80"), at: 2_000)
        let newest = eu1.write(Ops.report("EU", "gallium", "95"), at: 3_000)
        var views = RegistryViews()
        views.fold([newer, old, newest])
        let key = ReserveKey(participant: "EU", mineral: try MineralID("gallium"), site: "")
        #expect(views.reserve(key)?.report.quantity.amount.text == "95")
        #expect(views.history(of: key, in: [newest, newer, old]).map(\.report.quantity.amount.text) == ["100", "80", "95"])
    }

    /// A register's history is its writes in event order, and its latest the greatest: every
    /// interleaving of the feeds, with repeats, gives the same, and a repeat is not counted.
    @Test func registerHistoryIsOrderedAndFreeOfRepeatsWhateverTheArrivalOrder() throws {
        var eu1 = alliance.author("EU/eu-1")
        var eu2 = alliance.author("EU/eu-2")
        var writes: [Entry] = []
        for index in 0..<12 {
            let op = Ops.report("EU", "gallium", "\(100 + index)")
            // Two nodes, one clock reading shared by each pair: order falls back to node, then id.
            writes.append(index % 2 == 0 ? eu1.write(op, at: UInt64(1_000 + index / 2)) : eu2.write(op, at: UInt64(1_000 + index / 2)))
        }
        let key = ReserveKey(participant: "EU", mineral: try MineralID("gallium"), site: "")
        var reference = RegistryViews()
        reference.fold(writes)
        let expected = reference.history(of: key, in: writes).map(\.order)
        #expect(expected == expected.sorted())
        #expect(expected.count == writes.count)
        var random = SplitMix64(seed: 7)
        for _ in 0..<20 {
            let arrivals = writes.interleavingFeeds(repeating: 5, using: &random)
            var views = RegistryViews()
            views.fold(arrivals)
            #expect(views.history(of: key, in: arrivals.shuffled(using: &random)).map(\.order) == expected)
            #expect(views.reserve(key)?.order == expected.last)
            #expect(views.entryCount == writes.count)
        }
    }

    @Test func sitesAreSeparateRegistersAndTotalsPreferTheReportedTotal() throws {
        var us = alliance.author("US/us-1")
        let a = us.write(Ops.report("US", "graphite", "10", site: "Nevada"), at: 1)
        let b = us.write(Ops.report("US", "graphite", "500", unit: .kilogram, site: "Ohio"), at: 2)
        var jp = alliance.author("JP/jp-1")
        let c = jp.write(Ops.report("JP", "graphite", "7"), at: 3)
        var views = RegistryViews()
        views.fold([a, b, c])
        let graphite = try MineralID("graphite")
        #expect(views.level(of: "US", graphite) == Decimal(string: "10.5"))
        #expect(views.allianceTotals[graphite] == Decimal(string: "17.5"))
        let total = us.write(Ops.report("US", "graphite", "12"), at: 4)
        views.fold(total)
        #expect(views.level(of: "US", graphite) == 12)
    }

    @Test func coverageIsLevelOverTarget() throws {
        var jp = alliance.author("JP/jp-1")
        let level = jp.write(Ops.report("JP", "tungsten", "30"), at: 1)
        let target = jp.write(Ops.target("JP", "tungsten", "40"), at: 2)
        var views = RegistryViews()
        views.fold([level, target])
        #expect(views.coverage[TargetKey(participant: "JP", mineral: try MineralID("tungsten"))] == Decimal(string: "0.75"))
    }

    @Test func alertsApplyIssuerUpdatesAcksAndTerminalResolution() throws {
        var eu = alliance.author("EU/eu-1")
        var us = alliance.author("US/us-1")
        var jp = alliance.author("JP/jp-1")
        let raise = eu.write(Ops.raise("gallium", "export ban", severity: .high), at: 1_000)
        let ackUS = us.write(Ops.ack(raise.id, "US"), at: 1_100)
        let ackJP = jp.write(Ops.ack(raise.id, "JP"), at: 1_200)
        let ackJPAgain = jp.write(Ops.ack(raise.id, "JP"), at: 1_300)
        let update = eu.write(Ops.update(raise.id, severity: .critical, summary: "export ban widened"), at: 1_400)
        let resolve = eu.write(Ops.resolve(raise.id, "ban lifted"), at: 1_500)
        let late = eu.write(Ops.update(raise.id, severity: .low), at: 1_600)
        var random = SplitMix64(seed: 42)
        for _ in 0..<24 {
            var views = RegistryViews()
            views.fold([late, resolve, ackJPAgain, update, ackJP, ackUS, raise].interleavingFeeds(using: &random))
            let alert = try #require(views.alert(raise.id))
            #expect(alert.severity == .critical)  // the update after resolution does not apply
            #expect(alert.summary == "export ban widened")
            #expect(Set(alert.acknowledgements.keys) == ["US", "JP"])
            #expect(alert.acknowledgements["JP"]?.at.wallMillis == 1_200)  // the first acknowledgement counts
            #expect(alert.resolution?.note == "ban lifted")
            #expect(alert.resolution?.at.wallMillis == 1_500)
            #expect(alert.updatedAt.wallMillis == 1_400)
            #expect(alert.issuer == eu.node)
        }
    }

    /// Another node of the issuer's participant updates the alert; its feed is folded first.
    @Test func updatesBeforeTheirRaiseWaitForIt() throws {
        var eu1 = alliance.author("EU/eu-1")
        var eu2 = alliance.author("EU/eu-2")
        let raise = eu1.write(Ops.raise(), at: 1)
        let update = eu2.write(Ops.update(raise.id, summary: "revised"), at: 2)
        var views = RegistryViews()
        views.fold(update)
        #expect(views.alerts.isEmpty)
        views.fold(raise)
        #expect(views.alert(raise.id)?.summary == "revised")
    }

    @Test func digestChangesWithContent() {
        var eu = alliance.author("EU/eu-1")
        var views = RegistryViews()
        let empty = views.digest
        views.fold(eu.write(Ops.report("EU"), at: 1))
        #expect(views.digest != empty)
    }

    /// A register keeps, per feed, the chain of its writes' ids: two feeds writing one register,
    /// folded in any interleaving, give the digest of the same writes folded in order; a write
    /// left out changes it; a write folded again changes nothing.
    @Test func aRegistersIDChainsGiveTheSameDigestWhateverOrderItWasBuiltIn() {
        var eu1 = alliance.author("EU/eu-1")
        var eu2 = alliance.author("EU/eu-2")
        let writes = (1...40).map { index in
            index % 3 == 0
                ? eu2.write(Ops.report("EU", "gallium", "\(index)"), at: UInt64(index) * 1_000)
                : eu1.write(Ops.report("EU", "gallium", "\(index)"), at: UInt64(index) * 1_000)
        }
        var inOrder = RegistryViews()
        inOrder.fold(writes)
        var feedByFeed = RegistryViews()
        feedByFeed.fold(writes.filter { $0.origin == eu2.node } + writes.filter { $0.origin == eu1.node })
        #expect(feedByFeed.digest == inOrder.digest)
        var generator = SplitMix64(seed: 7)
        var shuffled = RegistryViews()
        shuffled.fold(writes.interleavingFeeds(using: &generator))
        #expect(shuffled.digest == inOrder.digest)
        var missing = RegistryViews()
        missing.fold(Array(writes.dropFirst()))
        #expect(missing.digest != inOrder.digest)
        var again = RegistryViews()
        again.fold(writes)
        again.fold(writes.interleavingFeeds(using: &generator))
        #expect(again.digest == inOrder.digest)
        #expect(again.entryCount == writes.count)
        // Same count, same latest, one earlier write of the other feed different: another digest.
        var eu2Other = alliance.author("EU/eu-2")
        let other = eu2Other.write(Ops.report("EU", "gallium", "9999"), at: 3_000)
        var changed = RegistryViews()
        changed.fold(writes.filter { $0.id != writes[2].id } + [other])
        #expect(
            changed.history(
                of: ReserveKey(participant: "EU", mineral: try! MineralID("gallium"), site: ""),
                in: writes.filter { $0.id != writes[2].id } + [other]
            ).count == writes.count)
        #expect(changed.reserves == inOrder.reserves)
        #expect(changed.digest != inOrder.digest)
    }

    /// Writes with the same clock reading are ordered by node, then by entry id: the greater
    /// wins. Every implementation must pick the same winner, so the rule is pinned here.
    @Test func equalClocksAreOrderedByNodeThenByEntryID() throws {
        var eu1 = alliance.author("EU/eu-1")
        var eu2 = alliance.author("EU/eu-2")
        let one = eu1.write(Ops.report("EU", "gallium", "1"), at: 5_000)
        let two = eu2.write(Ops.report("EU", "gallium", "2"), at: 5_000)
        #expect(one.clock == two.clock)
        var views = RegistryViews()
        views.fold([two, one])
        let key = ReserveKey(participant: "EU", mineral: try MineralID("gallium"))
        #expect(views.reserve(key)?.report.quantity.amount.text == "2", "EU/eu-2 > EU/eu-1")
        // Same clock and node (two processes under one identity, a fork): the greater entry id
        // is the later. The views never hold both (the ledger freezes a forked feed), but the
        // order is total.
        var twin = eu1
        let a = eu1.write(Ops.report("EU", "graphite", "3"), at: 6_000)
        let b = twin.write(Ops.report("EU", "graphite", "4"), at: 6_000)
        #expect((EventOrder(a) < EventOrder(b)) == (a.id < b.id))
    }

    @Test func aZeroTargetHasNoCoverage() throws {
        var jp = alliance.author("JP/jp-1")
        var views = RegistryViews()
        views.fold([jp.write(Ops.report("JP", "tungsten", "30"), at: 1), jp.write(Ops.target("JP", "tungsten", "0"), at: 2)])
        #expect(views.coverage.isEmpty)
    }

    /// Equal digests must mean an equal registry, history included (`reserve history` shows it),
    /// and entries of operations this version does not know.
    @Test func theDigestCoversHistoryAndUnknownOperations() throws {
        var eu = alliance.author("EU/eu-1")
        let old = eu.write(Ops.report("EU", "gallium", "1"), at: 1)
        let new = eu.write(Ops.report("EU", "gallium", "2"), at: 2)
        var withHistory = RegistryViews()
        var latestOnly = RegistryViews()
        withHistory.fold([old, new])
        latestOnly.fold(new)
        #expect(withHistory.reserves == latestOnly.reserves)
        #expect(withHistory.digest != latestOnly.digest)
        // The same number of writes and the same latest, but another earlier write.
        var eu2 = alliance.author("EU/eu-2")
        let otherOld = eu2.write(Ops.report("EU", "gallium", "7"), at: 1)
        var otherHistory = RegistryViews()
        otherHistory.fold([otherOld, new])
        #expect(otherHistory.reserves == withHistory.reserves)
        #expect(otherHistory.digest != withHistory.digest)
        let (unknown, _) = try HandcraftedEntries.unknownOperation(by: eu, now: 3)
        var withUnknown = withHistory
        withUnknown.fold(unknown)
        #expect(withUnknown.digest != withHistory.digest)
    }

    /// An update with expiry 0 clears the expiry; an alert is expired from its expiry instant on.
    @Test func expiryIsClearedByZeroAndHoldsFromItsInstant() throws {
        var eu = alliance.author("EU/eu-1")
        let raise = eu.write(
            .raiseAlert(AlertRaise(mineral: try MineralID("gallium"), severity: .low, category: .other, summary: "s", expiresAtMillis: 9_000)), at: 1)
        var views = RegistryViews()
        views.fold(raise)
        let alert = try #require(views.alert(raise.id))
        #expect(!alert.isExpired(nowMillis: 8_999))
        #expect(alert.isExpired(nowMillis: 9_000))
        views.fold(eu.write(.updateAlert(AlertUpdate(alertID: raise.id, expiresAtMillis: 0)), at: 2))
        #expect(views.alert(raise.id)?.expiresAtMillis == nil)
        #expect(views.alert(raise.id)?.isExpired(nowMillis: .max) == false)
    }
}
