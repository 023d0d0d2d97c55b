import Foundation
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import PeerTestSupport
import Registry
import SyncNode
import SyncProtocol
import TestSupport
import Testing

/// Attacks from an authenticated node (a real TLS client with a valid certificate of a real
/// participant) against a real node: the victim keeps taking writes and serving honest peers,
/// and the attacker ends up disconnected with a reason and in the penalty box.
@Suite(.serialized) struct HostilePeerTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let pki: TestPKI

    init() throws { pki = try TestPKI() }

    func detail(_ goodbye: SyncMessage?) -> String {
        if case .goodbye(_, let detail) = goodbye { detail } else { "no goodbye: \(String(describing: goodbye))" }
    }

    @Test func anUnprovenClaimToHoldTheVictimsFeedIsRefutedAndPenalised() async throws {
        let eu = try InProcessNode(
            "EU", "eu-1", pki: pki, group: group,
            claimProofTimeout: .seconds(2)
        ) { $0.penaltyPolicy = PenaltyPolicy(base: 60) }
        try await eu.start()
        let attacker = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: eu.port)
        try await attacker.hello(VersionVector([eu.identity.id: 1 << 40]))
        // While the claim is open, writes wait (75 at mineralctl), naming who claims what.
        // The engine publishes a change of writability: each publication is looked at, no poll.
        let changes = await eu.engine.changes()
        try await within(20, "the claim is registered") {
            for await _ in changes where !eu.engine.snapshot.ownFeedWritable { return }
        }
        do {
            _ = try await eu.engine.append(Ops.report("EU"))
            Issue.record("a write went through an open claim")
        } catch {
            guard case .ownFeedClaimed(let peer, 1 << 40, 0, _) = error, peer == attacker.identity.id else {
                Issue.record("wrong refusal: \(error)")
                return
            }
        }
        // No proof comes: the claim is dropped, writes resume, the attacker is told why and closed.
        let goodbye = try await within(20, "the attacker is closed") { try await attacker.untilClosed() }
        #expect(detail(goodbye).contains("claimed this node's feed up to seq 1099511627776 and sent no entry signed by this node"))
        try await within(20, "writes resume") { await eu.engine.waitUntilWritable() }
        #expect(try await eu.engine.append(Ops.report("EU")).seq == 1)
        let health = try #require(eu.node.peers.health(of: attacker.identity.id))
        #expect(health.offences == 1 && health.penalizedUntil != nil)
        // Back at once: refused while in the penalty box, and its claim counts for nothing.
        let again = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: eu.port)
        try? await again.hello(VersionVector([eu.identity.id: 1 << 40]))
        #expect(detail(try await within(20, "refused") { try await again.untilClosed() }).contains("is refused until"))
        #expect(try await eu.engine.append(Ops.report("EU")).seq == 2)
        await eu.node.shutdown()
    }

    /// Claiming and leaving before the deadline blocks writes no longer than the connection, and
    /// is an offence all the same (or an attacker could reconnect and claim again at once).
    @Test func aClaimantThatLeavesWithoutProofIsPenalised() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group, claimProofTimeout: .seconds(600))
        try await eu.start()
        let attacker = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: eu.port)
        let changes = eu.node.peers.sessionChanges()
        try await attacker.hello(VersionVector([eu.identity.id: 50]))
        try await within(20, "the session") { for await _ in changes where eu.node.peers.connectedPeers == [attacker.identity.id] { return } }
        await attacker.close()
        let victim = eu.node.peers
        let id = attacker.identity.id
        try await within(20, "the claim is refuted") { for await _ in changes where victim.health(of: id)?.lastOffence != nil { return } }
        #expect(victim.health(of: id)?.lastOffence?.contains("left without sending the entry") == true)
        try await within(20, "writes resume when the claimant leaves") { await eu.engine.waitUntilWritable() }
        #expect(try await eu.engine.append(Ops.report("EU")).seq == 1)
        await eu.node.shutdown()
    }

    /// What the node sends is bounded by what the peer lacks: a flood of vectors and pings
    /// claiming to hold nothing makes it send each entry once.
    /// View statements from a peer count only when signed by a certificate of the node they
    /// name: one naming another node, or naming the attacker under another certificate, is
    /// refused and changes nothing. The attacker's own statement with a digest that is not the
    /// victim's is a divergence about the attacker, recorded once however often it is repeated.
    @Test func forgedViewStatementsAreRefusedAndChangeNothing() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        try await eu.start()
        _ = try await eu.engine.append(Ops.report("EU", "gallium", "1"))
        let identity = try pki.node("JP", "jp-666")
        let attacker = try await HostilePeer(identity: identity, trust: try pki.trustStore(), port: eu.port)
        try await attacker.hello()
        _ = try await within(20, "the victim's hello") { try await attacker.next { if case .hello = $0 { false } else { true } } }
        let vector = eu.engine.snapshot.vector
        let own = SHA256.hash(identity.certificate.der)
        let other = SHA256.hash(Array("another certificate".utf8))
        let wrong = SHA256.hash(Array("not the victim's views".utf8))
        func statement(_ node: NodeID, signer: SignerID, at millis: UInt64) throws -> SignedStatement {
            try SignedStatement.signing(ViewStatement(node: node, vector: vector, digest: wrong, signedAtMillis: millis), key: identity.key, signer: signer)
        }
        let changes = await eu.engine.changes()
        try await attacker.send(
            .statements([
                try statement(try NodeID("US/us-1"), signer: own, at: 1),
                try statement(identity.id, signer: other, at: 2)
            ]))
        // Its own statements, then, last, one under its own certificate but signed by another
        // key, stating the victim's own digest: taken, it would record an agreement.
        let forger = try pki.node("JP", "jp-777")
        let forged = try SignedStatement.signing(
            ViewStatement(
                node: identity.id, vector: vector, digest: eu.engine.snapshot.viewDigest,
                signedAtMillis: 100), key: forger.key, signer: own)
        try await attacker.send(.statements((3...40).map { try! statement(identity.id, signer: own, at: $0) } + [forged]))
        try await within(20, "the attacker's statement is compared") {
            for await _ in changes where eu.engine.snapshot.convergence.divergences[identity.id] != nil { return }
        }
        let convergence = eu.engine.snapshot.convergence
        #expect(Set(convergence.divergences.keys) == [identity.id])
        #expect(convergence.divergences[identity.id]?.theirs == wrong)
        #expect(convergence.agreements.isEmpty && convergence.checkpoint == nil)
        #expect(eu.logged("security event: views differ") == 1, "one line for 38 repeats")
        #expect(eu.logged("view statements refused") == 2)
        await eu.node.shutdown()
    }

    /// A peer whose hello lists no optional messages (a node older than convergence proofs)
    /// is sent no statements: it would close the session on a message it does not know. One
    /// that lists them gets the node's statement.
    @Test func statementsGoOnlyToPeersThatTakeThem() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        try await eu.start()
        // An older peer: rounds of a new entry, a statement about it, and a ping, until the new
        // entry reaches it before the pong (the node then had this session's link when it
        // signed). Nothing it was sent in any round is a statement.
        let old = try await HostilePeer(identity: try pki.node("JP", "jp-old"), trust: try pki.trustStore(), port: eu.port)
        try await old.hello(features: [])
        let sentToOld = try await within(20, "a round in which the session had its link") { () async throws -> Int in
            var round: UInt64 = 0
            var statements = 0
            while true {
                round += 1
                let entry = try await eu.engine.append(Ops.report("EU", "gallium", "\(round)"))
                #expect(await eu.engine.signStatement() != nil)
                try await old.send(.ping(round))
                var pushed = false
                while let message = try await old.next() {
                    if case .statements(let sent) = message { statements += sent.count }
                    if case .entries(let entries) = message, entries.contains(entry.signed) { pushed = true }
                    if case .pong(round, _) = message { break }
                }
                if pushed { return statements }
            }
        }
        #expect(sentToOld == 0)
        await old.close()
        // A peer that takes them is sent the statements the node holds, without asking.
        let new = try await HostilePeer(identity: try pki.node("JP", "jp-new"), trust: try pki.trustStore(), port: eu.port)
        try await new.hello()
        let held = try await within(20, "the statements held") { () async throws -> Int in
            guard case .statements(let sent)? = try await new.next(skipping: { if case .statements = $0 { false } else { true } }) else { return 0 }
            return sent.count
        }
        #expect(held == 1)
        await new.close()
        await eu.node.shutdown()
    }

    @Test func repeatingAVectorOrAPingNeverResendsWhatThePeerHolds() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group) { $0.antiEntropyInterval = .seconds(60) }
        try await eu.start()
        for round in 0..<4 { _ = try await eu.engine.appendAll((0..<500).map { Ops.report("EU", "gallium", "\(round * 500 + $0)") }) }
        let attacker = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: eu.port)
        try await attacker.hello()
        for nonce in 0..<90 as Range<UInt64> {
            try await attacker.send(.vector(VersionVector()))
            try await attacker.send(.ping(nonce))
        }
        let (first, vectors) = try await within(30, "the flood is answered") { () async throws -> (Int, Int) in
            var received = 0
            var vectors = 0
            var pongs = 0
            while let message = try await attacker.next() {
                switch message {
                case .entries(let entries): received += entries.count
                case .vector: vectors += 1
                case .pong: pongs += 1
                default: break
                }
                if received >= 2_000, pongs == 90 { break }
            }
            return (received, vectors)
        }
        // Once more, after everything arrived: still nothing re-sent.
        for nonce in 1_000..<1_005 as Range<UInt64> {
            try await attacker.send(.ping(nonce))
            try await attacker.send(.vector(VersionVector()))
        }
        let second = try await within(30, "the second flood is answered") { () async throws -> Int in
            var received = 0
            while let message = try await attacker.next() {
                if case .entries(let entries) = message { received += entries.count }
                if case .pong(1_004, _) = message { break }
            }
            return received
        }
        let received = first + second
        #expect(received == 2_000, "entries sent more than once")
        #expect(vectors <= 2, "\(vectors) vectors answered 90 pings")
        #expect(eu.node.peers.health(of: attacker.identity.id)?.entriesSent == 2_000)
        // Beyond the burst, a flood of control messages is an offence.
        for nonce in 0..<400 as Range<UInt64> { try? await attacker.send(.ping(nonce)) }
        let goodbye = try await within(20, "closed") { try await attacker.untilClosed() }
        #expect(detail(goodbye).hasPrefix("message exceeds a limit: more than 200 vectors, pings and pongs at once"))
        #expect(eu.node.peers.health(of: attacker.identity.id)?.offences == 1)
        await eu.node.shutdown()
    }

    /// Validly signed entries of the attacker's own feed, ahead of a gap it never fills: what
    /// waits stays within the per-feed bound, and the rest is refused unverified.
    @Test func entriesAheadOfAGapNeverFilledStayWithinTheirBound() async throws {
        let limit = 256 << 10
        let eu = try InProcessNode(
            "EU", "eu-1", pki: pki, group: group,
            waitingLimits: FeedLedger.WaitingLimits(bytesPerFeed: limit, totalBytes: 4 * limit))
        try await eu.start()
        let attacker = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: eu.port)
        try await attacker.hello()
        var author = attacker.identity.author()
        let first = author.write(Ops.report("JP"), at: 1).signed  // withheld: the gap
        let note = String(repeating: "w", count: 2_000)
        for round in 0..<20 {
            let batch = (0..<100).map { step in
                author.write(
                    .reportReserve(
                        ReserveReport(
                            participant: "JP", mineral: try! MineralID("gallium"), site: "s\(round)-\(step)",
                            quantity: Quantity(amount: try! Amount("1"), unit: .tonne), asOfMillis: 1, note: note)), at: 2
                ).signed
            }
            try await attacker.send(.entries(batch))
        }
        let victim = eu.node.peers
        let attackerID = attacker.identity.id
        try await within(20, "the ingests are done") {
            for await _ in victim.sessionChanges() where (victim.health(of: attackerID)?.entriesReceived ?? 0) >= 2_000 { return }
        }
        let waiting = await eu.engine.waitingBytes
        #expect(waiting > 0 && waiting <= limit, "\(waiting) bytes wait")
        #expect(eu.node.peers.health(of: attacker.identity.id)?.offences == 0, "a full waiting area is not an offence")
        // The gap filled, what waited is accepted.
        try await attacker.send(.entries([first]))
        // The gap and what waited behind it are taken in one ingest, committed together.
        try await within(20, "accepted") { await eu.engine.waitUntilHolding(VersionVector([attackerID: 2])) }
        #expect(await eu.engine.waitingBytes == 0)
        #expect(eu.engine.vector[attackerID] > 1)
        await eu.node.shutdown()
    }

    @Test func anOversizedSignatureClosesTheSessionBeforeItIsKept() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        try await eu.start()
        let attacker = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: eu.port)
        try await attacker.hello()
        var author = attacker.identity.author()
        let genuine = author.write(Ops.report("JP"), at: 1).signed
        try await attacker.send(.entries([genuine, SignedEntry(body: genuine.body, signature: Array(repeating: 0xAB, count: 1 << 20))]))
        let goodbye = try await within(20, "closed") { try await attacker.untilClosed() }
        #expect(detail(goodbye) == "message exceeds a limit: entry 2 of the batch has a 1048576-byte signature; the limit is 256")
        #expect(eu.engine.vector[attacker.identity.id] == 0, "nothing of the refused frame was taken")
        #expect(eu.node.peers.health(of: attacker.identity.id)?.offences == 1)
        await eu.node.shutdown()
    }

    @Test func aFloodOfInvalidEntriesEndsTheSessionWhileHonestPeersSync() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group) { $0.invalidEntriesPerSession = 100 }
        let us = try InProcessNode("US", "us-1", pki: pki, group: group)
        try await eu.start()
        try await us.start()
        us.dial(eu)
        let attacker = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: eu.port)
        try await attacker.hello()
        // Entries of the attacker's own feed, each with a signature that does not verify.
        var author = attacker.identity.author()
        let forged = (0..<60).map { step -> SignedEntry in
            var signed = author.write(Ops.report("JP", "gallium", "\(step)"), at: UInt64(step)).signed
            signed = SignedEntry(body: signed.body, signature: signed.signature.map { $0 ^ 0x55 })
            return signed
        }
        for _ in 0..<3 { try? await attacker.send(.entries(forged)) }
        let goodbye = try await within(20, "closed") { try await attacker.untilClosed() }
        // Closed after the batch that crossed the limit: the first two frames, or the second and
        // third joined (they reach the engine together when they arrive while it works).
        #expect(
            ["sent 120 ", "sent 180 "].contains { detail(goodbye).hasPrefix($0) }
                && detail(goodbye).contains("entries that fail validation (the limit is 100 per session)"), "\(detail(goodbye))")
        #expect(eu.node.peers.health(of: attacker.identity.id)?.offences == 1)
        // The honest peer never noticed.
        _ = try await eu.engine.append(Ops.report("EU"))
        let target = eu.engine.vector
        try await within(20, "US syncs") { await us.engine.waitUntilHolding(target) }
        #expect(us.node.peers.health(of: eu.identity.id)?.offences == 0)
        for node in [eu, us] { await node.node.shutdown() }
    }

    /// A partner that signs without end fills no more than the per-feed quota: the rest is
    /// refused (not as invalid: no offence), the victim keeps serving, and its feed stops there.
    @Test func aFeedBeyondItsQuotaIsRefusedOverTLS() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group, feedQuota: 20_000)
        try await eu.start()
        let attacker = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: eu.port)
        try await attacker.hello()
        var author = attacker.identity.author()
        let note = String(repeating: "q", count: 1_000)
        let entries = (0..<60).map { step in
            author.write(
                .reportReserve(
                    ReserveReport(
                        participant: "JP", mineral: try! MineralID("gallium"), site: "s\(step)",
                        quantity: Quantity(amount: try! Amount("1"), unit: .tonne), asOfMillis: 1, note: note)), at: 2
            ).signed
        }
        try await attacker.send(.entries(entries))
        let attackerID = attacker.identity.id
        try await within(20, "the batch is processed") {
            for await _ in eu.node.peers.sessionChanges() where (eu.node.peers.health(of: attackerID)?.rejectedEntries ?? 0) > 0 { return }
        }
        let held = eu.engine.vector[attackerID]
        #expect(held > 0 && held < 60, "held \(held) of 60")
        #expect(await eu.engine.feedsAtQuota == [attackerID])
        #expect(eu.node.peers.health(of: attackerID)?.offences == 0)
        #expect(try await eu.engine.append(Ops.report("EU")).seq == 1, "the victim still writes")
        await attacker.close()
        await eu.node.shutdown()
    }

    /// A certificates message beyond the wire limits closes the session before anything in it
    /// is verified.
    @Test func anOversizedCertificatesMessageClosesTheSession() async throws {
        let eu = try InProcessNode("EU", "eu-1", pki: pki, group: group)
        try await eu.start()
        let attacker = try await HostilePeer(identity: try pki.node("JP", "jp-666"), trust: try pki.trustStore(), port: eu.port)
        try await attacker.hello()
        let chains = (0..<65).map { index in OriginCertificate(node: try! NodeID("JP/fake-\(index)"), chain: [[0x30, 0x00]]) }
        try await attacker.send(.certificates(chains))
        let goodbye = try await within(20, "closed") { try await attacker.untilClosed() }
        #expect(detail(goodbye) == "message exceeds a limit: more than 64 origin certificates in one message")
        #expect(await eu.engine.chainVerifications == 0)
        #expect(eu.node.peers.health(of: attacker.identity.id)?.offences == 1)
        await eu.node.shutdown()
    }
}
