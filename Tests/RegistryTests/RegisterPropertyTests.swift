import PropertyBased
import Registry
import TestSupport
import Testing

/// A register keeps only the writes that can still be its latest: its latest, folded in any
/// interleaving of the feeds, is the one entry.proto's "Causality" rule picks from the whole set
/// of writes, with writes naming earlier ones or none, concurrent writes, and a clock a day fast.
@Suite struct RegisterPropertyTests {
    static let alliance = TestAlliance.standard
    static let key = ReserveKey(participant: "EU", mineral: try! MineralID("gallium"))

    /// The rule, over the whole set: a write named in another's `supersedes` is superseded; a
    /// write without `supersedes` is, unless it is the greatest such; the latest is the greatest
    /// write left.
    static func latestByTheRule(_ writes: [Entry]) -> EntryID? {
        let named = Set(writes.compactMap(\.supersedes))
        let greatestUnlinked = writes.filter { $0.supersedes == nil }.max { EventOrder($0) < EventOrder($1) }
        return writes.filter { !named.contains($0.id) && ($0.supersedes != nil || $0.id == greatestUnlinked?.id) }
            .max { EventOrder($0) < EventOrder($1) }?.id
    }

    @Test func theLatestIsTheRulesWhateverTheInterleaving() async {
        await propertyCheck(count: 300, input: Gen.uint64(), Gen.int(in: 1...40)) { seed, size in
            var random = SplitMix64(seed: seed)
            let eu1 = Self.alliance.node("EU/eu-1")
            var authors = [
                Self.alliance.author("EU/eu-1"), Self.alliance.author("EU/eu-2"),
                FeedAuthor(node: try! NodeID(participant: "EU", name: "eu-1", segment: 1), key: Self.alliance.nodes[eu1]!)
            ]
            var writes: [Entry] = []
            for index in 0..<size {
                let author = Int(random.next() % 3)
                // EU/eu-1's second segment has a clock a day fast: what it writes sorts after what others write later.
                let now = 1_000_000 + UInt64(index) * 1_000 + (author == 2 ? 86_400_000 : 0)
                var operation = Ops.report("EU", "gallium", "\(index)")
                // Mostly naming a write seen before (not always the latest: concurrent writers),
                // sometimes none (an author that predates the field).
                if !writes.isEmpty, random.next() % 4 != 0, case .reportReserve(var report) = operation {
                    report.supersedes = writes[Int(random.next() % UInt64(writes.count))].id
                    operation = .reportReserve(report)
                }
                writes.append(authors[author].write(operation, at: now))
            }
            let expected = Self.latestByTheRule(writes)
            for _ in 0..<3 {
                var views = RegistryViews()
                views.fold(writes.interleavingFeeds(repeating: size / 4, using: &random))
                #expect(views.reserve(Self.key)?.order.id == expected)
                #expect(views.entryCount == writes.count)
                // A snapshot of these views gives the same views.
                let restored = try? RegistryViews(snapshot: views.snapshot(alertEntries: []))
                #expect(restored?.digest == views.digest)
                #expect(restored?.reserve(Self.key) == views.reserve(Self.key))
            }
        }
    }
}
