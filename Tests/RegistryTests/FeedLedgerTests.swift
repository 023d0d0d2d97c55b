import OpenSSLCrypto
import Registry
import TestSupport
import Testing

@Suite struct FeedLedgerTests {
    let alliance = TestAlliance.standard
    let eu = ParticipantID(stringLiteral: "EU")

    func feed(_ count: Int, of name: String = "EU/eu-1") -> [Entry] {
        var author = alliance.author(name)
        return (0..<count).map { author.write(Ops.report(author.node.participant, "gallium", "\($0)"), at: 1_000 + UInt64($0)) }
    }

    @Test func inOrderRunNeedsOneSignatureCheck() {
        var ledger = FeedLedger()
        let entries = feed(100)
        let result = ledger.ingest(entries.map(\.signed), keys: alliance.keys)
        #expect(result.accepted.map(\.seq) == Array(1...100))
        #expect(result.signatureChecks == 1)
        #expect(result.rejected.isEmpty)
        #expect(ledger.vector[alliance.node("EU/eu-1")] == 100)
        #expect(ledger.head(of: alliance.node("EU/eu-1"))?.id == entries.last?.id)
    }

    @Test func entriesAheadOfAGapWaitForIt() {
        var ledger = FeedLedger()
        let entries = feed(10)
        let late = ledger.ingest(entries[5...].map(\.signed), keys: alliance.keys)
        #expect(late.accepted.isEmpty)
        #expect(late.buffered == 5)
        #expect(late.signatureChecks == 5)  // each checked on its own before it may wait
        let early = ledger.ingest(entries[..<5].map(\.signed), keys: alliance.keys)
        #expect(early.accepted.map(\.seq) == Array(1...10))
        #expect(early.signatureChecks == 0)  // the run ends at an entry already verified
        #expect(early.acceptedFromWaiting == Set(entries[5...].map(\.id)), "the batch's sender did not send 6...10")
    }

    @Test func duplicatesAreCountedAndChangeNothing() {
        var ledger = FeedLedger()
        let entries = feed(5)
        _ = ledger.ingest(entries.map(\.signed), keys: alliance.keys)
        let again = ledger.ingest((entries + entries).map(\.signed), keys: alliance.keys)
        #expect(again.accepted.isEmpty)
        #expect(again.duplicates == 10)
        #expect(again.signatureChecks == 0)
    }

    /// A relay alters the middle entry of a run: the chain breaks right after it, the altered
    /// entry fails its signature, and only the authentic prefix is accepted.
    @Test func runWithAnAlteredMiddleEntryIsRejected() throws {
        let entries = feed(9)
        var signed = entries.map(\.signed)
        var body = signed[4].body
        body[body.count - 1] ^= 0x01
        signed[4] = SignedEntry(body: body, signature: signed[4].signature)
        var ledger = FeedLedger()
        let result = ledger.ingest(signed, keys: alliance.keys)
        #expect(result.accepted.map(\.seq) == [1, 2, 3, 4])
        #expect(result.rejected.contains { $0.seq == 5 && $0.reason == .badSignature })
        #expect(result.forks.isEmpty)
        #expect(ledger.vector[alliance.node("EU/eu-1")] == 4)
        // The genuine entry arriving later completes the feed.
        let repaired = ledger.ingest([entries[4].signed], keys: alliance.keys)
        #expect(repaired.accepted.map(\.seq) == [5, 6, 7, 8, 9])
    }

    @Test func alteredSignatureAtTheRunsEndIsRejected() {
        let entries = feed(4)
        var signed = entries.map(\.signed)
        var signature = signed[3].signature
        signature[0] ^= 0x80
        signed[3] = SignedEntry(body: signed[3].body, signature: signature)
        var ledger = FeedLedger()
        let result = ledger.ingest(signed, keys: alliance.keys)
        #expect(result.accepted.map(\.seq) == [1, 2, 3])
        #expect(result.rejected.map(\.reason) == [.badSignature])
    }

    @Test func entriesSignedByAnotherKeyAreRejected() throws {
        // US/us-1 signs entries that claim to be EU/eu-1's feed.
        let impostor = FeedAuthor(node: alliance.node("EU/eu-1"), key: alliance.nodes[alliance.node("US/us-1")]!)
        var author = impostor
        let forged = (0..<3).map { author.write(Ops.report("EU", "gallium", "\($0)"), at: UInt64($0)) }
        var ledger = FeedLedger()
        let result = ledger.ingest(forged.map(\.signed), keys: alliance.keys)
        #expect(result.accepted.isEmpty)
        #expect(result.rejected.count == 3)
        #expect(result.rejected.allSatisfy { $0.reason == .badSignature })
    }

    @Test func unknownOriginAndMalformedBytesAreRejectedWithReasons() {
        var ledger = FeedLedger()
        let result = ledger.ingest(feed(2).map(\.signed), keys: { _ in nil })
        #expect(result.rejected.map(\.reason) == [.unknownOrigin, .unknownOrigin])
        let garbage = ledger.ingest([SignedEntry(body: [0xFF, 0xFF, 0xFF], signature: [1])], keys: alliance.keys)
        guard case .malformed = garbage.rejected.first?.reason else {
            Issue.record("garbage not rejected as malformed")
            return
        }
        #expect(garbage.rejected.first!.description.contains("not a valid EntryBody"))
    }

    @Test func twoSignedEntriesAtOneSequenceAreAForkAndFreezeTheFeed() {
        let node = "EU/eu-2"
        var left = alliance.author(node)
        var right = alliance.author(node)
        let shared = left.write(Ops.report("EU", "gallium", "1"), at: 1)
        right = left
        let a = left.write(Ops.report("EU", "gallium", "2"), at: 2)
        let b = right.write(Ops.report("EU", "graphite", "3"), at: 2)
        let a3 = left.write(Ops.report("EU", "gallium", "4"), at: 3)
        var ledger = FeedLedger()
        #expect(ledger.ingest([shared.signed, a.signed], keys: alliance.keys).accepted.count == 2)
        let result = ledger.ingest([b.signed], keys: alliance.keys)
        #expect(result.forks.count == 1)
        #expect(result.forks.first?.kind == .sameSequence)
        #expect(result.forks.first?.held == a.id)
        #expect(result.forks.first?.conflicting == b.signed)
        #expect(ledger.fork(of: alliance.node(node)) != nil)
        // Frozen: even a valid continuation is refused, with its reason.
        let after = ledger.ingest([a3.signed], keys: alliance.keys)
        #expect(after.accepted.isEmpty)
        #expect(after.rejected.map(\.reason) == [.feedFrozen])
    }

    @Test func aSignedEntryContinuingADifferentHistoryIsAFork() {
        let node = "US/us-2"
        var left = alliance.author(node)
        let first = left.write(Ops.report("US", "gallium", "1"), at: 1)
        var right = left
        let leftSecond = left.write(Ops.report("US", "gallium", "2"), at: 2)
        _ = right.write(Ops.report("US", "gallium", "9"), at: 2)
        let rightThird = right.write(Ops.report("US", "gallium", "10"), at: 3)
        var ledger = FeedLedger()
        _ = ledger.ingest([first.signed, leftSecond.signed], keys: alliance.keys)
        let result = ledger.ingest([rightThird.signed], keys: alliance.keys)
        #expect(result.forks.map(\.kind) == [.divergentChain])
        #expect(result.forks.first?.held == leftSecond.id)
    }

    @Test func pendingEntriesAreBounded() {
        var ledger = FeedLedger(waitingLimits: .init(positionsAhead: 3))
        let entries = feed(8)
        let result = ledger.ingest(entries[1...].map(\.signed), keys: alliance.keys)
        #expect(result.buffered == 2)  // seq 2 and 3: within 3 of the head (0)
        #expect(result.rejected.map(\.seq) == [4, 5, 6, 7, 8])
        #expect(result.rejected.allSatisfy { $0.reason == .tooFarAhead(limit: 3) })
        #expect(ledger.pendingCount == 2)
        #expect(ledger.ingest([entries[0].signed], keys: alliance.keys).accepted.map(\.seq) == [1, 2, 3])
    }

    /// What waits ahead of gaps is bounded in bytes per feed and in total; what the bound
    /// refuses is accepted once the gap is filled, and the accounting returns to zero.
    @Test func waitingBytesAreBoundedPerFeedAndInTotal() {
        let eu = feed(12)
        let us = feed(12, of: "US/us-1")
        let cost = eu[1].signed.body.count + eu[1].signed.signature.count + 256
        var ledger = FeedLedger(waitingLimits: .init(bytesPerFeed: 4 * cost + cost / 2, totalBytes: 6 * cost + cost / 2))
        let first = ledger.ingest(eu[1...].map(\.signed), keys: alliance.keys)
        #expect(first.buffered == 4)
        #expect(first.rejected.map(\.seq) == Array(6...12))
        #expect(first.rejected.allSatisfy { $0.reason == .waitingFull(limit: 4 * cost + cost / 2, scope: .feed) })
        #expect(first.signatureChecks == 4, "what the bound refuses is not even verified")
        #expect(ledger.waitingBytes == 4 * cost)
        let second = ledger.ingest(us[1...].map(\.signed), keys: alliance.keys)
        #expect(second.buffered == 2, "the node's total leaves room for two more")
        #expect(second.rejected.first?.reason == .waitingFull(limit: 6 * cost + cost / 2, scope: .node))
        #expect(ledger.waitingBytes == 6 * cost)
        // The gaps fill: everything waiting is accepted, the accounting is back to zero, and the
        // refused entries are accepted when they come again.
        #expect(ledger.ingest([eu[0].signed], keys: alliance.keys).accepted.map(\.seq) == Array(1...5))
        #expect(ledger.ingest([us[0].signed], keys: alliance.keys).accepted.map(\.seq) == Array(1...3))
        #expect(ledger.waitingBytes == 0 && ledger.pendingCount == 0)
        #expect(ledger.ingest(eu[5...].map(\.signed), keys: alliance.keys).accepted.count == 7)
        // A fork drops what waited for its feed, and its bytes with it.
        var forked = FeedLedger()
        var left = alliance.author("JP/jp-1")
        let genesis = left.write(Ops.report("JP"), at: 1)
        var right = left
        let leftEntries = (2...4).map { left.write(Ops.report("JP", "gallium", "\($0)"), at: UInt64($0)) }
        let rightSecond = right.write(Ops.report("JP", "gallium", "99"), at: 2)
        _ = forked.ingest([genesis.signed, leftEntries[0].signed], keys: alliance.keys)
        _ = forked.ingest([leftEntries[2].signed], keys: alliance.keys)
        #expect(forked.waitingBytes > 0)
        #expect(forked.ingest([rightSecond.signed], keys: alliance.keys).forks.count == 1)
        #expect(forked.waitingBytes == 0)
    }

    /// CPU per frame: single-entry checks are bounded per batch, whatever the batch holds.
    @Test func singleChecksAreBoundedPerBatch() {
        let entries = feed(301)
        var ledger = FeedLedger(maximumSingleChecksPerBatch: 256)
        // 300 genuine entries ahead of a gap: 256 checked and waiting, 44 refused unchecked.
        let ahead = ledger.ingest(entries[1...].map(\.signed), keys: alliance.keys)
        #expect(ahead.signatureChecks == 256 && ahead.buffered == 256)
        #expect(ahead.rejected.count == 44 && ahead.rejected.allSatisfy { $0.reason == .overBudget(limit: 256) && !$0.reason.isInvalid })
        // Forgeries cost no more: 2,000 bad signatures claiming positions cost 256 checks.
        var fresh = FeedLedger(maximumSingleChecksPerBatch: 256)
        _ = fresh.ingest([entries[0].signed], keys: alliance.keys)
        let forged = entries[2...].map { SignedEntry(body: $0.signed.body, signature: $0.signed.signature.map { $0 ^ 1 }) }
        let flood = fresh.ingest(Array(repeating: forged, count: 7).joined().prefix(2_000).map { $0 }, keys: alliance.keys)
        #expect(flood.signatureChecks <= 256)
        // The budget is per batch: the gap filled, the rest is accepted.
        let rest = ledger.ingest(entries.map(\.signed), keys: alliance.keys)
        #expect(ledger.vector[alliance.node("EU/eu-1")] == 301)
        #expect(rest.accepted.count == 301 && rest.acceptedFromWaiting.count == 256)
    }

    /// A partner that signs without end fills no more than the quota on any node; what it
    /// signed within the quota is kept, and nothing of its feed waits.
    @Test func aFeedStopsAtItsQuota() {
        let entries = feed(20)
        let size = entries[0].signed.body.count + entries[0].signed.signature.count
        var ledger = FeedLedger()
        ledger.feedQuota = 10 * size + size / 2
        _ = ledger.ingest(entries[15...].map(\.signed), keys: alliance.keys)  // waiting
        let result = ledger.ingest(entries[..<15].map(\.signed), keys: alliance.keys)
        #expect(result.accepted.map(\.seq) == Array(1...10))
        #expect(result.feedsAtQuota == [alliance.node("EU/eu-1")])
        #expect(result.rejected.compactMap(\.seq).sorted() == Array(11...20), "the rest of the run, waiting ones included")
        #expect(result.rejected.allSatisfy { $0.reason == .quotaExceeded(limit: 10 * size + size / 2) && !$0.reason.isInvalid })
        #expect(ledger.storedBytes(of: alliance.node("EU/eu-1")) == 10 * size)
        #expect(ledger.pendingCount == 0 && ledger.waitingBytes == 0 && ledger.forks.isEmpty)
        // More of it is refused, never a fork.
        let later = ledger.ingest(entries[10...].map(\.signed), keys: alliance.keys)
        #expect(later.accepted.isEmpty && later.forks.isEmpty && later.rejected.count == 10)
        #expect(ledger.vector[alliance.node("EU/eu-1")] == 10)
    }

    @Test func anEntryWithAnotherEntrysSignatureIsRejected() {
        let entries = feed(3)
        var ledger = FeedLedger()
        _ = ledger.ingest([entries[0].signed], keys: alliance.keys)
        let swapped = SignedEntry(body: entries[1].signed.body, signature: entries[2].signed.signature)
        let result = ledger.ingest([swapped], keys: alliance.keys)
        #expect(result.accepted.isEmpty)
        #expect(result.rejected.map(\.reason) == [.badSignature])
        #expect(ledger.vector[alliance.node("EU/eu-1")] == 1)
    }

    @Test func anUnsignedEntryContinuingADifferentHistoryIsABrokenChainNotAFork() {
        var left = alliance.author("EU/eu-1")
        let first = left.write(Ops.report("EU"), at: 1)
        var right = left
        let second = left.write(Ops.report("EU", "gallium", "2"), at: 2)
        _ = right.write(Ops.report("EU", "gallium", "7"), at: 2)
        let third = right.write(Ops.report("EU", "gallium", "8"), at: 3)
        var signature = third.signed.signature
        signature[10] ^= 0xFF
        var ledger = FeedLedger()
        _ = ledger.ingest([first.signed, second.signed], keys: alliance.keys)
        let result = ledger.ingest([SignedEntry(body: third.signed.body, signature: signature)], keys: alliance.keys)
        #expect(result.forks.isEmpty)
        #expect(result.rejected.map(\.reason) == [.brokenChain])
        #expect(ledger.fork(of: alliance.node("EU/eu-1")) == nil)
    }

    /// Twins (two signed entries for one position) in one batch: one joins the feed, the other
    /// is the evidence. Found by the fork generator: the second twin used to replace the first
    /// silently.
    @Test func twinsInOneBatchAreAFork() throws {
        var author = alliance.author("JP/jp-1")
        let first = author.write(Ops.report("JP"), at: 1)
        var twin = author
        let a = author.write(Ops.report("JP", "gallium", "2"), at: 2)
        let b = twin.write(Ops.report("JP", "gallium", "3"), at: 2)
        for batch in [[first, a, b], [b, first, a], [first, b, a]] {
            var ledger = FeedLedger()
            let result = ledger.ingest(batch.map(\.signed), keys: alliance.keys)
            let evidence = try #require(result.forks.first)
            #expect(evidence.kind == .sameSequence && evidence.seq == 2)
            #expect(Set([evidence.held, evidence.conflicting.id]) == [a.id, b.id])
            #expect(ledger.fork(of: author.node) != nil)
            #expect(ledger.vector[author.node] == 2)
        }
    }

    /// Twins that both arrive ahead of a gap wait, each verified; when the gap fills, the fork shows.
    @Test func twinsAheadOfAGapAreAForkOnceTheGapFills() throws {
        var author = alliance.author("JP/jp-1")
        let first = author.write(Ops.report("JP"), at: 1)
        let second = author.write(Ops.report("JP", "gallium", "2"), at: 2)
        var twin = author
        let a = author.write(Ops.report("JP", "gallium", "3"), at: 3)
        let b = twin.write(Ops.report("JP", "gallium", "4"), at: 3)
        var ledger = FeedLedger()
        #expect(ledger.ingest([a.signed], keys: alliance.keys).buffered == 1)
        #expect(ledger.ingest([b.signed], keys: alliance.keys).buffered == 1)
        #expect(ledger.pendingCount == 2)
        let result = ledger.ingest([first.signed, second.signed], keys: alliance.keys)
        #expect(result.accepted.map(\.seq) == [1, 2, 3])
        #expect(result.forks.map(\.seq) == [3])
        #expect(ledger.pendingCount == 0)
    }

    /// Nothing a peer invents is kept: an entry ahead of a gap whose signature fails is refused
    /// at once, and a later genuine entry for that position is buffered.
    @Test func aForgedEntryAheadOfAGapIsRefusedAtOnce() {
        let entries = feed(4)
        var forged = entries[3].signed.signature
        forged[5] ^= 0x40
        var ledger = FeedLedger()
        let result = ledger.ingest([SignedEntry(body: entries[3].signed.body, signature: forged)], keys: alliance.keys)
        #expect(result.rejected.map(\.reason) == [.badSignature])
        #expect(result.buffered == 0 && ledger.pendingCount == 0)
        #expect(ledger.ingest([entries[3].signed], keys: alliance.keys).buffered == 1)
        #expect(ledger.ingest(entries[..<3].map(\.signed), keys: alliance.keys).accepted.map(\.seq) == [1, 2, 3, 4])
    }

    /// A forged run of 2,000 entries chained onto a genuine head: the authentic prefix is found
    /// with a binary search, not one verification per entry.
    @Test func findingTheAuthenticPrefixOfALongForgedRunTakesLogarithmicChecks() {
        let genuine = feed(1_000)
        var impostor = FeedAuthor(
            node: alliance.node("EU/eu-1"), key: alliance.nodes[alliance.node("US/us-1")]!,
            head: FeedHead(seq: 1_000, id: genuine.last!.id, link: genuine.last!.link))
        let forged = (0..<2_000).map { impostor.write(Ops.report("EU", "gallium", "\($0)"), at: 5_000 + UInt64($0)) }
        var ledger = FeedLedger()
        let result = ledger.ingest((genuine + forged).map(\.signed), keys: alliance.keys)
        #expect(result.accepted.count == 1_000)
        #expect(result.rejected.count == 2_000)
        #expect(result.rejected.allSatisfy { $0.reason == .badSignature })
        #expect(result.signatureChecks <= 14, "\(result.signatureChecks) checks for a run of 3,000")
    }

    /// Two replicas that received the two branches of a fork in opposite orders: both freeze the
    /// feed and keep the other branch's entry as evidence; each shows the branch it took first
    /// (until a cut says which entries were genuine), and both agree on every other feed.
    @Test func replicasGivenTheBranchesInOppositeOrdersBothFreezeAndAgreeElsewhere() throws {
        var eu = alliance.author("EU/eu-1")
        let shared = eu.write(Ops.report("EU", "gallium", "1"), at: 1)
        var twin = eu
        let left = eu.write(Ops.report("EU", "gallium", "2"), at: 2)
        let right = twin.write(Ops.report("EU", "gallium", "3"), at: 2)
        var us = alliance.author("US/us-1")
        let other = us.write(Ops.report("US", "tungsten", "5"), at: 3)
        var a = MineralRegistry()
        var b = MineralRegistry()
        _ = a.ingest([shared, left, other].map(\.signed), keys: alliance.keys)
        _ = b.ingest([other, shared, right].map(\.signed), keys: alliance.keys)
        let forkAtA = try #require(a.ingest([right.signed], keys: alliance.keys).forks.first)
        let forkAtB = try #require(b.ingest([left.signed], keys: alliance.keys).forks.first)
        #expect(forkAtA.held == left.id && forkAtA.conflicting.id == right.id)
        #expect(forkAtB.held == right.id && forkAtB.conflicting.id == left.id)
        let gallium = ReserveKey(participant: "EU", mineral: try MineralID("gallium"))
        #expect(a.views.reserve(gallium)?.report.quantity.amount.text == "2")
        #expect(b.views.reserve(gallium)?.report.quantity.amount.text == "3")
        let tungsten = ReserveKey(participant: "US", mineral: try MineralID("tungsten"))
        #expect(a.views.reserve(tungsten) == b.views.reserve(tungsten))
        #expect(a.vector == b.vector)
        // Neither takes anything more of the frozen feed, from either branch.
        let next = eu.write(Ops.report("EU", "gallium", "4"), at: 4)
        #expect(a.ingest([next.signed], keys: alliance.keys).rejected.map(\.reason) == [.feedFrozen])
        #expect(b.ingest([next.signed], keys: alliance.keys).rejected.map(\.reason) == [.feedFrozen])
    }

    /// A relay cannot freeze someone else's feed: an entry for a held position counts as fork
    /// evidence only with the origin's signature; a forged one is refused and nothing changes.
    @Test func aForgedEntryAtAHeldPositionIsRefusedAndFreezesNothing() {
        let entries = feed(3)
        var impostor = FeedAuthor(
            node: alliance.node("EU/eu-1"), key: alliance.nodes[alliance.node("US/us-1")]!,
            head: FeedHead(seq: 1, id: entries[0].id, link: entries[0].link))
        let forged = impostor.write(Ops.report("EU", "gallium", "999"), at: 1_001)  // claims seq 2
        var ledger = FeedLedger()
        _ = ledger.ingest(entries.map(\.signed), keys: alliance.keys)
        let result = ledger.ingest([forged.signed], keys: alliance.keys)
        #expect(result.rejected.map(\.reason) == [.badSignature])
        #expect(result.forks.isEmpty)
        #expect(ledger.fork(of: alliance.node("EU/eu-1")) == nil)
        var next = alliance.author("EU/eu-1")
        for entry in entries { next.catchUp(to: entry) }
        #expect(ledger.ingest([next.write(Ops.report("EU"), at: 2_000).signed], keys: alliance.keys).accepted.count == 1)
    }

    /// Many invented entries claiming one position cost at most two signature checks (a genuine
    /// feed has one entry per position, a fork two): the rest are refused unchecked.
    @Test func manyClaimantsForOnePositionCostTwoChecks() {
        let genuine = feed(1)
        var junk: [SignedEntry] = []
        for index in 0..<5_000 {
            var impostor = FeedAuthor(
                node: alliance.node("EU/eu-1"), key: alliance.nodes[alliance.node("US/us-1")]!,
                head: FeedHead(seq: 1, id: genuine[0].id, link: genuine[0].link))
            junk.append(impostor.write(Ops.report("EU", "gallium", "\(index)"), at: 9_000).signed)
        }
        var ledger = FeedLedger()
        _ = ledger.ingest(genuine.map(\.signed), keys: alliance.keys)
        let result = ledger.ingest(junk, keys: alliance.keys)
        #expect(result.signatureChecks <= 2)
        #expect(result.rejected.count == 5_000, "every claimant refused, once")
        #expect(result.rejected.filter { $0.reason == .contested(limit: 2) }.count == 4_998)
        #expect(result.accepted.isEmpty && result.forks.isEmpty && ledger.pendingCount == 0)
    }

    /// A fork found in a batch refuses the rest of the batch, each entry once.
    @Test func aForkRefusesTheRestOfItsBatchOnce() {
        var author = alliance.author("JP/jp-1")
        let first = author.write(Ops.report("JP"), at: 1)
        var twin = author
        let a = author.write(Ops.report("JP", "gallium", "2"), at: 2)
        let a3 = author.write(Ops.report("JP", "gallium", "3"), at: 3)
        let b = twin.write(Ops.report("JP", "gallium", "4"), at: 2)
        var ledger = FeedLedger()
        _ = ledger.ingest([first.signed, a.signed], keys: alliance.keys)
        let result = ledger.ingest([b.signed, a3.signed, a3.signed, first.signed], keys: alliance.keys)
        #expect(result.forks.map(\.conflicting.id) == [b.id])
        #expect(result.rejected.map(\.id) == [a3.id])
        #expect(result.duplicates == 2)  // the second copy of a3, and first (held)
    }

    @Test func adoptRequiresContiguityAndLinks() throws {
        let entries = feed(3)
        var ledger = FeedLedger()
        #expect(throws: FeedLedger.AdoptionError.notContiguous(origin: alliance.node("EU/eu-1"), seq: 2, head: 0)) { try ledger.adopt(entries[1]) }
        try ledger.adopt(entries[0])
        try ledger.adopt(entries[1])
        #expect(ledger.vector[alliance.node("EU/eu-1")] == 2)
        // The third entry of another history of the same feed does not link to the second held.
        var other = alliance.author("EU/eu-1")
        _ = other.write(Ops.report("EU", "graphite", "1"), at: 1)
        _ = other.write(Ops.report("EU", "graphite", "2"), at: 2)
        let stranger = other.write(Ops.report("EU", "graphite", "3"), at: 3)
        #expect(throws: FeedLedger.AdoptionError.chainMismatch(origin: alliance.node("EU/eu-1"), seq: 3)) { try ledger.adopt(stranger) }
        #expect(ledger.vector[alliance.node("EU/eu-1")] == 2)
    }
}
