import OpenSSLCrypto
import PropertyBased
import Registry
import TestSupport
import Testing

/// Causality first, clocks second: a write made after its author saw another write to the same
/// register wins over it, whatever their clocks; clocks order only writes made without seeing
/// each other. EU runs two nodes; eu-2's clock is a day ahead.
@Suite struct CausalityTests {
    static let (eu1, eu2, us1) = (try! NodeID("EU/eu-1"), try! NodeID("EU/eu-2"), try! NodeID("US/us-1"))
    static let keys = [eu1: try! PrivateKey.generate(.ed25519), eu2: try! PrivateKey.generate(.ed25519), us1: try! PrivateKey.generate(.ed25519)]
    static let now: UInt64 = 1_800_000_000_000, day: UInt64 = 86_400_000
    static let gallium = ReserveKey(participant: "EU", mineral: try! MineralID("gallium"), site: "")

    /// A node: its registry, its author, and its clock's offset.
    struct Node {
        var registry = MineralRegistry()
        var author: FeedAuthor
        let offset: UInt64

        init(_ id: NodeID, offset: UInt64 = 0) {
            author = FeedAuthor(node: id, key: CausalityTests.keys[id]!)
            self.offset = offset
        }

        /// Writes as the daemon does: the draft names the register's latest write shown here.
        mutating func write(_ operation: EntryOperation, at wall: UInt64) throws -> Entry {
            let (entry, advanced) = try registry.draft(operation, by: author, now: wall + offset)
            try registry.adoptOwn(entry)
            author = advanced
            return entry
        }

        /// Takes entries in as the daemon does: the clock follows theirs, at most a minute ahead
        /// of this node's own.
        mutating func receive(_ entries: [Entry], at wall: UInt64 = CausalityTests.now) {
            let result = registry.ingest(entries.map(\.signed)) { CausalityTests.keys[$0]?.publicKey }
            for entry in result.accepted { author.observe(entry.clock, now: wall + offset) }
        }

        var gallium: String? { registry.views.reserve(CausalityTests.gallium)?.report.quantity.amount.text }
    }

    @Test func aReportMadeAfterSeeingASkewedOneWinsOverIt() throws {
        var eu1 = Node(Self.eu1)
        var eu2 = Node(Self.eu2, offset: Self.day)
        var us = Node(Self.us1)
        let ahead = try eu2.write(Ops.report("EU", "gallium", "1"), at: Self.now)
        eu1.receive([ahead])
        #expect(eu1.gallium == "1")
        let later = try eu1.write(Ops.report("EU", "gallium", "2"), at: Self.now + 1_000)
        #expect(later.clock < ahead.clock, "the clock refuses to follow a day ahead: the later report has the smaller clock")
        #expect(later.operation.supersedes == ahead.id)
        #expect(eu1.gallium == "2")
        // Every node, in either order, shows 2 t, and lists it after 1 t.
        us.receive([later])
        us.receive([ahead])
        eu2.receive([later])
        for node in [eu1, eu2, us] {
            #expect(node.gallium == "2")
            #expect(node.registry.views.history(of: Self.gallium, in: [ahead, later]).map(\.report.quantity.amount.text) == ["1", "2"])
            #expect(node.registry.views.digest == us.registry.views.digest)
        }
    }

    @Test func writesMadeWithoutSeeingEachOtherAreOrderedByClock() throws {
        var eu1 = Node(Self.eu1)
        var eu2 = Node(Self.eu2, offset: Self.day)
        let first = try eu1.write(Ops.report("EU", "gallium", "1"), at: Self.now)
        let second = try eu2.write(Ops.report("EU", "gallium", "2"), at: Self.now)
        #expect(first.operation.supersedes == nil && second.operation.supersedes == nil)
        eu1.receive([second])
        eu2.receive([first])
        #expect(eu1.gallium == "2" && eu2.gallium == "2")
    }

    @Test func anAlertUpdateMadeAfterSeeingASkewedOneWins() throws {
        var eu1 = Node(Self.eu1)
        var eu2 = Node(Self.eu2, offset: Self.day)
        let raise = try eu1.write(Ops.raise(), at: Self.now)
        eu2.receive([raise])
        let ahead = try eu2.write(Ops.update(raise.id, severity: .low), at: Self.now)
        #expect(ahead.operation.supersedes == raise.id)
        eu1.receive([ahead])
        let later = try eu1.write(Ops.update(raise.id, severity: .critical), at: Self.now + 1_000)
        #expect(later.operation.supersedes == ahead.id && later.clock < ahead.clock)
        eu2.receive([later])
        #expect(eu1.registry.views.alert(raise.id)?.severity == .critical)
        #expect(eu2.registry.views.alert(raise.id)?.severity == .critical)
    }

    @Test func anImportsWritesToOneRegisterFormAChain() throws {
        var node = Node(Self.eu1)
        var batch = DraftBatch()
        var author = node.author
        var drafts: [Entry] = []
        for amount in ["1", "2", "3"] {
            let (entry, next) = try node.registry.draft(Ops.report("EU", "gallium", amount), by: author, now: Self.now, in: &batch)
            drafts.append(entry)
            author = next
        }
        #expect(drafts.map(\.operation.supersedes) == [nil, drafts[0].id, drafts[1].id])
        try node.registry.adoptOwn(drafts)
        #expect(node.gallium == "3")
    }

    @Test func supersedesReadsTheSameThroughBothDecodersAndAWrongLengthIsMalformed() throws {
        var eu1 = Node(Self.eu1)
        _ = try eu1.write(Ops.report("EU", "gallium", "1"), at: Self.now)
        let raise = try eu1.write(Ops.raise(), at: Self.now)
        _ = try eu1.write(Ops.target("EU"), at: Self.now)
        for entry in [
            try eu1.write(Ops.report("EU", "gallium", "2"), at: Self.now), try eu1.write(Ops.target("EU", "gallium", "300"), at: Self.now),
            try eu1.write(Ops.update(raise.id, severity: .low), at: Self.now)
        ] {
            #expect(entry.operation.supersedes != nil, "\(entry)")
            #expect(try EntryCodec.decodeWithGeneratedCode(entry.signed).operation == entry.operation)
        }
        let (short, _) = try HandcraftedEntries.reportSuperseding(byteCount: 31, by: eu1.author, now: Self.now)
        #expect(short.operation == .malformed(reason: "supersedes must be an entry id of 32 bytes, not 31"))
        #expect(try EntryCodec.decodeWithGeneratedCode(short.signed).operation == short.operation)
    }

    /// Random histories: three nodes of one participant (clocks offset by up to a day either
    /// way) write to one register, each seeing a random part of what the others wrote. Folded
    /// in different orders and batches, every node shows the same registry; the latest is never
    /// a write another write superseded; and history lists each write after the one it supersedes.
    @Test func aWriteThatFollowsAnotherAlwaysWinsAndFoldOrderNeverMatters() async {
        await propertyCheck(count: 100, input: Gen.uint64(), Gen.int(in: 2...25)) { seed, steps in
            var random = SplitMix64(seed: seed)
            let ids = [Self.eu1, Self.eu2]
            var nodes = ids.map { Node($0, offset: random.next() % 3 == 0 ? random.next() % (2 * Self.day) : 0) }
            var written: [Entry] = []
            for step in 0..<steps {
                let index = Int(random.next() % UInt64(nodes.count))
                // What this node has heard of so far: a random part of the others' writes.
                let heard = written.filter { $0.origin != ids[index] && random.next() % 2 == 0 }
                nodes[index].receive(heard, at: Self.now + UInt64(step) * 1_000)
                written.append(try! nodes[index].write(Ops.report("EU", "gallium", "\(step)"), at: Self.now + UInt64(step) * 1_000))
            }
            var digests: [SHA256Digest] = []
            var latest: [EntryID?] = []
            var histories: [[EntryID]] = []
            for _ in 0..<2 {
                var replica = MineralRegistry()
                var delivery = written.shuffled(using: &random)
                while !delivery.isEmpty {
                    let batch = Int(random.next() % 4) + 1
                    _ = replica.ingest(delivery.prefix(batch).map(\.signed)) { Self.keys[$0]?.publicKey }
                    delivery.removeFirst(min(batch, delivery.count))
                }
                _ = replica.ingest(written.map(\.signed)) { Self.keys[$0]?.publicKey }  // anything that waited for a gap
                digests.append(replica.views.digest)
                latest.append(replica.views.reserve(Self.gallium).map { $0.order.id })
                histories.append(replica.views.history(of: Self.gallium, in: written).map(\.order.id))
            }
            #expect(digests[0] == digests[1] && latest[0] == latest[1] && histories[0] == histories[1])
            let winner = try! #require(latest[0])
            #expect(!written.contains { $0.operation.supersedes == winner }, "the latest was superseded by a write that saw it")
            let position = Dictionary(uniqueKeysWithValues: histories[0].enumerated().map { ($1, $0) })
            for entry in written {
                guard let named = entry.operation.supersedes, let before = position[named] else { continue }
                #expect(before < position[entry.id]!, "history lists a write before the one it supersedes")
            }
        }
    }
}
