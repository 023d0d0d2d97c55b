import Registry
import SyncProtocol
import TestSupport
import Testing

@Suite struct SyncSessionTests {
    let alliance = TestAlliance.standard
    var eu: NodeID { alliance.node("EU/eu-1") }
    var us: NodeID { alliance.node("US/us-1") }
    var jp: NodeID { alliance.node("JP/jp-1") }

    func established(localVector: VersionVector = VersionVector(), peerVector: VersionVector = VersionVector()) -> SyncSession {
        var session = SyncSession(local: eu, peer: us)
        _ = session.receive(.hello(SyncHello(node: us, vector: peerVector)), localVector: localVector)
        return session
    }

    @Test func helloExchangeEstablishesAndStreamsWhatThePeerLacks() {
        var session = SyncSession(local: eu, peer: us)
        #expect(session.start(localVector: VersionVector([eu: 5])) == [.send(.hello(SyncHello(node: eu, vector: VersionVector([eu: 5]))))])
        let id = EntryID(hex: String(repeating: "ab", count: 32))!
        #expect(
            session.start(localVector: VersionVector([eu: 5]), headIDs: [eu: id])
                == [.send(.hello(SyncHello(node: eu, vector: VersionVector([eu: 5]), headIDs: [eu: id])))])
        let actions = session.receive(
            .hello(SyncHello(node: us, vector: VersionVector([eu: 2, us: 7]))),
            localVector: VersionVector([eu: 5, jp: 3]))
        #expect(session.state == .established)
        #expect(
            actions == [
                .established(peerVector: VersionVector([eu: 2, us: 7])),
                // Ours too: the peer knows only our current certificate, not those our history names.
                .sendCertificates([eu, jp]),
                .stream([eu: 3...5, jp: 1...3])
            ])
        #expect(session.peerHas == VersionVector([eu: 5, us: 7, jp: 3]))
    }

    @Test func helloNamingAnotherNodeThanTheCertificateCloses() {
        var session = SyncSession(local: eu, peer: us)
        let actions = session.receive(.hello(SyncHello(node: jp, vector: VersionVector())), localVector: VersionVector())
        #expect(actions == [.close(.identityMismatch, detail: "hello names JP/jp-1 but the TLS certificate names US/us-1", sendGoodbye: true)])
        #expect(session.state == .closed)
    }

    @Test func unsupportedVersionAndOutOfOrderMessagesClose() {
        var session = SyncSession(local: eu, peer: us)
        #expect(
            session.receive(.hello(SyncHello(protocolVersion: 2, node: us, vector: VersionVector())), localVector: VersionVector())
                == [.close(.unsupportedVersion, detail: SyncProtocolError.unsupportedVersion(2).description, sendGoodbye: true)])
        var early = SyncSession(local: eu, peer: us)
        guard case .close(.protocolViolation, _, true) = early.receive(.entries([]), localVector: VersionVector()).first else {
            Issue.record("entries before hello were accepted")
            return
        }
        var twice = established()
        guard case .close(.protocolViolation, _, true) = twice.receive(.hello(SyncHello(node: us, vector: VersionVector())), localVector: VersionVector()).first
        else {
            Issue.record("a second hello was accepted")
            return
        }
    }

    @Test func offerPushesOnlyWhatThePeerLacksAndFillsGapsFromTheStore() {
        var author = alliance.author("JP/jp-1")
        let entries = (0..<5).map { author.write(Ops.report("JP", "gallium", "\($0)"), at: UInt64($0)) }
        var session = established(peerVector: VersionVector([jp: 1]))
        // Entries 4 and 5 are new here; the peer holds 1: it needs 2...3 from the store first.
        let actions = session.offer(Array(entries[3...]))
        #expect(actions == [.sendCertificates([jp]), .stream([jp: 2...3]), .send(.entries([entries[3].signed, entries[4].signed]))])
        #expect(session.offer([entries[4]]).isEmpty)  // already sent
        #expect(session.peerHas[jp] == 5)
    }

    @Test func entriesFromThePeerAreNotEchoedBack() {
        var author = alliance.author("US/us-1")
        let entry = author.write(Ops.report("US"), at: 1)
        var session = established()
        #expect(session.receive(.entries([entry.signed]), localVector: VersionVector()) == [.ingest([entry.signed], certificates: [])])
        session.peerSent([entry])
        #expect(session.offer([entry]).isEmpty)
    }

    @Test func peersVectorRepairsWhatWasLostInFlight() {
        var session = established(localVector: VersionVector([eu: 4]), peerVector: VersionVector([eu: 4]))
        var author = alliance.author("EU/eu-1")
        let entries = (0..<6).map { author.write(Ops.report("EU"), at: UInt64($0)) }
        _ = session.offer([entries[4], entries[5]])  // optimistically sent 5 and 6; suppose they were dropped
        // Within the interval they were sent in, they may still be in flight: not sent again.
        #expect(session.receive(.vector(VersionVector([eu: 4])), localVector: VersionVector([eu: 6])).isEmpty)
        // Unconfirmed for a whole interval: sent again.
        _ = session.antiEntropyTick(localVector: VersionVector([eu: 6]))
        _ = session.antiEntropyTick(localVector: VersionVector([eu: 6]))
        #expect(session.receive(.vector(VersionVector([eu: 4])), localVector: VersionVector([eu: 6])) == [.stream([eu: 5...6])])
        #expect(session.receive(.vector(VersionVector([eu: 6])), localVector: VersionVector([eu: 6])).isEmpty)
    }

    @Test func peerHoldingMoreOfOurOwnFeedIsReported() {
        var session = SyncSession(local: eu, peer: us)
        let actions = session.receive(.hello(SyncHello(node: us, vector: VersionVector([eu: 9]))), localVector: VersionVector([eu: 4]))
        #expect(actions.contains(.ownFeedBehind(peerHolds: 9)))
    }

    @Test func pingIsAnsweredWithOurVectorThenPongAndGoodbyeClosesQuietly() {
        var session = established()
        #expect(session.receive(.ping(7), localVector: VersionVector([eu: 4])) == [.send(.vector(VersionVector([eu: 4]))), .send(.pong(7))])
        #expect(session.antiEntropyTick(localVector: VersionVector([eu: 1])) == [.send(.vector(VersionVector([eu: 1])))])
        #expect(
            session.receive(.goodbye(.shuttingDown, detail: ""), localVector: VersionVector())
                == [.close(.shuttingDown, detail: "peer said goodbye: shutting down", sendGoodbye: false)])
        #expect(session.receive(.ping(8), localVector: VersionVector()).isEmpty)
    }

    func streams(_ actions: [SyncSession.Action]) -> [[NodeID: ClosedRange<UInt64>]] {
        actions.compactMap { if case .stream(let ranges) = $0 { ranges } else { nil } }
    }

    /// Amplification: what the node sends is bounded by what the peer lacks. A flood of vectors
    /// and pings costs the node a pong each, not a re-send of what is in flight.
    @Test func repeatedVectorsAndPingsNeverResendWhatIsInFlight() {
        let local = VersionVector([eu: 100])
        var session = established(localVector: local)
        var flood: [SyncSession.Action] = []
        for nonce in 0..<1_000 as Range<UInt64> {
            flood += session.receive(.vector(VersionVector()), localVector: local)
            flood += session.receive(.ping(nonce), localVector: local)
        }
        #expect(streams(flood).isEmpty, "a vector re-queued entries still in flight")
        #expect(flood.count { if case .send(.vector) = $0 { true } else { false } } == 1, "one vector per interval answers pings")
        #expect(flood.count { if case .send(.pong) = $0 { true } else { false } } == 1_000)
        // A whole interval later, still unconfirmed: sent again, once, from what the peer holds.
        _ = session.antiEntropyTick(localVector: local)
        #expect(streams(session.receive(.vector(VersionVector([eu: 40])), localVector: local)).isEmpty, "one interval is not enough")
        _ = session.antiEntropyTick(localVector: local)
        #expect(streams(session.receive(.vector(VersionVector([eu: 40])), localVector: local)) == [[eu: 41...100]])
        #expect(streams(session.receive(.vector(VersionVector([eu: 40])), localVector: local)).isEmpty)
        // Confirmed: nothing more, ever, for those entries.
        _ = session.antiEntropyTick(localVector: local)
        _ = session.antiEntropyTick(localVector: local)
        #expect(streams(session.receive(.vector(VersionVector([eu: 100])), localVector: local)).isEmpty)
        _ = session.antiEntropyTick(localVector: local)
        _ = session.antiEntropyTick(localVector: local)
        #expect(streams(session.receive(.vector(VersionVector([eu: 100])), localVector: local)).isEmpty)
        // A changed vector is sent at once in answer to a ping.
        #expect(session.receive(.ping(1), localVector: VersionVector([eu: 101])).first == .send(.vector(VersionVector([eu: 101]))))
    }

    /// A feed pushed to in every interval still has its oldest unconfirmed entries sent again
    /// once they are a whole interval old (a mark reset by each push would never come due).
    @Test func entriesLostUnderSteadyPushesAreSentAgain() {
        var session = established(localVector: VersionVector([eu: 4]), peerVector: VersionVector([eu: 4]))
        var author = alliance.author("EU/eu-1")
        let entries = (0..<8).map { author.write(Ops.report("EU"), at: UInt64($0)) }
        _ = session.offer([entries[4], entries[5]])  // 5 and 6: refused or lost there
        _ = session.antiEntropyTick(localVector: VersionVector([eu: 6]))
        _ = session.offer([entries[6]])
        #expect(streams(session.receive(.vector(VersionVector([eu: 4])), localVector: VersionVector([eu: 7]))).isEmpty)
        _ = session.antiEntropyTick(localVector: VersionVector([eu: 7]))
        _ = session.offer([entries[7]])
        #expect(streams(session.receive(.vector(VersionVector([eu: 4])), localVector: VersionVector([eu: 8]))) == [[eu: 5...8]])
    }

    /// A peer's vector cannot make the session remember feeds without end.
    @Test func vectorsNamingFeedsThisNodeLacksAreNotRemembered() throws {
        var session = established(localVector: VersionVector([eu: 4]))
        for round in 0..<10 {
            let made = try VersionVector(Dictionary(uniqueKeysWithValues: (0..<1_000).map { (try NodeID("JP/fake-\(round)-\($0)"), UInt64(7)) }))
            _ = session.receive(.vector(made), localVector: VersionVector([eu: 4]))
        }
        #expect(session.peerHas.heads.count <= 1)
    }

    @Test func aRestoredPeerIsSentTheHeadOfItsOwnFeedFirstAsProof() {
        var session = SyncSession(local: eu, peer: us)
        let actions = session.receive(.hello(SyncHello(node: us, vector: VersionVector([us: 4]))), localVector: VersionVector([us: 10, eu: 2]))
        #expect(
            actions == [
                .established(peerVector: VersionVector([us: 4])),
                .proveHead(seq: 10),
                .sendCertificates([eu]),
                .stream([us: 5...10, eu: 1...2])
            ])
    }

    @Test func tieBreakKeepsTheSameSessionOnBothSides() {
        // EU/eu-1 < US/us-1: the session EU dialled survives, seen from either end.
        #expect(SessionTieBreak.keepsNew(local: eu, peer: us, newDirection: .dialled))
        #expect(!SessionTieBreak.keepsNew(local: eu, peer: us, newDirection: .accepted))
        #expect(SessionTieBreak.keepsNew(local: us, peer: eu, newDirection: .accepted))
        #expect(!SessionTieBreak.keepsNew(local: us, peer: eu, newDirection: .dialled))
    }
}
