import OpenSSLCrypto
import PropertyBased
import Registry
import TestSupport
import Testing

/// CRDT laws over random histories: 3 participants, 5 nodes, every operation kind, entries that
/// break the policy, unknown and malformed operations, mixed units, canonically equivalent site
/// spellings, and forks. The ledger takes entries as a set (any order, any batches, repeats);
/// the views are a function of the feed prefixes it releases, each feed in seq order.
///
/// Every comparison is made against a reference folded in the authors' own order, never only
/// between replicas: a bug that loses the same entry everywhere still fails.
@Suite struct ConvergencePropertyTests {
    static let alliance = TestAlliance.standard

    static func folded(_ entries: [Entry]) -> RegistryViews {
        var views = RegistryViews()
        views.fold(entries)
        return views
    }

    /// Any interleaving of the feeds, with repeats, folds to the reference digest and counts
    /// each entry once.
    @Test func foldingIsInterleavingAndRepeatInsensitive() async {
        await propertyCheck(count: 200, input: Gen.uint64(), Gen.int(in: 5...60)) { seed, size in
            var random = SplitMix64(seed: seed)
            let history = RandomHistory.make(alliance: Self.alliance, size: size, random: &random)
            let reference = Self.folded(history.entries)
            let views = Self.folded(history.entries.interleavingFeeds(repeating: size / 3, using: &random))
            #expect(views.digest == reference.digest)
            #expect(views.entryCount == history.entries.count)
            #expect(views.reserves == reference.reserves)
            #expect(views.alerts == reference.alerts)
        }
    }

    /// Merge is the union of feed prefixes (the pointwise maximum of their vectors):
    /// idempotent, commutative and associative, with each side folding its parts in a
    /// different interleaving, and every result equal to the union folded in the authors' order.
    @Test func mergeLaws() async {
        await propertyCheck(count: 200, input: Gen.uint64(), Gen.int(in: 6...45)) { seed, size in
            var random = SplitMix64(seed: seed)
            let history = RandomHistory.make(alliance: Self.alliance, size: size, random: &random).entries
            let feeds = Array(Set(history.map(\.origin)))
            /// A random prefix of every feed.
            func prefixes() -> [Entry] {
                var ends: [NodeID: UInt64] = [:]
                for feed in feeds { ends[feed] = random.next() % 8 }
                return history.filter { $0.seq <= ends[$0.origin]! }
            }
            let a = prefixes()
            let b = prefixes()
            let c = prefixes()
            /// Folds the parts one after the other, each part in its own random interleaving.
            func merged(_ parts: [Entry]...) -> SHA256Digest {
                var views = RegistryViews()
                for part in parts { views.fold(part.interleavingFeeds(using: &random)) }
                return views.digest
            }
            /// The union of the parts, in authoring order, each entry once.
            func union(_ parts: [Entry]...) -> SHA256Digest {
                let ids = Set(parts.joined().map(\.id))
                return Self.folded(history.filter { ids.contains($0.id) }).digest
            }
            #expect(merged(a, a) == union(a))
            #expect(merged(a, b) == union(a, b))
            #expect(merged(b, a) == union(a, b))
            // (a ∪ b) ∪ c against a ∪ (b ∪ c): the inner merge is folded first on each side.
            #expect(merged(a + b, c) == union(a, b, c))
            #expect(merged(b + c, a) == union(a, b, c))
            #expect(merged(c, b, a) == union(a, b, c))
        }
    }

    /// Replicas receiving the same entries in different batches and orders, through the full
    /// validation path (signatures, chains, gaps), end with the reference views and vector.
    @Test func replicasConvergeThroughTheLedger() async {
        await propertyCheck(count: 200, input: Gen.uint64(), Gen.int(in: 5...50)) { seed, size in
            var random = SplitMix64(seed: seed)
            let history = RandomHistory.make(alliance: Self.alliance, size: size, random: &random)
            let reference = Self.folded(history.entries)
            for _ in 0..<3 {
                var registry = MineralRegistry()
                var delivery = (history.entries + history.entries.prefix(Int(random.next() % UInt64(size)))).map(\.signed)
                delivery.shuffle(using: &random)
                while !delivery.isEmpty {
                    let batch = Int(random.next() % 7) + 1
                    let result = registry.ingest(Array(delivery.prefix(batch)), keys: Self.alliance.keys)
                    #expect(result.rejected.isEmpty && result.forks.isEmpty)
                    delivery.removeFirst(min(batch, delivery.count))
                }
                #expect(registry.ledger.pendingCount == 0)
                #expect(registry.views.digest == reference.digest)
                #expect(registry.views.entryCount == history.entries.count)
                #expect(registry.vector == history.unforkedVector)
            }
        }
    }

    /// With forks in the history, every replica finds every fork, whatever order the branches
    /// arrive in, keeps evidence, and agrees on every feed that is not forked. (What a forked
    /// feed shows depends on which branch arrived first until the feed is cut.)
    @Test func replicasFindEveryForkAndAgreeOnEveryOtherFeed() async {
        var forkedHistories = 0
        await propertyCheck(count: 150, input: Gen.uint64(), Gen.int(in: 20...60)) { seed, size in
            var random = SplitMix64(seed: seed)
            let history = RandomHistory.make(alliance: Self.alliance, size: size, forks: true, random: &random)
            if !history.forkedFeeds.isEmpty { forkedHistories += 1 }
            let reference = Self.folded(history.unforkedEntries)
            for _ in 0..<3 {
                var registry = MineralRegistry()
                var accepted: [Entry] = []
                var delivery = history.entries.map(\.signed)
                delivery.shuffle(using: &random)
                while !delivery.isEmpty {
                    let batch = Int(random.next() % 7) + 1
                    let result = registry.ingest(Array(delivery.prefix(batch)), keys: Self.alliance.keys)
                    accepted += result.accepted
                    for rejection in result.rejected {
                        #expect(rejection.origin.map(history.forkedFeeds.contains) == true, "\(rejection)")
                    }
                    delivery.removeFirst(min(batch, delivery.count))
                }
                #expect(Set(registry.ledger.forks.map(\.origin)) == history.forkedFeeds)
                for evidence in registry.ledger.forks {
                    #expect(evidence.conflicting.isSigned(by: Self.alliance.nodes[evidence.origin]!.publicKey))
                }
                let unforked = registry.ledger.vector.heads.filter { !history.forkedFeeds.contains($0.key) }
                #expect(VersionVector(unforked) == history.unforkedVector)
                let agreed = accepted.filter { !history.forkedFeeds.contains($0.origin) }
                #expect(Self.folded(agreed).digest == reference.digest)
                #expect(registry.views.entryCount == accepted.count)
            }
        }
        #expect(forkedHistories > 30, "only \(forkedHistories) of 150 histories held a fork: the property proves little")
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
            #expect(a.merging(b).heads.allSatisfy { $0.value == max(a[$0.key], b[$0.key]) })
            let missing = a.missing(comparedTo: b)
            var filled = a
            for (node, range) in missing {
                #expect(range.lowerBound == a[node] + 1 && range.upperBound == b[node])
                filled[node] = range.upperBound
            }
            #expect(filled.dominates(b))
            #expect(missing.keys.allSatisfy { b[$0] > a[$0] })
        }
    }
}
