import OpenSSLCrypto
import PropertyBased
import Registry
import TestSupport
import Testing

/// CRDT laws over random histories: 3 participants, 5 nodes, every operation kind, including
/// entries that break the policy. The registry must be a function of the *set* of entries.
@Suite struct ConvergencePropertyTests {
    static let alliance = TestAlliance.standard

    /// Any permutation, with duplicates, folds to the same digest.
    @Test func foldingIsOrderAndDuplicateInsensitive() async {
        await propertyCheck(count: 200, input: Gen.uint64(), Gen.int(in: 5...60)) { seed, size in
            var random = SplitMix64(seed: seed)
            let history = RandomHistory.make(alliance: Self.alliance, size: size, random: &random)
            var reference = RegistryViews()
            reference.fold(history)
            var shuffled = history + history.prefix(size / 3)
            shuffled.shuffle(using: &random)
            var views = RegistryViews()
            views.fold(shuffled)
            #expect(views.digest == reference.digest)
            #expect(views.entryCount == history.count)
        }
    }

    /// Merge (union of folded entries) is idempotent, commutative and associative.
    @Test func mergeLaws() async {
        await propertyCheck(count: 200, input: Gen.uint64(), Gen.int(in: 6...45)) { seed, size in
            var random = SplitMix64(seed: seed)
            let history = RandomHistory.make(alliance: Self.alliance, size: size, random: &random)
            let a = history.filter { _ in random.next() % 2 == 0 }
            let b = history.filter { _ in random.next() % 2 == 0 }
            let c = history.filter { _ in random.next() % 3 == 0 }
            func merged(_ parts: [Entry]...) -> SHA256Digest {
                var views = RegistryViews()
                for part in parts { views.fold(part) }
                return views.digest
            }
            #expect(merged(a, a) == merged(a))
            #expect(merged(a, b) == merged(b, a))
            #expect(merged(a, b, c) == merged(a, c, b))
            #expect(merged(merged2(a, b), c) == merged(a, merged2(b, c)))
        }
        func merged2(_ x: [Entry], _ y: [Entry]) -> [Entry] { x + y }
    }

    /// Replicas receiving the same entries in different batches and orders, through the full
    /// validation path (signatures, chains, gaps), end with identical ledgers and views.
    @Test func replicasConvergeThroughTheLedger() async {
        await propertyCheck(count: 200, input: Gen.uint64(), Gen.int(in: 5...50)) { seed, size in
            var random = SplitMix64(seed: seed)
            let history = RandomHistory.make(alliance: Self.alliance, size: size, random: &random)
            var digests: Set<SHA256Digest> = []
            var vectors: Set<VersionVector> = []
            for _ in 0..<3 {
                var registry = MineralRegistry()
                var delivery = (history + history.prefix(Int(random.next() % UInt64(size)))).map(\.signed)
                delivery.shuffle(using: &random)
                while !delivery.isEmpty {
                    let batch = Int(random.next() % 7) + 1
                    let result = registry.ingest(Array(delivery.prefix(batch)), keys: Self.alliance.keys)
                    #expect(result.rejected.isEmpty && result.forks.isEmpty)
                    delivery.removeFirst(min(batch, delivery.count))
                }
                #expect(registry.ledger.pendingCount == 0)
                digests.insert(registry.views.digest)
                vectors.insert(registry.vector)
            }
            #expect(digests.count == 1)
            #expect(vectors.count == 1)
        }
    }

    @Test func versionVectorMergeLaws() async {
        let nodes = Self.alliance.ids
        let vector = Gen.int(in: 0...20).array(of: nodes.count).map { counts in
            VersionVector(Dictionary(uniqueKeysWithValues: zip(nodes, counts.map(UInt64.init))))
        }
        await propertyCheck(count: 200, input: vector, vector, vector) { a, b, c in
            #expect(a.merging(a) == a)
            #expect(a.merging(b) == b.merging(a))
            #expect(a.merging(b).merging(c) == a.merging(b.merging(c)))
            #expect(a.merging(b).dominates(a))
            let missing = a.missing(comparedTo: b)
            var filled = a
            for (node, range) in missing { filled[node] = range.upperBound }
            #expect(filled.dominates(b))
        }
    }
}


enum RandomHistory {
    static let minerals = ["gallium", "graphite", "tungsten"]

    /// `size` entries across the alliance's feeds. Clocks collide on purpose (several nodes in
    /// one millisecond) so that tie-breaks by node and id are exercised; some entries break the
    /// policy (writing for another participant, acting on another's alert).
    static func make(alliance: TestAlliance, size: Int, random: inout SplitMix64) -> [Entry] {
        var authors = Dictionary(uniqueKeysWithValues: alliance.ids.map { ($0, FeedAuthor(node: $0, key: alliance.nodes[$0]!)) })
        var alerts: [EntryID] = []
        var entries: [Entry] = []
        let participants: [ParticipantID] = ["EU", "US", "JP"]
        for _ in 0..<size {
            let node = alliance.ids[Int(random.next() % UInt64(alliance.ids.count))]
            let own = node.participant
            let roll = random.next() % 100
            let someone = participants[Int(random.next() % 3)]
            let mineral = minerals[Int(random.next() % 3)]
            let amount = "\(random.next() % 1000)"
            let operation: EntryOperation
            switch roll {
            case 0..<35: operation = Ops.report(roll < 3 ? someone : own, mineral, amount, site: random.next() % 2 == 0 ? "" : "depot-\(random.next() % 2)")
            case 35..<45: operation = Ops.target(own, mineral, amount)
            case 45..<60: operation = Ops.raise(mineral, "event \(random.next() % 10)")
            default:
                guard let alert = alerts.randomElement(using: &random) else { operation = Ops.raise(mineral); break }
                switch roll {
                case 60..<75: operation = Ops.ack(alert, roll < 62 ? someone : own)
                case 75..<88: operation = Ops.update(alert, severity: Severity(rawValue: Int(random.next() % 5) + 1))
                default: operation = Ops.resolve(alert)
                }
            }
            let entry = authors[node]!.write(operation, at: 1_000 + random.next() % 20)
            if case .raiseAlert = operation { alerts.append(entry.id) }
            entries.append(entry)
        }
        return entries
    }
}
