import Foundation
import Registry
import Testing

@testable import SyncNode

/// What a session logs about refused entries is bounded per window, whatever the peer sends.
@Suite struct RejectionLogTests {
    func rejection(_ reason: EntryRejection.Reason, _ n: Int) -> EntryRejection {
        EntryRejection(id: EntryID(hex: String(repeating: String(format: "%02x", n % 256), count: 32))!, origin: nil, seq: UInt64(n), reason: reason)
    }

    @Test func aFloodIsLoggedAsAFewLinesAndOneSummaryPerWindow() {
        var log = RejectionLog(window: 10, detailedPerWindow: 3)
        let start = Date(timeIntervalSince1970: 1_000)
        let flood = (0..<100_000).map { rejection($0 % 10 == 0 ? .badSignature : .malformed(.missingClock), $0) }
        let lines = log.record(flood, now: start)
        #expect(lines.count == 3 && lines.allSatisfy { if case .detail = $0 { true } else { false } })
        #expect(log.record([rejection(.brokenChain, 1)], now: start.addingTimeInterval(5)).isEmpty)
        // The window ends: one summary of what went unlogged, then details again.
        let next = log.record([rejection(.badSignature, 2)], now: start.addingTimeInterval(11))
        #expect(next.count == 2)
        #expect(next.first?.summaryText == "rejected 99,998 more entries in the last 11 s: malformed 89,998, bad signature 9,999, broken chain 1")
        #expect(next.last == .detail(rejection(.badSignature, 2)))
        // Closing flushes at once; nothing unlogged, nothing said.
        #expect(log.flush(now: start.addingTimeInterval(12), force: true) == nil)
    }

    @Test func countsAreGroupedInThousands() {
        #expect([0, 7, 999, 1_000, 12_345, 1_912_331].map(RejectionLog.Line.grouped) == ["0", "7", "999", "1,000", "12,345", "1,912,331"])
    }

    @Test func penaltiesDoubleUpToTheirMaximum() {
        let policy = PenaltyPolicy(base: 30, maximum: 3600)
        #expect((1...9).map { policy.duration(offence: $0) } == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600])
        #expect(policy.duration(offence: 1_000_000) == 3600)
    }

    /// Offences double the penalty while they come within a day of each other; after a quiet
    /// day the count starts again.
    @Test func offencesAreForgottenAfterAQuietDay() throws {
        let peers = PeerManager(local: try NodeID("EU/eu-1"), penaltyPolicy: PenaltyPolicy(base: 30, maximum: 3600, forgiveness: 86_400))
        let partner = try NodeID("JP/jp-1")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        _ = peers.penalize(partner, reason: "first", now: start)
        let second = peers.penalize(partner, reason: "second", now: start.addingTimeInterval(3_600))
        #expect(second.timeIntervalSince(start.addingTimeInterval(3_600)) == 60)
        #expect(peers.health(of: partner)?.offences == 2)
        let afterQuiet = start.addingTimeInterval(3_600 + 86_401)
        let third = peers.penalize(partner, reason: "third", now: afterQuiet)
        #expect(third.timeIntervalSince(afterQuiet) == 30)
        #expect(peers.health(of: partner)?.offences == 1)
    }

    @Test func onlyWhatNoHonestNodeSendsCountsAsInvalid() {
        #expect(EntryRejection.Reason.badSignature.isInvalid && EntryRejection.Reason.brokenChain.isInvalid)
        #expect(EntryRejection.Reason.malformed(.missingClock).isInvalid)
        #expect(!EntryRejection.Reason.malformed(.unsupportedFormat(2)).isInvalid, "a newer node's format is not an offence")
        #expect(!EntryRejection.Reason.unknownOrigin.isInvalid && !EntryRejection.Reason.waitingFull(limit: 1, scope: .node).isInvalid)
    }
}
