import OpenSSLCrypto
import PropertyBased
import Registry
import TestSupport
import Testing

/// A feed that outlives its keys: each entry names the certificate that signed it and is
/// checked with that key, within that certificate's validity, judged by the entry's own clock;
/// a certificate the feed moved on from signs nothing more.
@Suite struct KeyHistoryTests {
    static let origin = try! NodeID("US/us-1")
    static let keys = (0..<4).map { _ in try! PrivateKey.generate(.ed25519) }
    /// Certificate i: key i, valid from 1,000 ms to 1,000,000 ms × (i + 1).
    static func certificate(_ index: Int) -> SignerKey {
        SignerKey(
            id: SHA256.hash(Array("certificate \(index)".utf8)), key: keys[index].publicKey,
            validFrom: 1_000, validUntil: 1_000_000 * UInt64(index + 1))
    }

    static func author(_ index: Int = 0) -> FeedAuthor {
        let signer = certificate(index)
        return FeedAuthor(node: origin, key: keys[index], signer: signer.id, validity: signer.validFrom...signer.validUntil)
    }

    static func rotate(_ author: FeedAuthor, to index: Int) -> FeedAuthor {
        let signer = certificate(index)
        return author.signing(with: keys[index], signer: signer.id, validity: signer.validFrom...signer.validUntil)
    }

    /// The next entry `author` would write.
    static func next(by author: FeedAuthor, amount: String, at now: UInt64) -> Entry {
        var author = author
        return author.write(Ops.report("US", "gallium", amount), at: now)
    }

    /// A receiver that knows certificates `known` of the origin.
    static func directory(_ known: [Int]) -> OriginKeys {
        var directory = OriginKeys()
        for index in known { directory.add(certificate(index), for: origin) }
        return directory
    }

    /// Five entries under certificate 0, then five under certificate 1.
    static func rotatedFeed() -> (entries: [Entry], author: FeedAuthor) {
        var author = author(0)
        var entries = (1...5).map { author.write(Ops.report("US", "gallium", "\($0)"), at: UInt64($0) * 10_000) }
        author = rotate(author, to: 1)
        entries += (6...10).map { author.write(Ops.report("US", "gallium", "\($0)"), at: UInt64($0) * 10_000) }
        return (entries, author)
    }

    @Test func entriesNameTheCertificateThatSignedThem() throws {
        let (entries, _) = Self.rotatedFeed()
        #expect(entries[..<5].allSatisfy { $0.signer == Self.certificate(0).id })
        #expect(entries[5...].allSatisfy { $0.signer == Self.certificate(1).id })
        // The field reads the same through the generated decoder.
        let reference = try EntryCodec.decodeWithGeneratedCode(entries[7].signed)
        #expect(reference.signer == entries[7].signer)
    }

    @Test func aRotatedFeedIsAcceptedWholeWithOneCheckPerCertificate() {
        let (entries, _) = Self.rotatedFeed()
        var ledger = FeedLedger()
        let result = ledger.ingest(entries.map(\.signed), signers: Self.directory([0, 1]).lookup)
        #expect(result.accepted.count == 10 && result.rejected.isEmpty)
        #expect(result.signatureChecks == 2)
        #expect(ledger.vector[Self.origin] == 10)
    }

    /// Validity is the entry's clock against the certificate, never the receiver's clock: a
    /// node meeting the feed long after certificate 0 expired accepts what it signed while valid.
    @Test func expiryEndsWhatAKeyMaySignNextNeverItsHistory() {
        var author = Self.author(0)
        let valid = author.write(Ops.report("US"), at: 999_000)
        // Certificate 0 is valid until 1,000,000 ms; an entry dated after it, however signed:
        let (late, _) = try! FeedAuthor(node: Self.origin, key: Self.keys[0], signer: Self.certificate(0).id, head: author.head)
            .drafting(Ops.report("US", "gallium", "7"), now: 1_000_001)
        var ledger = FeedLedger()
        let result = ledger.ingest([valid.signed, late.signed], signers: Self.directory([0]).lookup)
        #expect(result.accepted.map(\.id) == [valid.id])
        #expect(result.rejected.map(\.reason) == [.outsideValidity(signer: Self.certificate(0).id, wallMillis: 1_000_001)])
        #expect(result.rejected[0].reason.isInvalid)
        // The author refuses to sign it in the first place.
        #expect(throws: SigningKeyNotValid.self) { try author.drafting(Ops.report("US"), now: 1_000_001) }
    }

    /// After a rotation, the old (perhaps stolen) key can neither append nor rewrite: an entry it
    /// signs at the next position is refused, and one for a held position is refused rather than
    /// taken for a fork (the new key vouches for the held chain). The feed stays open.
    @Test func aRetiredKeyCanNeitherAppendNorForkTheFeed() throws {
        let (entries, author) = Self.rotatedFeed()
        var ledger = FeedLedger()
        let keys = Self.directory([0, 1])
        _ = ledger.ingest(entries.map(\.signed), signers: keys.lookup)
        // The thief holds key 0 and signs, as certificate 0, the next position...
        let appended = Self.next(
            by: FeedAuthor(node: Self.origin, key: Self.keys[0], signer: Self.certificate(0).id, head: author.head),
            amount: "666", at: 200_000)
        // ...and a position certificate 0 signed before the rotation.
        let rewound = Self.next(
            by: FeedAuthor(
                node: Self.origin, key: Self.keys[0], signer: Self.certificate(0).id,
                head: FeedHead(seq: 2, id: entries[1].id, link: entries[1].link)),
            amount: "667", at: 200_000)
        let result = ledger.ingest([appended.signed, rewound.signed], signers: keys.lookup)
        #expect(result.accepted.isEmpty && result.forks.isEmpty)
        #expect(Set(result.rejected.map(\.reason)) == [.retiredSigner])
        #expect(!result.rejected[0].reason.isInvalid)
        #expect(ledger.fork(of: Self.origin) == nil)
        var owner = author
        let genuine = owner.write(Ops.report("US", "gallium", "11"), at: 200_000)
        #expect(ledger.ingest([genuine.signed], signers: keys.lookup).accepted.map(\.id) == [genuine.id])
    }

    /// The rotation and the old key's next entry in one batch, to a node that holds nothing of
    /// the feed yet: the chain retires the old key within the batch.
    @Test func aRetiredKeyIsRefusedInTheBatchThatBringsTheRotation() {
        let (entries, author) = Self.rotatedFeed()
        let appended = Self.next(
            by: FeedAuthor(node: Self.origin, key: Self.keys[0], signer: Self.certificate(0).id, head: author.head),
            amount: "666", at: 200_000)
        var ledger = FeedLedger()
        let result = ledger.ingest((entries + [appended]).map(\.signed), signers: Self.directory([0, 1]).lookup)
        #expect(result.accepted.count == 10 && result.forks.isEmpty)
        #expect(result.rejected.map(\.reason) == [.retiredSigner])
    }

    /// Entries that waited ahead of a gap were verified when they came; if their certificate is
    /// no longer in force when the gap fills (a CRL came), they are refused, not taken, and not
    /// taken for a fork either.
    @Test func aWaitingEntryWhoseCertificateWasRevokedSinceIsRefused() {
        let (entries, _) = Self.rotatedFeed()
        var ledger = FeedLedger()
        _ = ledger.ingest(entries[..<4].map(\.signed), signers: Self.directory([0, 1]).lookup)
        #expect(ledger.ingest(entries[5...].map(\.signed), signers: Self.directory([0, 1]).lookup).buffered == 5)
        // Certificate 1 is revoked: the receiver knows only certificate 0 now.
        let result = ledger.ingest([entries[4].signed], signers: Self.directory([0]).lookup)
        #expect(result.accepted.map(\.seq) == [5])
        #expect(result.forks.isEmpty)
        #expect(result.rejected.map(\.reason) == [.unknownSigner(Self.certificate(1).id)])
        #expect(ledger.vector[Self.origin] == 5)
    }

    /// The same two entries of key 0 before the rotation reached this node: a real fork.
    @Test func beforeTheRotationTwoEntriesOfOneKeyAreAFork() {
        let (entries, _) = Self.rotatedFeed()
        var ledger = FeedLedger()
        let keys = Self.directory([0, 1])
        _ = ledger.ingest(entries[..<3].map(\.signed), signers: keys.lookup)
        let other = Self.next(
            by: FeedAuthor(
                node: Self.origin, key: Self.keys[0], signer: Self.certificate(0).id,
                head: FeedHead(seq: 2, id: entries[1].id, link: entries[1].link)),
            amount: "667", at: 200_000)
        #expect(ledger.ingest([other.signed], signers: keys.lookup).forks.count == 1)
    }

    @Test func anEntryNamingOneCertificateButSignedWithAnotherKeyIsRefused() {
        var author = Self.author(0)
        let first = author.write(Ops.report("US"), at: 10_000)
        // Names certificate 1 but is signed with key 0.
        let forged = Self.next(by: author.signing(with: Self.keys[0], signer: Self.certificate(1).id, validity: nil), amount: "2", at: 20_000)
        var ledger = FeedLedger()
        let result = ledger.ingest([first.signed, forged.signed], signers: Self.directory([0, 1]).lookup)
        #expect(result.accepted.map(\.id) == [first.id])
        #expect(result.rejected.map(\.reason) == [.badSignature])
    }

    /// A certificate not met yet: refused without blame, accepted once its chain arrives.
    @Test func anUnknownCertificateWaitsForItsChain() {
        let (entries, _) = Self.rotatedFeed()
        var ledger = FeedLedger()
        let first = ledger.ingest(entries.map(\.signed), signers: Self.directory([0]).lookup)
        #expect(first.accepted.count == 5)
        #expect(first.rejected.count == 5 && first.rejected.allSatisfy { $0.reason == .unknownSigner(Self.certificate(1).id) && !$0.reason.isInvalid })
        let second = ledger.ingest(entries[5...].map(\.signed), signers: Self.directory([0, 1]).lookup)
        #expect(second.accepted.count == 5)
    }

    /// Entries written before key history name no certificate: they are checked with the
    /// origin's certificates valid at their clock.
    @Test func entriesThatNameNoCertificateAreCheckedWithThoseValidAtTheirClock() {
        var legacy = FeedAuthor(node: Self.origin, key: Self.keys[2])
        let old = (1...3).map { legacy.write(Ops.report("US", "gallium", "\($0)"), at: UInt64($0) * 10_000) }
        var ledger = FeedLedger()
        let result = ledger.ingest(old.map(\.signed), signers: Self.directory([0, 2]).lookup)
        #expect(result.accepted.count == 3)
        // Continued under a named certificate: the unnamed one is retired from then on.
        var rotated = Self.rotate(legacy, to: 1)
        let next = rotated.write(Ops.report("US", "gallium", "4"), at: 40_000)
        let stale = legacy.write(Ops.report("US", "gallium", "5"), at: 40_000)
        #expect(ledger.ingest([next.signed], signers: Self.directory([0, 1, 2]).lookup).accepted.map(\.id) == [next.id])
        let after = ledger.ingest([stale.signed], signers: Self.directory([0, 1, 2]).lookup)
        #expect(after.rejected.map(\.reason) == [.retiredSigner] && after.forks.isEmpty)
    }

    /// A forgery inside the second certificate's stretch: the first stretch and the authentic
    /// prefix of the second are kept.
    @Test func aForgeryAfterARotationKeepsWhatIsAuthentic() {
        let (entries, _) = Self.rotatedFeed()
        var signed = entries.map(\.signed)
        signed[7] = SignedEntry(body: signed[7].body, signature: Array(repeating: 1, count: 64))
        var ledger = FeedLedger()
        let result = ledger.ingest(signed, signers: Self.directory([0, 1]).lookup)
        #expect(result.accepted.count == 7)
        #expect(ledger.vector[Self.origin] == 7)
    }

    /// Any interleaving of several origins' rotations and entries, delivered in any order and
    /// batching, with the certificates learned at random moments: every replica that ends up
    /// knowing every certificate and holding every entry has the same vector and views.
    @Test func replicasConvergeWhateverTheOrderOfRotationsEntriesAndCertificates() async {
        let origins = [Self.origin, try! NodeID("US/us-2")]
        await propertyCheck(count: 100, input: Gen.uint64(), Gen.int(in: 5...40)) { seed, size in
            var random = SplitMix64(seed: seed)
            var authors = origins.map { FeedAuthor(node: $0, key: Self.keys[0], signer: Self.certificate(0).id) }
            var using = [0, 0]
            var entries: [Entry] = []
            for step in 0..<size {
                let which = Int(random.next() % 2)
                if random.next() % 5 == 0, using[which] < 3 {
                    using[which] += 1
                    authors[which] = authors[which].signing(with: Self.keys[using[which]], signer: Self.certificate(using[which]).id, validity: nil)
                }
                entries.append(authors[which].write(Ops.report("US", "gallium", "\(step)"), at: UInt64(10_000 + step)))
            }
            var reference = RegistryViews()
            reference.fold(entries)
            for _ in 0..<3 {
                var registry = MineralRegistry()
                var known = OriginKeys()
                var delivery = (entries + entries.prefix(Int(random.next() % UInt64(size)))).map(\.signed)
                delivery.shuffle(using: &random)
                var certificates = origins.flatMap { origin in (0...3).map { (origin, $0) } }.shuffled(using: &random)
                var rounds = 0
                while !delivery.isEmpty || !certificates.isEmpty, rounds < 10_000 {
                    rounds += 1
                    if let (origin, index) = certificates.first, random.next() % 3 == 0 || delivery.isEmpty {
                        known.add(Self.certificate(index), for: origin)
                        certificates.removeFirst()
                    }
                    let batch = Int(random.next() % 7) + 1
                    let result = registry.ingest(Array(delivery.prefix(batch)), signers: known.lookup)
                    #expect(result.forks.isEmpty)
                    #expect(result.rejected.allSatisfy { !$0.reason.isInvalid }, "\(result.rejected)")
                    delivery.removeFirst(min(batch, delivery.count))
                    // What was refused for want of a certificate comes again, as a peer would send it.
                    let held = registry.vector
                    delivery += result.rejected.compactMap { rejection in entries.first { $0.id == rejection.id && $0.seq > held[$0.origin] }?.signed }
                }
                #expect(registry.views.digest == reference.digest)
                #expect(registry.vector.total == UInt64(entries.count))
            }
        }
    }

    /// A feed joined from a checkpoint knows no key history before its base: a certificate
    /// issued before the one that signed the base counts as retired there (a stolen old key
    /// cannot continue the feed), one issued later signs as a rotation would.
    @Test func aFeedJoinedFromACheckpointRetiresEveryCertificateOlderThanItsBase() throws {
        var directory = OriginKeys()
        let older = SignerKey(id: SHA256.hash(Array("older".utf8)), key: Self.keys[0].publicKey, validFrom: 1_000, validUntil: 9_000_000)
        let base = SignerKey(id: SHA256.hash(Array("base".utf8)), key: Self.keys[1].publicKey, validFrom: 2_000, validUntil: 9_000_000)
        let newer = SignerKey(id: SHA256.hash(Array("newer".utf8)), key: Self.keys[2].publicKey, validFrom: 3_000, validUntil: 9_000_000)
        for key in [older, base, newer] { directory.add(key, for: Self.origin) }
        func entry(_ signer: SignerKey, _ index: Int) -> Entry {
            Self.next(
                by: FeedAuthor(node: Self.origin, key: Self.keys[index], signer: signer.id, validity: signer.validFrom...signer.validUntil),
                amount: "1", at: 5_000)
        }
        let bases = [Self.origin: base.id]
        guard case .retired(older.id) = directory.lookup(entry(older, 0), bases: bases) else {
            Issue.record("an older certificate signed")
            return
        }
        guard case .keys = directory.lookup(entry(base, 1), bases: bases) else {
            Issue.record("the base's certificate did not sign")
            return
        }
        guard case .keys = directory.lookup(entry(newer, 2), bases: bases) else {
            Issue.record("a newer certificate did not sign")
            return
        }
        // A feed not joined from a checkpoint: the ledger's own key history decides.
        guard case .keys = directory.lookup(entry(older, 0), bases: [:]) else {
            Issue.record("lookup changed for other feeds")
            return
        }
        // And the ledger refuses the older one as retired.
        var ledger = FeedLedger()
        let baseEntry = entry(base, 1)
        try ledger.start(after: baseEntry)
        let stolen = Self.next(
            by: FeedAuthor(
                node: Self.origin, key: Self.keys[0], signer: older.id,
                validity: older.validFrom...older.validUntil, head: ledger.head(of: Self.origin)), amount: "2", at: 6_000)
        let result = ledger.ingest([stolen.signed], signers: { directory.lookup($0, bases: bases) })
        #expect(result.accepted.isEmpty)
        #expect(result.rejected.map(\.reason) == [.retiredSigner])
    }
}
