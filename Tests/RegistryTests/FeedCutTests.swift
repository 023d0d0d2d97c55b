import OpenSSLCrypto
import PropertyBased
import Registry
import TestSupport
import Testing

/// A stolen key and the cut that says which of its feed's entries were genuine: what a revoked
/// certificate signed is shown only where something still trusted vouches for it (a later entry
/// of a certificate in force, or a cut), and views agree whatever order the CRL, the cut and
/// the entries arrive in.
@Suite struct FeedCutTests {
    static let stolen = try! NodeID("EU/eu-1"), sibling = try! NodeID("EU/eu-2"), partner = try! NodeID("US/us-1")
    static let keys = (0..<4).map { _ in try! PrivateKey.generate(.ed25519) }
    /// Certificate 0: eu-1's (stolen); 1: eu-2's; 2: us-1's; 3: eu-1's renewal.
    static func certificate(_ index: Int) -> SignerKey {
        SignerKey(id: SHA256.hash(Array("certificate \(index)".utf8)), key: keys[index].publicKey, validFrom: 0, validUntil: .max)
    }
    static func author(_ node: NodeID, _ index: Int) -> FeedAuthor {
        FeedAuthor(node: node, key: keys[index], signer: certificate(index).id)
    }
    static let directory: OriginKeys = {
        var keys = OriginKeys()
        keys.add(certificate(0), for: stolen)
        keys.add(certificate(3), for: stolen)
        keys.add(certificate(1), for: sibling)
        keys.add(certificate(2), for: partner)
        return keys
    }()

    /// eu-1 reports gallium 1…count; from `rotation` on (1-based) under its renewed certificate.
    static func stolenFeed(_ count: Int, rotatingAt rotation: Int? = nil) -> [Entry] {
        var author = author(stolen, 0)
        return (1...count).map { step in
            if step == rotation { author = author.signing(with: keys[3], signer: certificate(3).id, validity: nil) }
            return author.write(Ops.report("EU", "gallium", "\(step)"), at: UInt64(step) * 1_000)
        }
    }

    static func cut(at seq: UInt64, of feed: [Entry], by node: NodeID = sibling, key: Int = 1) -> Entry {
        var author = author(node, key)
        let id = seq == 0 ? nil : feed[Int(seq) - 1].id
        return author.write(.cutFeed(FeedCut(feed: stolen, seq: seq, entryID: id, reason: "key stolen")), at: 50_000)
    }

    /// A node's registry and what its store holds.
    struct Replica {
        var registry = MineralRegistry()
        var stored: [Entry] = []
        var revoked: Set<SignerID> = []

        @discardableResult
        mutating func receive(_ entries: [Entry]) -> IngestResult {
            let result = registry.ingest(entries.map(\.signed), signers: FeedCutTests.directory.lookup)
            stored += result.accepted
            if result.viewsNeedRebuild { registry.rebuildViews(from: stored) }
            return result
        }

        mutating func revoke(_ signer: SignerID) {
            revoked.insert(signer)
            if registry.setRevokedSigners(revoked) { registry.rebuildViews(from: stored) }
        }

        var level: String? { registry.views.reserve(ReserveKey(participant: "EU", mineral: try! MineralID("gallium"), site: ""))?.report.quantity.amount.text }
    }

    @Test func aRevokedKeysEntriesAreHiddenWhetherTheyCameBeforeTheCRLOrAfter() {
        let feed = Self.stolenFeed(5)
        var early = Replica()
        var late = Replica()
        early.receive(feed)
        #expect(early.level == "5")
        early.revoke(Self.certificate(0).id)
        #expect(early.level == nil)
        #expect(early.registry.hiddenFeeds == [Self.stolen: 0])

        late.revoke(Self.certificate(0).id)
        let result = late.receive(feed)
        #expect(result.accepted.isEmpty)
        #expect(result.rejected.map(\.reason) == Array(repeating: .revokedSigner, count: 5))
        // An honest relay may have taken them before it met the CRL: not held against it.
        #expect(result.rejected.allSatisfy { !$0.reason.isInvalid })
        #expect(early.registry.views.digest == late.registry.views.digest)
    }

    @Test func aLaterEntryOfACertificateInForceVouchesForTheRevokedOnesBeforeIt() {
        let feed = Self.stolenFeed(5, rotatingAt: 4)
        var early = Replica()
        var late = Replica()
        early.receive(feed)
        early.revoke(Self.certificate(0).id)
        #expect(early.level == "5" && early.registry.hiddenFeeds.isEmpty)
        late.revoke(Self.certificate(0).id)
        // In two batches: the first three wait for nothing and are refused, then come again
        // with the renewed key's entries, as a peer streams them.
        #expect(late.receive(Array(feed[..<3])).accepted.isEmpty)
        #expect(late.receive(feed).accepted.count == 5)
        #expect(early.registry.views.digest == late.registry.views.digest)
    }

    @Test func aCutShowsExactlyTheGenuinePrefixAtEveryNode() {
        let feed = Self.stolenFeed(5)
        let cut = Self.cut(at: 3, of: feed)
        // One node held everything before the CRL, one met the CRL first, one met the cut first.
        var held = Replica()
        var revokedFirst = Replica()
        var cutFirst = Replica()
        held.receive(feed)
        held.revoke(Self.certificate(0).id)
        let rebuilt = held.receive([cut])
        #expect(rebuilt.viewsNeedRebuild)
        #expect(held.level == "3")
        #expect(held.registry.hiddenFeeds == [Self.stolen: 3])

        revokedFirst.revoke(Self.certificate(0).id)
        revokedFirst.receive(feed)
        revokedFirst.receive([cut])
        let again = revokedFirst.receive(feed)
        #expect(again.accepted.map(\.seq) == [1, 2, 3])
        #expect(again.rejected.map(\.reason) == [.afterCut(seq: 3), .afterCut(seq: 3)])

        cutFirst.receive([cut])
        cutFirst.receive(feed)
        cutFirst.revoke(Self.certificate(0).id)
        #expect(cutFirst.registry.vector[Self.stolen] == 3)

        for replica in [held, revokedFirst, cutFirst] {
            #expect(replica.level == "3")
            #expect(replica.registry.cuts[Self.stolen]?.seq == 3)
            #expect(replica.registry.views.digest == held.registry.views.digest)
        }
    }

    /// Entries after the cut that were waiting for a gap when it arrived are refused when the
    /// gap fills, not taken.
    @Test func entriesWaitingBeyondACutAreRefusedWhenTheGapFills() {
        let feed = Self.stolenFeed(5)
        var replica = Replica()
        #expect(replica.receive(Array(feed[3...])).buffered == 2)
        replica.receive([Self.cut(at: 3, of: feed)])
        let filled = replica.receive(Array(feed[..<3]))
        #expect(filled.accepted.map(\.seq) == [1, 2, 3])
        #expect(filled.rejected.map(\.reason) == [.afterCut(seq: 3), .afterCut(seq: 3)])
        #expect(replica.registry.vector[Self.stolen] == 3 && replica.level == "3")
    }

    /// A cut vouches for the chain that ends in the entry it names: where the held entry at its
    /// position is another, the cut shows nothing a revoked key signed.
    @Test func aCutNamingAnotherEntryVouchesForNothingHeld() {
        let feed = Self.stolenFeed(5)
        var other = Self.author(Self.stolen, 0)
        let elsewhere = (1...3).map { other.write(Ops.report("EU", "gallium", "9\($0)"), at: UInt64($0) * 1_100) }
        var replica = Replica()
        replica.receive(feed)
        replica.revoke(Self.certificate(0).id)
        replica.receive([Self.cut(at: 3, of: elsewhere)])
        #expect(replica.registry.cuts[Self.stolen]?.seq == 3)
        #expect(replica.level == nil && replica.registry.hiddenFeeds == [Self.stolen: 0])
    }

    @Test func onlyAnotherNodeOfTheSameParticipantMayCut() throws {
        let feed = Self.stolenFeed(3)
        var replica = Replica()
        replica.receive(feed)
        let byPartner = Self.cut(at: 1, of: feed, by: Self.partner, key: 2)
        let bySelf = Self.cut(at: 1, of: feed, by: Self.stolen, key: 0)
        for cut in [byPartner, bySelf] {
            guard case .cutFeed(let operation) = cut.operation else {
                Issue.record("not a cut")
                continue
            }
            #expect(throws: PolicyViolation.self) { try replica.registry.validateLocal(.cutFeed(operation), by: cut.origin) }
        }
        replica.receive([byPartner])
        // A cut the policy refuses is kept as evidence, listed, and changes nothing.
        #expect(replica.level == "3" && replica.registry.cuts.isEmpty)
        #expect(replica.registry.views.violations[byPartner.id] != nil)
    }

    @Test func severalCutsOfOneFeedAgreeOnTheLowest() {
        let feed = Self.stolenFeed(5)
        var author = Self.author(Self.sibling, 1)
        let cuts = [4, 2].map { seq in author.write(.cutFeed(FeedCut(feed: Self.stolen, seq: UInt64(seq), entryID: feed[seq - 1].id)), at: 60_000) }
        var one = Replica()
        var other = Replica()
        one.receive(feed + cuts)
        other.receive(feed)
        other.receive(cuts)
        #expect(one.level == "2" && other.level == "2")
        #expect(one.registry.views.digest == other.registry.views.digest)
    }

    @Test func aCutReadsTheSameThroughBothDecoders() throws {
        let feed = Self.stolenFeed(2)
        for cut in [Self.cut(at: 2, of: feed), Self.cut(at: 0, of: feed)] {
            let reference = try EntryCodec.decodeWithGeneratedCode(cut.signed)
            #expect(reference.operation == cut.operation)
            #expect(try EntryCodec.decode(cut.signed).operation == cut.operation)
        }
    }

    /// Random histories of the stolen feed (with or without a renewal), a cut or none, a CRL or
    /// none, and a partner's entries, delivered to two nodes in different orders and batches
    /// (and the CRL at different moments): once both received everything (a peer sends again
    /// what was refused), they show the same registry, and the one the rules say.
    @Test func viewsAgreeWhateverOrderTheCRLTheCutAndTheEntriesArriveIn() async {
        await propertyCheck(count: 100, input: Gen.uint64(), Gen.int(in: 1...8)) { seed, length in
            var random = SplitMix64(seed: seed)
            let rotation = random.next() % 3 == 0 ? Int(random.next() % UInt64(length)) + 1 : nil
            let feed = Self.stolenFeed(length, rotatingAt: rotation)
            let cutAt = random.next() % 2 == 0 ? UInt64(random.next() % UInt64(length + 1)) : nil
            let revoking = random.next() % 4 != 0
            var partner = Self.author(Self.partner, 2)
            var everything = feed + (1...3).map { partner.write(Ops.report("US", "gallium", "\($0)"), at: UInt64($0) * 700) }
            if let cutAt { everything.append(Self.cut(at: cutAt, of: feed)) }

            var digests: [SHA256Digest] = []
            var levels: [String?] = []
            for _ in 0..<2 {
                var replica = Replica()
                var delivery = everything.shuffled(using: &random)
                let revokeAfter = Int(random.next() % UInt64(delivery.count + 1))
                var delivered = 0
                while !delivery.isEmpty {
                    if revoking, delivered >= revokeAfter { replica.revoke(Self.certificate(0).id) }
                    let batch = Int(random.next() % 4) + 1
                    replica.receive(Array(delivery.prefix(batch)))
                    delivered += min(batch, delivery.count)
                    delivery.removeFirst(min(batch, delivery.count))
                }
                if revoking { replica.revoke(Self.certificate(0).id) }
                for _ in 0..<2 { replica.receive(everything) }  // anti-entropy: what was refused comes again
                digests.append(replica.registry.views.digest)
                levels.append(replica.level)
            }
            #expect(digests[0] == digests[1])
            // What the rules say: up to the cut; else, with the CRL, up to the last entry of the
            // renewed certificate (none without a renewal); else everything.
            let shown: Int = if let cutAt { Int(cutAt) } else if revoking { rotation == nil ? 0 : length } else { length }
            #expect(
                levels[0] == (shown == 0 ? nil : "\(shown)"), "cut \(String(describing: cutAt)), rotation \(String(describing: rotation)), revoked \(revoking)")
        }
    }
}
