import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import PeerTestSupport
import Registry
import SyncNode
import SyncProtocol
import TestSupport
import Testing

/// A peer with a valid certificate serves a node that joins from a checkpoint a state that does
/// not check out: views that are not the ones every participant signed, or a co-signature made
/// with another node's key. The joining node takes nothing, closes the session naming what is
/// wrong, and syncs every entry instead; a peer with no checkpoint makes it do the same.
@Suite(.serialized) struct CheckpointStateAttackTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let pki: TestPKI
    let signers: [TestNode]

    init() throws {
        pki = try TestPKI()
        signers = [try pki.node("EU", "eu-1"), try pki.node("US", "us-1"), try pki.node("JP", "jp-1")]
    }

    /// A state over a few entries of the signers, each statement signed by `signedBy` (default:
    /// its own node) over `digest` (default: the views' own).
    func state(digest: SHA256Digest? = nil, signedBy: (TestNode) -> TestNode = { $0 }) throws -> [UInt8] {
        try state(of: history().entries, digest: digest, signedBy: signedBy)
    }

    /// Two entries of each signer, and the authors that wrote them (to write what follows).
    func history() -> (entries: [Entry], authors: [FeedAuthor]) {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        var entries: [Entry] = []
        var authors: [FeedAuthor] = []
        for (index, node) in signers.enumerated() {
            var author = node.author()
            entries.append(author.write(Ops.report(node.id.participant, "gallium", "\(index + 1)"), at: now))
            entries.append(author.write(Ops.raise("tungsten", "mine outage \(index)"), at: now + 1))
            authors.append(author)
        }
        return (entries, authors)
    }

    func state(
        of entries: [Entry], digest: SHA256Digest? = nil, signedBy: (TestNode) -> TestNode = { $0 },
        omitting: String? = nil
    ) throws -> [UInt8] {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        var views = RegistryViews()
        views.fold(entries)
        let statements = try signers.filter { $0.id.participant.description != omitting }.map { node in
            let signer = signedBy(node)
            return try SignedStatement.signing(
                ViewStatement(node: node.id, vector: views.folded, digest: digest ?? views.digest, signedAtMillis: now),
                key: signer.key, signer: signer.certificate.fingerprint)
        }
        let checkpoint = ConvergenceTracker.Checkpoint(vector: views.folded, digest: digest ?? views.digest, statements: statements)
        let bases = entries.filter { $0.seq == views.folded[$0.origin] }.map(\.signed)
        return try CheckpointState.encode(
            checkpoint, views: views.snapshot(alertEntries: entries.filter { $0.subject?.hasPrefix("alert/") == true }),
            bases: bases)
    }

    /// A joining node, and a peer that waits for its request and answers with `state`.
    func serve(_ state: [UInt8], keepOpen: Bool = false) async throws -> (joiner: InProcessNode, goodbye: SyncMessage?, after: [SyncMessage]) {
        let (joiner, goodbye, after, peer) = try await serving(state)
        if !keepOpen { await peer.close() }
        return (joiner, goodbye, after)
    }

    func serving(_ state: [UInt8]) async throws -> (joiner: InProcessNode, goodbye: SyncMessage?, after: [SyncMessage], peer: HostilePeer) {
        let joiner = try InProcessNode("EU", "eu-9", pki: pki, group: group, joinFromCheckpoint: true)
        try await joiner.start()
        let peer = try await HostilePeer(identity: signers[1], trust: try pki.trustStore(), port: joiner.port)
        try await peer.hello()
        let asked = try await within(20, "the joiner asks for the checkpoint") { () async throws -> Bool in
            while let message = try await peer.next() {
                if case .checkpointRequest = message { return true }
                // Nothing but pings and pongs before it: no vector (it would ask for everything).
                if case .vector = message { return false }
            }
            return false
        }
        #expect(asked)
        try await peer.send(.certificates(signers.map { OriginCertificate(node: $0.id, chain: [$0.certificate.der]) }))
        for part in CheckpointPart.parts(of: state) { try await peer.send(.checkpointPart(part)) }
        let (goodbye, after) = try await within(20, "the joiner answers") { () async throws -> (SyncMessage?, [SyncMessage]) in
            var after: [SyncMessage] = []
            while let message = try await peer.next() {
                after.append(message)
                if case .goodbye = message { return (message, after) }
                if case .vector = message { return (nil, after) }
            }
            return (nil, after)
        }
        return (joiner, goodbye, after, peer)
    }

    func detail(_ goodbye: SyncMessage?) -> String {
        if case .goodbye(.protocolViolation, let detail) = goodbye { detail } else { "no protocol-violation goodbye: \(String(describing: goodbye))" }
    }

    @Test func viewsThatAreNotTheOnesSignedCloseTheSessionAndTakeNothing() async throws {
        let (joiner, goodbye, _) = try await serve(try state(digest: SHA256.hash([7])))
        #expect(detail(goodbye).contains("sent a checkpoint state that does not check out: the views do not match the checkpoint: the snapshot names digest"))
        #expect(await joiner.engine.vector.heads.isEmpty)
        // No other peer serves checkpoints: it syncs every entry from the next peer on.
        #expect(!joiner.engine.sessionFeatures.contains(SyncFeature.awaitsCheckpoint))
        await joiner.node.shutdown()
    }

    @Test func aCoSignatureMadeWithAnotherNodesKeyIsRefused() async throws {
        // JP's statement signed by US's key (naming US's certificate, then JP's).
        let (joiner, goodbye, _) = try await serve(try state(signedBy: { $0.id.participant == "JP" ? signers[1] : $0 }))
        #expect(detail(goodbye).contains("the checkpoint's statement of JP/jp-1 is not signed by a certificate of JP/jp-1 in force"))
        #expect(await joiner.engine.vector.heads.isEmpty)
        await joiner.node.shutdown()
    }

    @Test func anHonestStateIsTakenAndThenTheJoinerAsksForWhatFollows() async throws {
        let (joiner, goodbye, after) = try await serve(try state())
        #expect(goodbye == nil, "\(String(describing: goodbye))")
        // Its vector: the checkpoint's, so that the peer sends only what follows.
        let vector = after.compactMap { if case .vector(let vector) = $0 { vector } else { nil } }.last
        #expect(vector?.total == 6)
        #expect(await joiner.engine.vector.total == 6)
        #expect(await joiner.engine.currentSnapshot().views.alerts.count == 3)
        await joiner.node.shutdown()
    }

    /// What follows the checkpoint reaches the joiner and goes on from it; what precedes it, a
    /// peer that lacks it is never sent (the joiner never held it), and the rest streams.
    @Test func theJoinerSyncsWhatFollowsAndServesOnlyWhatItHolds() async throws {
        var (entries, authors) = history()
        let (joiner, _, _, server) = try await serving(try state(of: entries))
        let next = authors[1].write(Ops.report("US", "gallium", "9"), at: UInt64(Date().timeIntervalSince1970 * 1000))
        entries.append(next)
        try await server.send(.entries([next.signed]))
        try await within(20, "the entry after the checkpoint is taken") {
            while await joiner.engine.vector.total < 7 { try await Task.sleep(for: .milliseconds(10)) }
        }
        let late = try await HostilePeer(identity: try pki.node("JP", "jp-2"), trust: try pki.trustStore(), port: joiner.port)
        try await late.hello()
        // Everything it streams, until two pings after the first batch are answered (a stream
        // that re-read the same entries would have sent them again by then).
        let sent = try await within(20, "the joiner streams what it holds") { () async throws -> [SignedEntry] in
            var sent: [SignedEntry] = []
            var pongs = 0
            while let message = try await late.next() {
                if case .entries(let batch) = message {
                    if sent.isEmpty { try await late.send(.ping(1)) }
                    sent += batch
                }
                if case .pong = message {
                    pongs += 1
                    if pongs == 2 { return sent }
                    try await late.send(.ping(2))
                }
            }
            return sent
        }
        #expect(sent.map(\.id) == [next.id])
        await late.close()
        await server.close()
        await joiner.node.shutdown()
    }

    /// The wait is on progress, not on the whole transfer: a large state whose parts keep
    /// coming is taken, however long all of it takes.
    @Test func aStateWhosePartsKeepComingIsWaitedFor() async throws {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        var entries: [Entry] = []
        for node in signers {
            var author = node.author()
            for index in 0..<900 { entries.append(author.write(Ops.report(node.id.participant, "gallium", "\(index + 1)", site: "site-\(index)"), at: now)) }
        }
        let state = try state(of: entries)
        // Six parts, each after a pause of a third of the wait: all of them take twice the wait,
        // and a loaded machine has two thirds of it to spare between any two.
        let size = (state.count + 5) / 6
        let parts = stride(from: 0, to: state.count, by: size).map {
            CheckpointPart(total: UInt64(state.count), offset: UInt64($0), data: Array(state[$0..<min($0 + size, state.count)]))
        }
        #expect(parts.count == 6)
        let joiner = try InProcessNode("EU", "eu-9", pki: pki, group: group, joinFromCheckpoint: true, checkpointWait: .seconds(3))
        try await joiner.start()
        let peer = try await HostilePeer(identity: signers[1], trust: try pki.trustStore(), port: joiner.port)
        try await peer.hello()
        _ = try await within(20, "the joiner asks") { () async throws -> Bool in
            while let message = try await peer.next() { if case .checkpointRequest = message { return true } }
            return false
        }
        try await peer.send(.certificates(signers.map { OriginCertificate(node: $0.id, chain: [$0.certificate.der]) }))
        for part in parts {
            try await Task.sleep(for: .seconds(1))
            try await peer.send(.checkpointPart(part))
        }
        try await within(30, "the joiner takes the state") { while await joiner.engine.vector.total < 2_700 { try await Task.sleep(for: .milliseconds(20)) } }
        #expect(await joiner.engine.vector.total == 2_700)
        await peer.close()
        await joiner.node.shutdown()
    }

    /// Once the whole state has arrived the peer has done its part: checking it (a large state
    /// on a loaded machine takes longer than the wait) never gives up on it. The engine is
    /// driven as its session would drive it, so that the check can outlast the wait for sure.
    @Test func aStateThatArrivedWholeIsTakenHoweverLongItsCheckTakes() async throws {
        let joiner = try InProcessNode("EU", "eu-9", pki: pki, group: group, joinFromCheckpoint: true, checkpointWait: .seconds(1))
        let signals = NIOLockedValueBox<[SyncEngine.CheckpointSignal]>([])
        let (engine, link, peer) = (joiner.engine, UInt64(1), signers[1].id)
        await engine.attach(
            SyncEngine.SessionLink(
                peer: peer, id: link, offer: { _ in }, held: { _ in }, checkpoint: { signal in signals.withLockedValue { $0.append(signal) } }))
        _ = await engine.ingest([], certificates: signers.map { OriginCertificate(node: $0.id, chain: [$0.certificate.der]) }, from: peer)
        await engine.sessionEstablished(with: peer, peerVector: VersionVector(), link: link, features: [SyncFeature.checkpointViews])
        #expect(signals.withLockedValue { $0 } == [.request])
        // All of it arrived; its check takes twice the wait.
        let check = try #require(await engine.checkpointCheck(link: link))
        let bytes = try state()
        try await Task.sleep(for: .seconds(2))
        #expect(await engine.checkpointArrived(bytes, checked: check.check(bytes), from: peer, link: link) == nil)
        #expect(await engine.vector.total == 6)
        #expect(signals.withLockedValue { $0 } == [.request, .settled])
        await joiner.node.shutdown()
    }

    /// A checkpoint that lacks a statement of a participant of the joiner's quorum (the peer's
    /// quorum may be smaller) is not taken, but the peer is not closed for it: it is honest.
    @Test func aCheckpointOfASmallerQuorumIsNotTakenNorPunished() async throws {
        let (joiner, goodbye, after) = try await serve(try state(of: history().entries, omitting: "JP"))
        #expect(goodbye == nil, "\(String(describing: goodbye))")
        #expect(after.contains(.vector(VersionVector())))
        #expect(await joiner.engine.vector.heads.isEmpty)
        await joiner.node.shutdown()
    }

    /// A peer that is asked and never answers holds the joiner only until `checkpointWait`.
    @Test func aPeerThatNeverSendsItsStateIsGivenUpOn() async throws {
        let joiner = try InProcessNode("EU", "eu-9", pki: pki, group: group, joinFromCheckpoint: true, checkpointWait: .milliseconds(300))
        try await joiner.start()
        let peer = try await HostilePeer(identity: signers[1], trust: try pki.trustStore(), port: joiner.port)
        try await peer.hello()
        let vector = try await within(20, "the joiner gives up and sends its vector") { () async throws -> SyncMessage? in
            while let message = try await peer.next() {
                if case .vector = message { return message }
            }
            return nil
        }
        #expect(vector == .vector(VersionVector()))
        await peer.close()
        await joiner.node.shutdown()
    }

    /// A node serves its state to a peer once per interval: reconnecting to ask again is told
    /// there is none (a state can be large; asking is cheap).
    @Test func aPeerIsServedTheStateOncePerInterval() async throws {
        let node = try InProcessNode("US", "us-1", pki: pki, group: group)
        let (eu, jp) = (try NodeID("EU/eu-9"), try NodeID("JP/jp-9"))
        #expect(await node.engine.mayServeCheckpoint(to: eu))
        #expect(await !node.engine.mayServeCheckpoint(to: eu))
        #expect(await node.engine.mayServeCheckpoint(to: jp))
        await node.node.shutdown()
    }

    @Test func aPeerWithoutACheckpointMakesTheJoinerSyncEverything() async throws {
        let (joiner, goodbye, after) = try await serve([])
        #expect(goodbye == nil)
        #expect(after.contains(.vector(VersionVector())))
        await joiner.node.shutdown()
    }
}
