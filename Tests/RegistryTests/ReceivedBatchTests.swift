import OpenSSLCrypto
import Registry
import TestSupport
import Testing

/// A session decodes what a peer sent and checks the entries the ledger would check one at a
/// time (ahead of a gap) before the batch reaches the engine; the ledger takes those checks
/// only for exactly the bytes checked and a key the entry may still be checked with.
@Suite struct ReceivedBatchTests {
    let alliance = TestAlliance.standard
    let origin = TestAlliance.standard.node("EU/eu-1")

    func feed(_ count: Int) -> [Entry] {
        var author = alliance.author("EU/eu-1")
        return (0..<count).map { author.write(Ops.report("EU", "gallium", "\($0)"), at: 1_000 + UInt64($0)) }
    }

    /// The origin's key, as the engine's key history holds it.
    var keys: OriginKeys {
        var keys = OriginKeys()
        keys.add(SignerKey(id: SHA256.hash([1]), key: alliance.keys(origin)!, validFrom: 0, validUntil: .max), for: origin)
        return keys
    }

    func signers(_ entry: Entry) -> SignerLookup { alliance.keys(entry.origin).map { .keys([$0]) } ?? .unknownOrigin }

    @Test func entriesAheadOfAGapAreCheckedFirstAndNotAgain() {
        let entries = feed(10)
        var batch = ReceivedBatch(decoding: (entries[5...] + entries[..<2]).map(\.signed))
        batch.checkAhead(of: VersionVector(), keys: keys, limit: 256)
        #expect(batch.checkedAhead == 5, "1 and 2 continue the head: the ledger's run checks them")
        var ledger = FeedLedger()
        let result = ledger.ingest(batch, signers: signers)
        #expect(result.accepted.map(\.seq) == [1, 2])
        #expect(result.buffered == 5)
        #expect(result.signatureChecks == 1, "only the run's end; the five ahead were checked already")
    }

    @Test func atMostTheLimitIsCheckedAndTheLedgerChecksTheRest() {
        let entries = feed(10)
        var batch = ReceivedBatch(decoding: entries[4...].map(\.signed))
        batch.checkAhead(of: VersionVector(), keys: keys, limit: 2)
        #expect(batch.checkedAhead == 2)
        var ledger = FeedLedger()
        let result = ledger.ingest(batch, signers: signers)
        #expect(result.buffered == 6)
        #expect(result.signatureChecks == 4)
    }

    /// An entry's id covers its body only: a copy with a junk signature must not pass as the
    /// copy that was checked.
    @Test func aCopyWithAnotherSignatureIsCheckedByTheLedger() {
        let entries = feed(6)
        let genuine = entries[5].signed
        let forged = SignedEntry(body: genuine.body, signature: [UInt8](repeating: 7, count: genuine.signature.count))
        var batch = ReceivedBatch(decoding: [forged, genuine])
        batch.checkAhead(of: VersionVector(), keys: keys, limit: 256)
        #expect(batch.checkedAhead == 1)
        var ledger = FeedLedger()
        let result = ledger.ingest(batch, signers: signers)
        #expect(result.buffered == 0, "the forged copy came first, and is not taken for the genuine one")
        #expect(result.rejected.map(\.reason) == [.badSignature])
    }

    /// A key the ledger no longer checks the entry with (its history changed since the check)
    /// does not vouch for it.
    @Test func aCheckWithAKeyTheLedgerDoesNotOfferIsNotTaken() throws {
        let entries = feed(6)
        var batch = ReceivedBatch(decoding: [entries[5].signed])
        batch.checkAhead(of: VersionVector(), keys: keys, limit: 256)
        #expect(batch.checkedAhead == 1)
        let other = alliance.keys(alliance.node("US/us-1"))!
        var ledger = FeedLedger()
        let result = ledger.ingest(batch, signers: { _ in .keys([other]) })
        #expect(result.buffered == 0)
        #expect(result.rejected.map(\.reason) == [.badSignature])
        #expect(result.signatureChecks == 1)
    }

    @Test func whatDoesNotDecodeIsRefusedAsMalformed() {
        let entries = feed(2)
        let batch = ReceivedBatch(decoding: [SignedEntry(body: [0xFF, 0xFF], signature: [1])] + entries.map(\.signed))
        #expect(batch.entries.count == 2)
        var ledger = FeedLedger()
        let result = ledger.ingest(batch, signers: signers)
        #expect(result.accepted.count == 2)
        #expect(result.rejected.count == 1)
        #expect(result.rejected.first?.origin == nil)
    }

    /// Found invalid for every key the ledger would try: refused without a second check.
    @Test func anEntryFoundForgedIsRefusedWithoutASecondCheck() {
        let genuine = feed(6)[5].signed
        let forged = SignedEntry(body: genuine.body, signature: [UInt8](repeating: 7, count: genuine.signature.count))
        var batch = ReceivedBatch(decoding: [forged])
        batch.checkAhead(of: VersionVector(), keys: keys, limit: 256)
        var ledger = FeedLedger()
        let result = ledger.ingest(batch, signers: signers)
        #expect(result.rejected.map(\.reason) == [.badSignature])
        #expect(result.signatureChecks == 0)
    }

    /// Found invalid for other keys than the ledger offers now: the ledger checks it itself.
    @Test func anEntryCheckedWithOtherKeysIsCheckedAgain() {
        let entry = feed(6)[5]
        var wrong = OriginKeys()
        wrong.add(SignerKey(id: SHA256.hash([2]), key: alliance.keys(alliance.node("US/us-1"))!, validFrom: 0, validUntil: .max), for: origin)
        var batch = ReceivedBatch(decoding: [entry.signed])
        batch.checkAhead(of: VersionVector(), keys: wrong, limit: 256)
        #expect(batch.checkedAhead == 1)
        var ledger = FeedLedger()
        let result = ledger.ingest(batch, signers: signers)
        #expect(result.buffered == 1)
        #expect(result.signatureChecks == 1)
    }

    /// Frames a peer sent one after another, joined: the entries in the order sent, the
    /// malformed kept, and what each frame checked ahead still taken by the ledger.
    @Test func framesJoinedKeepTheirOrderAndTheirChecks() {
        let entries = feed(10)
        var first = ReceivedBatch(decoding: entries[7...].map(\.signed))
        first.checkAhead(of: VersionVector(), keys: keys, limit: 256)
        let second = ReceivedBatch(decoding: [SignedEntry(body: [0xFF], signature: [1])] + entries[..<3].map(\.signed))
        let third = ReceivedBatch(decoding: entries[3..<7].map(\.signed))
        let joined = ReceivedBatch(joining: [first, second, third])
        #expect(joined.entries.map(\.seq) == [8, 9, 10, 1, 2, 3, 4, 5, 6, 7])
        #expect(joined.malformed.count == 1)
        #expect(joined.checkedAhead == 3)
        var ledger = FeedLedger()
        let result = ledger.ingest(joined, signers: signers)
        #expect(result.accepted.map(\.seq) == Array(1...10))
        #expect(result.rejected.count == 1)
        #expect(result.signatureChecks == 0, "the run from the head ends at 10, which its frame checked already")
        #expect(ReceivedBatch(joining: [third]).entries.map(\.seq) == [4, 5, 6, 7])
    }
}
