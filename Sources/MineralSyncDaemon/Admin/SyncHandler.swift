import AdminAPI
import Foundation
import NIOConcurrencyHelpers
import Registry
import SyncNode

/// `sync [--peer P] [--wait]`: starts an anti-entropy round now; with `wait`, answers once every
/// peer asked holds what this node holds and the other way round.
///
/// Waiting is driven by events, not a poll: the engine's publications (entries committed here)
/// and the peers' (a session opened or closed, a peer's vector arrived). A peer's vector only
/// says what it held when it sent it, so a peer still behind after its answer is asked again,
/// at most every `askInterval` (its answers are rate-limited control messages).
struct SyncHandler: Sendable {
    let engine: SyncEngine
    let node: SyncNode
    let input: AdminInput
    static let askInterval: Duration = .milliseconds(250)
    /// How long a peer whose session dropped during the wait may take to come back.
    static let reconnectGrace: Duration = .seconds(10)

    func register(in router: inout AdminRouter) {
        router.on(AdminAPI.sync) { _, body in try await sync(body) }
    }

    private func sync(_ body: SyncRequest) async throws(AdminFailure) -> SyncResponse {
        let peer = try body.peer.map { text throws(AdminFailure) in try input.node(text, role: "peer") }
        guard body.wait == true else {
            if let peer, !isConnected(peer) { throw .notConnected("\(peer) is not connected (see `mineralctl peers`)") }
            let started = node.syncNow(with: peer)
            return SyncResponse(peers: started.map(\.description), inSync: false, versionVector: AdminPresenter.vector(engine.vector))
        }
        let timeout = min(max(body.timeoutSeconds ?? 60, 0.1), 3600)
        let events = await SyncWaitEvents(engine: engine, peers: node.peers, deadline: .now + .milliseconds(Int64(timeout * 1000)))
        defer { events.finish() }
        var wait: SyncWait?
        for await _ in events.stream {
            if wait == nil {
                // A named peer that is still connecting is waited for.
                if let peer, !isConnected(peer) { continue }
                let asked = node.syncNow(with: peer)
                guard !asked.isEmpty else {
                    throw .notConnected("no peer is connected, so there is nothing to be in sync with (see `mineralctl peers`)")
                }
                wait = SyncWait(asked: asked, at: .now, askInterval: Self.askInterval, reconnectGrace: Self.reconnectGrace)
            }
            for action in wait!.next(at: .now, connected: isConnected, pending: pending) {
                switch action {
                case .nudge(let delay): events.nudge(after: delay)
                case .ask: node.syncNow(with: peer)
                case .inSync:
                    return SyncResponse(peers: wait!.peers.map(\.description), inSync: true, versionVector: AdminPresenter.vector(engine.vector))
                case .lost(let lost):
                    throw .notConnected("\(lost) disconnected before it was in sync, and did not come back within \(Self.reconnectGrace)")
                }
            }
        }
        let started = wait?.peers
        if let peer, started == nil { throw .notConnected("\(peer) is not connected (see `mineralctl peers`)") }
        if let lost = started?.first(where: { !isConnected($0) }) { throw .notConnected("\(lost) disconnected before it was in sync") }
        let pending = pending(started ?? [])
        throw AdminFailure(.gatewayTimeout, "timeout", "not in sync with \(pending.map(\.description).joined(separator: ", ")) before the time-out")
    }

    private func isConnected(_ peer: NodeID) -> Bool { node.peers.connectedPeers.contains(peer) }

    /// The peers whose last vector differs from what this node holds, leaving out the feeds
    /// this node takes nothing more of (revoked nodes, forks, feeds shown in part or cut).
    private func pending(_ peers: [NodeID]) -> [NodeID] {
        let state = engine.snapshot
        let excluded = state.revokedOrigins
        let partial = state.feedsShownInPart
        let forked = Set(state.forks.map(\.origin))
        func comparable(_ vector: VersionVector) -> [NodeID: UInt64] {
            vector.heads.filter { !excluded.contains($0.key.node) && !forked.contains($0.key) && !partial.contains($0.key) }
        }
        let local = comparable(state.vector)
        return peers.filter { peer in
            // Connected is not yet in sync: only the peer's hello says what it holds (a fresh
            // node asking at once would otherwise compare two empty vectors).
            guard let health = node.peers.health(of: peer), health.connectedSince != nil else { return true }
            return comparable(health.confirmedVector) != local
        }
    }
}

/// The engine's and the peers' change events as one stream (plus the nudges a waiter asks
/// for), ending at the deadline.
final class SyncWaitEvents: Sendable {
    let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let tasks = NIOLockedValueBox<[Task<Void, Never>]>([])

    init(engine: SyncEngine, peers: PeerManager, deadline: ContinuousClock.Instant) async {
        (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let (engineChanges, peerChanges, continuation) = (await engine.changes(), peers.sessionChanges(), continuation)
        tasks.withLockedValue {
            $0 = [
                Task { for await _ in engineChanges { continuation.yield() } },
                Task { for await _ in peerChanges { continuation.yield() } },
                Task {
                    try? await Task.sleep(until: deadline)
                    continuation.finish()
                }
            ]
        }
    }

    /// One more event after `delay`.
    func nudge(after delay: Duration) {
        let continuation = continuation
        let task = Task {
            try? await Task.sleep(for: delay)
            continuation.yield()
        }
        tasks.withLockedValue { $0.append(task) }
    }

    func finish() {
        for task in tasks.withLockedValue({ $0 }) { task.cancel() }
        continuation.finish()
    }
}
