import Registry
import TestSupport
import Testing

/// The generator behind the property tests produces the cases those tests are meant to cover:
/// a property over histories that never hold a fork (say) proves nothing about forks.
@Suite struct RandomHistoryTests {
    @Test func everyInterestingCaseOccursInAGoodShareOfHistories() {
        var random = SplitMix64(seed: 2026)
        var seen: [RandomHistory.Feature: Int] = [:]
        let histories = 200
        for _ in 0..<histories {
            let size = 20 + Int(random.next() % 41)
            let history = RandomHistory.make(alliance: .standard, size: size, forks: true, random: &random)
            for feature in history.features { seen[feature, default: 0] += 1 }
            // The bookkeeping is right: a forked feed really holds two entries for one position.
            for feed in history.forkedFeeds {
                let seqs = history.entries.filter { $0.origin == feed }.map(\.seq)
                #expect(Set(seqs).count < seqs.count, "\(feed) is called forked but has no repeated position")
            }
        }
        for feature in RandomHistory.Feature.allCases {
            let share = Double(seen[feature, default: 0]) / Double(histories)
            #expect(share >= 0.15, "\(feature) occurs in only \(Int(share * 100))% of histories")
        }
    }

    @Test func withoutForksNoPositionIsSignedTwice() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<50 {
            let history = RandomHistory.make(alliance: .standard, size: 60, random: &random)
            #expect(history.forkedFeeds.isEmpty)
            let positions = history.entries.map { "\($0.origin)#\($0.seq)" }
            #expect(Set(positions).count == positions.count)
        }
    }
}
