import MineralWire
import OpenSSLCrypto
import PropertyBased
import Registry
import TestSupport
import Testing

/// Joining from a checkpoint: a registry started from the views at a vector V (checked against
/// the statements of every participant) and given only the entries after V shows what a
/// registry that folded every entry shows. And a checkpoint state that does not check out
/// (a co-signature missing or forged, views that are not the ones signed, a missing base) is
/// refused, naming what is wrong.
@Suite struct CheckpointJoinTests {
    static let alliance = TestAlliance.standard
    static func state(
        of entries: [Entry], signers: [String] = ["EU/eu-1", "US/us-1", "JP/jp-1"], digest: SHA256Digest? = nil,
        dropBase: Bool = false
    ) throws -> (bytes: [UInt8], views: RegistryViews) {
        try CheckpointFixture.state(of: entries, signers: signers, digest: digest, dropBase: dropBase)
    }

    static func decode(_ bytes: [UInt8]) throws(CheckpointState.Problem) -> CheckpointState { try CheckpointFixture.decode(bytes) }

    /// Each feed's first `cut[feed]` entries (a random prefix per feed).
    static func prefixes(of entries: [Entry], using random: inout SplitMix64) -> (before: [Entry], after: [Entry]) {
        var heads: [NodeID: UInt64] = [:]
        for entry in entries { heads[entry.origin] = max(heads[entry.origin] ?? 0, entry.seq) }
        let cut = heads.mapValues { random.next() % ($0 + 1) }
        return (entries.filter { $0.seq <= cut[$0.origin]! }, entries.filter { $0.seq > cut[$0.origin]! })
    }

    @Test func joiningAtAnyVectorShowsWhatFoldingEverythingShows() async {
        await propertyCheck(count: 80, input: Gen.uint64(), Gen.int(in: 2...60)) { seed, size in
            var random = SplitMix64(seed: seed)
            let history = RandomHistory.make(alliance: Self.alliance, size: size, random: &random)
            var everything = MineralRegistry()
            _ = everything.ingest(history.entries.map(\.signed), keys: Self.alliance.keys)
            let (before, after) = Self.prefixes(of: history.entries, using: &random)
            guard !before.isEmpty else { return }
            let state = try! Self.decode(try! Self.state(of: before).bytes)
            var joined = try! MineralRegistry(joining: state)
            #expect(joined.vector == state.checkpoint.vector)
            // The rest in any order and batches, as peers send it.
            let tail = after.shuffled(using: &random).map(\.signed)
            let split = tail.isEmpty ? 0 : Int(random.next() % UInt64(tail.count + 1))
            _ = joined.ingest(Array(tail[..<split]), keys: Self.alliance.keys)
            _ = joined.ingest(Array(tail[split...]), keys: Self.alliance.keys)
            #expect(joined.vector == everything.vector)
            #expect(joined.views.digest == everything.views.digest)
            #expect(joined.views.entryCount == everything.views.entryCount)
            #expect(joined.views.reserves == everything.views.reserves)
            #expect(joined.views.alerts == everything.views.alerts)
            // Restarting: its own snapshot, with the alert entries of the state beside those after.
            let snapshot = joined.snapshot(since: VersionVector())
            let alerts = (state.alertEntries + after).filter { $0.subject?.hasPrefix(Entry.alertSubjectStart) == true }
            var ids: [NodeID: [EntryID]] = [:]
            for chunk in snapshot.idChunks { ids[chunk.feed, default: []] += chunk.ids }
            let restored = try? MineralRegistry(snapshotLedger: snapshot.ledger, ids: ids, views: snapshot.views, alertEntries: alerts)
            #expect(restored?.views.digest == everything.views.digest)
            #expect(restored?.vector == everything.vector)
        }
    }

    @Test func aFeedContinuesOnlyFromItsBase() throws {
        let author = Self.alliance.author("EU/eu-1")
        var writer = author
        var written: [Entry] = []
        for index in 0..<4 {
            let (entry, next) = try writer.drafting(Ops.report("EU", "gallium", "\(index)"), now: 1_000 + UInt64(index))
            written.append(entry)
            writer = next
        }
        let state = try Self.decode(try Self.state(of: Array(written.prefix(2))).bytes)
        var joined = try MineralRegistry(joining: state)
        #expect(joined.ledger.head(of: author.node)?.seq == 2)
        #expect(joined.ledger.entryID(of: author.node, seq: 2) == written[1].id)
        #expect(joined.ledger.entryID(of: author.node, seq: 1) == nil)
        // An entry before the base is not held, and is not judged: no fork, nothing taken.
        let old = joined.ingest([written[0].signed], keys: Self.alliance.keys)
        #expect(old.accepted.isEmpty && old.forks.isEmpty && old.rejected.isEmpty)
        // The next entry must link to the base.
        let (other, _) = try author.drafting(Ops.report("EU", "gallium", "77"), now: 5_000)
        let unlinked = joined.ingest([other.signed], keys: Self.alliance.keys)
        #expect(unlinked.accepted.isEmpty)
        let next = joined.ingest([written[3].signed, written[2].signed], keys: Self.alliance.keys)
        #expect(next.accepted.map(\.seq) == [3, 4])
        #expect(joined.views.reserve(ReserveKey(participant: "EU", mineral: try MineralID("gallium"), site: ""))?.order.id == written[3].id)
    }

    @Test func aStateMissingACoSignatureIsRefused() throws {
        var random = SplitMix64(seed: 7)
        let entries = RandomHistory.make(alliance: Self.alliance, size: 20, random: &random).entries
        let bytes = try Self.state(of: entries, signers: ["EU/eu-1", "US/us-2"]).bytes
        #expect(throws: CheckpointState.Problem.missingCoSignatures(["JP"])) { try Self.decode(bytes) }
    }

    @Test func aForgedCoSignatureIsRefused() throws {
        var random = SplitMix64(seed: 7)
        let entries = RandomHistory.make(alliance: Self.alliance, size: 20, random: &random).entries
        var views = RegistryViews()
        views.fold(entries)
        // JP's statement, signed with US's key.
        let jp = Self.alliance.node("JP/jp-1")
        let forged = try SignedStatement.signing(
            ViewStatement(node: jp, vector: views.folded, digest: views.digest, signedAtMillis: 1),
            key: Self.alliance.nodes[Self.alliance.node("US/us-1")]!, signer: .zero)
        let honest = try Self.state(of: entries, signers: ["EU/eu-1", "US/us-1"])
        var forgedOnly = Mineralsync_V1_CheckpointState()
        forgedOnly.statements = [forged.wire]
        let statements: [UInt8] = try forgedOnly.serializedBytes()
        // Splice: the honest state's statements and views, plus the forged one.
        var message = try Mineralsync_V1_CheckpointState(serializedBytes: honest.bytes)
        message.statements += try Mineralsync_V1_CheckpointState(serializedBytes: statements).statements
        let spliced: [UInt8] = try message.serializedBytes()
        #expect(throws: CheckpointState.Problem.forgedCoSignature(jp)) { try Self.decode(spliced) }
    }

    @Test func viewsThatAreNotTheOnesSignedAreRefused() throws {
        var random = SplitMix64(seed: 7)
        let entries = RandomHistory.make(alliance: Self.alliance, size: 20, random: &random).entries
        // Every participant signed another digest than the views served.
        let bytes = try Self.state(of: entries, digest: SHA256.hash([1, 2, 3])).bytes
        #expect {
            try Self.decode(bytes)
        } throws: { error in
            guard case .viewsDoNotMatch(let reason) = error as? CheckpointState.Problem else { return false }
            return reason.contains("digest")
        }
        // One byte of the state changed: it does not decode, or does not check out.
        var tampered = try Self.state(of: entries).bytes
        tampered[tampered.count / 2] ^= 0x01
        #expect(throws: CheckpointState.Problem.self) { try Self.decode(tampered) }
    }

    @Test func aStateWithoutEveryBaseIsRefused() throws {
        var random = SplitMix64(seed: 7)
        let entries = RandomHistory.make(alliance: Self.alliance, size: 20, random: &random).entries
        let bytes = try Self.state(of: entries, dropBase: true).bytes
        #expect {
            try Self.decode(bytes)
        } throws: { error in
            guard case .bases(let reason) = error as? CheckpointState.Problem else { return false }
            return reason.hasPrefix("none for")
        }
    }
}
