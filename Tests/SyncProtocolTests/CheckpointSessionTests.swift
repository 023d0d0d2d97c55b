import Registry
import SyncProtocol
import TestSupport
import Testing

/// The session's part in joining from a checkpoint (sync.proto, "Joining from a checkpoint"):
/// a joining node sends no vector until it settles, its peers send it no entry until it does,
/// and the state it asked for arrives in order, within its limit, or closes the session.
@Suite struct CheckpointSessionTests {
    let alliance = TestAlliance.standard
    var eu: NodeID { alliance.node("EU/eu-1") }
    var us: NodeID { alliance.node("US/us-1") }
    var jp: NodeID { alliance.node("JP/jp-1") }
    static let joining = SyncFeature.all.union([SyncFeature.awaitsCheckpoint])

    /// EU joins; US holds `held` and serves checkpoints.
    func joiner() -> SyncSession {
        var session = SyncSession(local: eu, peer: us)
        _ = session.start(localVector: VersionVector(), features: Self.joining)
        _ = session.receive(.hello(SyncHello(node: us, vector: VersionVector([us: 9, jp: 4]))), localVector: VersionVector())
        return session
    }

    @Test func aJoiningNodeIsSentNothingUntilItSendsAVector() {
        var server = SyncSession(local: us, peer: eu)
        let local = VersionVector([us: 9, jp: 4])
        let hello = server.receive(.hello(SyncHello(node: eu, vector: VersionVector(), features: Self.joining)), localVector: local)
        #expect(hello == [.established(peerVector: VersionVector())])
        #expect(server.peerAwaitsCheckpoint)
        var author = alliance.author("JP/jp-1")
        let entry = author.write(Ops.report("JP"), at: 1)
        #expect(server.offer([entry]).isEmpty)
        #expect(server.receive(.checkpointRequest, localVector: local) == [.serveCheckpoint])
        // Asked twice in one session: a peer may not make us serve without end.
        var twice = server
        #expect(
            twice.receive(.checkpointRequest, localVector: local).first.map { if case .close(.protocolViolation, _, _) = $0 { true } else { false } } == true)
        // Its vector (after it started from the checkpoint): what it lacks from there.
        let actions = server.receive(.vector(VersionVector([us: 5, jp: 4])), localVector: local)
        #expect(actions.contains(.stream([us: 6...9])))
        #expect(!server.peerAwaitsCheckpoint)
    }

    @Test func aJoiningNodeSendsNoVectorUntilItSettles() {
        var session = joiner()
        #expect(session.awaitingCheckpoint)
        #expect(session.antiEntropyTick(localVector: VersionVector()).isEmpty)
        #expect(session.receive(.ping(7), localVector: VersionVector()) == [.send(.pong(7, wallMillis: 0))])
        let settled = VersionVector([us: 5, jp: 4])
        #expect(session.checkpointSettled(localVector: settled) == [.send(.vector(settled))])
        #expect(!session.awaitingCheckpoint)
        #expect(session.checkpointSettled(localVector: settled).isEmpty)
        #expect(session.antiEntropyTick(localVector: settled) == [.send(.vector(settled))])
    }

    @Test func theStateArrivesInPartsInOrder() {
        var session = joiner()
        #expect(session.requestCheckpoint() == [.send(.checkpointRequest)])
        #expect(session.requestCheckpoint() == nil)  // one request at a time
        let state = (0..<(CheckpointPart.maximumSize + 10)).map { UInt8(truncatingIfNeeded: $0) }
        let parts = CheckpointPart.parts(of: state)
        #expect(parts.count == 2)
        #expect(session.receive(.checkpointPart(parts[0]), localVector: VersionVector()).isEmpty)
        #expect(session.receive(.checkpointPart(parts[1]), localVector: VersionVector()) == [.joinFromCheckpoint(state)])
        // A part nobody asked for breaks the protocol.
        let unasked = session.receive(.checkpointPart(parts[0]), localVector: VersionVector())
        #expect(
            unasked.first.map { if case .close(.protocolViolation, let detail, true) = $0 { detail.contains("none was asked for") } else { false } } == true)
    }

    @Test func partsOutOfOrderOrBeyondTheLimitClose() {
        var outOfOrder = joiner()
        _ = outOfOrder.requestCheckpoint()
        let parts = CheckpointPart.parts(of: [UInt8](repeating: 1, count: CheckpointPart.maximumSize * 2))
        let skipped = outOfOrder.receive(.checkpointPart(parts[1]), localVector: VersionVector())
        #expect(skipped.first.map { if case .close(.protocolViolation, _, true) = $0 { true } else { false } } == true)

        // The same part again, or a part naming another total: not stitched in.
        for repeated in [parts[0], CheckpointPart(total: parts[0].total + 1, offset: UInt64(parts[0].data.count), data: [1])] {
            var twice = joiner()
            _ = twice.requestCheckpoint()
            _ = twice.receive(.checkpointPart(parts[0]), localVector: VersionVector())
            let again = twice.receive(.checkpointPart(repeated), localVector: VersionVector())
            #expect(again.first.map { if case .close(.protocolViolation, _, true) = $0 { true } else { false } } == true)
        }

        var large = joiner()
        large.maximumCheckpointBytes = 1 << 20
        _ = large.requestCheckpoint()
        let huge = large.receive(.checkpointPart(CheckpointPart(total: 2 << 20, offset: 0, data: [1])), localVector: VersionVector())
        #expect(huge.first.map { if case .close(.protocolViolation, let detail, true) = $0 { detail.contains("at most 1048576") } else { false } } == true)
    }

    @Test func aPeerWithoutACheckpointSaysSo() {
        var session = joiner()
        _ = session.requestCheckpoint()
        #expect(session.receive(.checkpointPart(CheckpointPart(total: 0, offset: 0, data: [])), localVector: VersionVector()) == [.checkpointUnavailable])
        // Asked again (another chance later), it may answer again.
        #expect(session.requestCheckpoint() == [.send(.checkpointRequest)])
    }

    @Test func aPeerThatServesNoCheckpointsIsNotAsked() {
        var session = SyncSession(local: eu, peer: us)
        _ = session.start(localVector: VersionVector(), features: Self.joining)
        _ = session.receive(.hello(SyncHello(node: us, vector: VersionVector(), features: [SyncFeature.statements])), localVector: VersionVector())
        #expect(session.requestCheckpoint() == nil)
    }

    @Test func checkpointMessagesRoundTripAndPartsAreChecked() throws {
        let part = CheckpointPart(total: 10, offset: 4, data: [1, 2, 3])
        #expect(try SyncMessageCodec.decode(try SyncMessageCodec.encode(.checkpointPart(part))) == .checkpointPart(part))
        #expect(try SyncMessageCodec.decode(try SyncMessageCodec.encode(.checkpointRequest)) == .checkpointRequest)
        // Data beyond the total it names.
        let beyond = try SyncMessageCodec.encode(.checkpointPart(CheckpointPart(total: 3, offset: 2, data: [1, 2])))
        #expect(throws: SyncProtocolError.self) { try SyncMessageCodec.decode(beyond) }
        let oversized = try SyncMessageCodec.encode(
            .checkpointPart(CheckpointPart(total: 1 << 30, offset: 0, data: [UInt8](repeating: 0, count: CheckpointPart.maximumSize + 1))))
        #expect(throws: SyncProtocolError.self) { try SyncMessageCodec.decode(oversized) }
    }

    /// A peer that knows checkpoints may not send a node that awaits one entries (it would make
    /// the node take the whole history); a peer of an older release, which does not, may.
    @Test func entriesBeforeTheVectorBreakTheProtocolOnlyForAPeerThatKnowsBetter() {
        var author = alliance.author("US/us-1")
        let entry = author.write(Ops.report("US"), at: 1)
        var aware = joiner()
        let refused = aware.receive(.entries([entry.signed]), localVector: VersionVector())
        #expect(refused.first.map { if case .close(.protocolViolation, _, true) = $0 { true } else { false } } == true)
        var older = SyncSession(local: eu, peer: us)
        _ = older.start(localVector: VersionVector(), features: Self.joining)
        _ = older.receive(.hello(SyncHello(node: us, vector: VersionVector([us: 1]), features: [])), localVector: VersionVector())
        #expect(older.receive(.entries([entry.signed]), localVector: VersionVector()) == [.ingest([entry.signed], certificates: [])])
    }

    /// A state no longer waited for is dropped as it arrives, and its sender is not blamed.
    @Test func anAbandonedStateIsDroppedWithoutBlame() {
        var session = joiner()
        _ = session.requestCheckpoint()
        let parts = CheckpointPart.parts(of: [UInt8](repeating: 3, count: CheckpointPart.maximumSize + 1))
        #expect(session.receive(.checkpointPart(parts[0]), localVector: VersionVector()).isEmpty)
        session.abandonCheckpoint()
        #expect(session.receive(.checkpointPart(parts[1]), localVector: VersionVector()).isEmpty)
        #expect(session.state == .established)
        // Once it has all gone by, a part is unasked for again.
        let unasked = session.receive(.checkpointPart(parts[1]), localVector: VersionVector())
        #expect(unasked.first.map { if case .close(.protocolViolation, _, true) = $0 { true } else { false } } == true)
    }
}
