import Foundation
import OpenSSLCrypto
import Registry
import TestSupport
import Testing

/// Which committed entries notify hooks: the pure part of hooks, against views that do or do
/// not hold the entries yet (received entries are folded before they are committed, a node's
/// own after).
@Suite struct RegistryEventFilterTests {
    let alliance = TestAlliance.standard
    let now: UInt64 = 1_800_000_000_000
    let everything = RegistryEventFilter(kinds: Set(RegistryEventKind.allCases), maximumAgeMillis: 7 * 86_400_000)

    func views(_ entries: [Entry]) -> RegistryViews {
        var views = RegistryViews()
        views.fold(entries)
        return views
    }

    @Test func anAlertsLifeNotifiesOncePerStepWithItsSeverityAsItWasThenWhetherOrNotTheViewsHoldIt() {
        var eu = alliance.author("EU/eu-1")
        var us = alliance.author("US/us-1")
        let raise = eu.write(Ops.raise("gallium", severity: .medium), at: now - 5)
        let update = eu.write(Ops.update(raise.id, severity: .critical), at: now - 4)
        let ack = us.write(Ops.ack(raise.id, "US"), at: now - 3)
        let resolve = eu.write(Ops.resolve(raise.id), at: now - 2)
        let batch = [raise, update, ack, resolve]
        for seen in [views([]), views(batch)] {
            let events = everything.events(for: batch, views: seen, folded: seen.folded.total > 0, nowMillis: now)
            #expect(events.map(\.kind) == [.alertRaised, .alertUpdated, .alertAcknowledged, .alertResolved])
            #expect(events.map(\.severity) == [.medium, .critical, .critical, .critical])
            #expect(events.allSatisfy { $0.subject == .alert(raise.id) && $0.mineral.rawValue == "gallium" })
            #expect(events.map(\.id) == batch.enumerated().map { "\(events[$0.offset].kind.rawValue)/\($0.element.id.hex)" })
        }
        // Later batches find the alert in the views.
        let later = everything.events(for: [ack], views: views([raise, update]), folded: false, nowMillis: now)
        #expect(later.map(\.severity) == [.critical])
    }

    @Test func entriesNoViewShowsNotifyNobody() {
        var eu = alliance.author("EU/eu-1")
        var us = alliance.author("US/us-1")
        let raise = eu.write(Ops.raise("gallium"), at: now - 5)
        // US may not update, resolve or acknowledge for EU what EU raised; nor set EU's target.
        let forged = [
            us.write(Ops.update(raise.id, severity: .critical), at: now - 4), us.write(Ops.resolve(raise.id), at: now - 3),
            us.write(Ops.ack(raise.id, "EU"), at: now - 2), us.write(Ops.target("EU"), at: now - 1)
        ]
        #expect(everything.events(for: forged, views: views([raise]), folded: false, nowMillis: now).isEmpty)
        // An alert on nothing anyone knows of: no mineral, no event.
        let unknown = eu.write(Ops.ack(SHA256.hash([1, 2, 3]), "EU"), at: now)
        #expect(everything.events(for: [unknown], views: views([]), folded: false, nowMillis: now).isEmpty)
    }

    @Test func aReserveBelowItsTargetNotifiesWhetherTheReportOrTheTargetComesLast() {
        var eu = alliance.author("EU/eu-1")
        let target = eu.write(Ops.target("EU", "gallium", "200"), at: now - 3)
        let low = eu.write(Ops.report("EU", "gallium", "150"), at: now - 2)
        let high = eu.write(Ops.report("EU", "gallium", "250"), at: now - 1)
        #expect(everything.events(for: [low], views: views([target]), folded: false, nowMillis: now).map(\.kind) == [.reserveBelowTarget])
        #expect(everything.events(for: [low], views: views([target, low]), folded: true, nowMillis: now).map(\.kind) == [.reserveBelowTarget])
        #expect(everything.events(for: [high], views: views([target, low]), folded: false, nowMillis: now).isEmpty)
        // A raised target leaves a held level below it.
        let raised = eu.write(Ops.target("EU", "gallium", "300"), at: now)
        let events = everything.events(for: [raised], views: views([target, low, high]), folded: false, nowMillis: now)
        #expect(events.map(\.kind) == [.reserveBelowTarget])
        #expect(events.first?.subject == .level(TargetKey(participant: "EU", mineral: try! MineralID("gallium"))))
        // kg count as tonnes; without a target nothing is below it.
        let kilograms = eu.write(Ops.report("EU", "tungsten", "900", unit: .kilogram), at: now)
        #expect(everything.events(for: [kilograms], views: views([]), folded: false, nowMillis: now).isEmpty)
        let tungstenTarget = eu.write(Ops.target("EU", "tungsten", "1"), at: now)
        #expect(everything.events(for: [kilograms], views: views([tungstenTarget]), folded: false, nowMillis: now).map(\.kind) == [.reserveBelowTarget])
    }

    /// A received report older than the one shown (it arrived late) says nothing about the
    /// level now: it does not page, though its own figure is below the target.
    @Test func aLateOlderReportOrTargetDoesNotPage() {
        var eu1 = alliance.author("EU/eu-1")
        var eu2 = alliance.author("EU/eu-2")
        let olderTarget = eu2.write(Ops.target("EU", "gallium", "300"), at: now - 20)
        let target = eu1.write(Ops.target("EU", "gallium", "200"), at: now - 10)
        let older = eu2.write(Ops.report("EU", "gallium", "150"), at: now - 5)
        let newer = eu1.write(Ops.report("EU", "gallium", "250"), at: now - 1)
        #expect(everything.events(for: [older], views: views([target, newer, older]), folded: true, nowMillis: now).isEmpty)
        #expect(everything.events(for: [older], views: views([target, older]), folded: true, nowMillis: now).count == 1)
        // Below the target already: the late report is no news, and pages nobody a second time.
        let low = eu1.write(Ops.report("EU", "gallium", "180"), at: now)
        #expect(everything.events(for: [older], views: views([target, low, older]), folded: true, nowMillis: now).isEmpty)
        #expect(everything.events(for: [low], views: views([target, older, low]), folded: true, nowMillis: now).count == 1)
        #expect(everything.events(for: [olderTarget], views: views([target, newer, olderTarget]), folded: true, nowMillis: now).isEmpty)
    }

    @Test func sitesAddUpWhenThereIsNoTotal() {
        var eu = alliance.author("EU/eu-1")
        let target = eu.write(Ops.target("EU", "gallium", "200"), at: now - 3)
        let rotterdam = eu.write(Ops.report("EU", "gallium", "120", site: "Rotterdam"), at: now - 2)
        let hamburg = eu.write(Ops.report("EU", "gallium", "90", site: "Hamburg"), at: now - 1)
        // 120 alone is below; 120 + 90 is not, folded or not.
        #expect(everything.events(for: [rotterdam], views: views([target]), folded: false, nowMillis: now).count == 1)
        #expect(everything.events(for: [hamburg], views: views([target, rotterdam]), folded: false, nowMillis: now).isEmpty)
        #expect(everything.events(for: [hamburg], views: views([target, rotterdam, hamburg]), folded: true, nowMillis: now).isEmpty)
        // A site's report changed to a lower figure counts once, not beside its old figure.
        let lower = eu.write(Ops.report("EU", "gallium", "60", site: "Hamburg"), at: now)
        #expect(everything.events(for: [lower], views: views([target, rotterdam, hamburg]), folded: false, nowMillis: now).count == 1)
    }

    @Test func onlyTheKindsAskedForAndOnlyRecentEntriesNotify() {
        var eu = alliance.author("EU/eu-1")
        let old = eu.write(Ops.raise("gallium", "last year's ban"), at: now - 8 * 86_400_000)
        let recent = eu.write(Ops.raise("graphite", "today's ban"), at: now - 60_000)
        let resolved = eu.write(Ops.resolve(old.id), at: now - 1)
        #expect(everything.events(for: [old, recent, resolved], views: views([]), folded: false, nowMillis: now).map(\.entry) == [recent.id, resolved.id])
        let raisesOnly = RegistryEventFilter(kinds: [.alertRaised], maximumAgeMillis: 7 * 86_400_000)
        #expect(raisesOnly.events(for: [old, recent, resolved], views: views([]), folded: false, nowMillis: now).map(\.entry) == [recent.id])
        #expect(RegistryEventFilter(kinds: [], maximumAgeMillis: .max).events(for: [recent], views: views([]), folded: false, nowMillis: now).isEmpty)
    }
}
