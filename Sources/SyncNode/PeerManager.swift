import Foundation
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import OpenSSLCrypto
import Registry
import SyncProtocol

/// One session per peer, and every peer's health. Thread-safe: sessions on any event loop report here.
public final class PeerManager: Sendable {
    private struct Slot {
        var direction: SessionTieBreak.Direction
        var channel: any Channel
        var verified: VerifiedPeer
    }

    private struct State {
        var sessions: [NodeID: Slot] = [:]
        var health: [NodeID: PeerHealth] = [:]
        /// The latest connections refused before their identity was known (TLS), newest last.
        var refusals: [Refusal] = []
        /// Whether this node's clock was last found to disagree with most peers (logged once).
        var clockWarned = false
        var watchers: [UInt64: AsyncStream<Void>.Continuation] = [:]
        var nextWatcher: UInt64 = 0
        /// The node is stopping (`stop()`): no session is registered any more.
        var stopped = false
    }

    public let local: NodeID
    public let penaltyPolicy: PenaltyPolicy
    private let state = NIOLockedValueBox(State())
    private let connected = Gauge(label: "mineralsync_peers_connected")
    private let refusedCount = Counter(label: "mineralsync_connections_refused_total")
    private let penalties = Counter(label: "mineralsync_peer_penalties_total")

    public init(local: NodeID, penaltyPolicy: PenaltyPolicy = PenaltyPolicy()) {
        self.local = local
        self.penaltyPolicy = penaltyPolicy
    }

    // MARK: the penalty box

    /// A peer broke the rules (a malformed or oversized message, an unproven claim, a flood of
    /// invalid entries): its session is closed with the reason, and it is refused (and not
    /// dialled) for longer each time. Returns when the penalty ends.
    @discardableResult
    public func penalize(_ peer: NodeID, reason: String, closeSession: Bool = true, now: Date = Date()) -> Date {
        let (until, channel) = state.withLockedValue { state -> (Date, (any Channel)?) in
            var health = state.health[peer] ?? PeerHealth(peer: peer)
            if let last = health.lastOffenceAt, now.timeIntervalSince(last) > penaltyPolicy.forgiveness { health.offences = 0 }
            health.offences += 1
            let until = now.addingTimeInterval(penaltyPolicy.duration(offence: health.offences))
            health.penalizedUntil = until
            health.lastOffence = reason
            health.lastOffenceAt = now
            health.lastError = "penalized until \(until.formatted(.iso8601)): \(reason)"
            state.health[peer] = health
            return (until, state.sessions[peer]?.channel)
        }
        penalties.increment()
        if closeSession, let channel {
            channel.closeSayingGoodbye(.protocolViolation, detail: reason)
        }
        sessionsChanged()
        return until
    }

    /// The warning that this node's clock disagrees with most peers, when it newly holds (once
    /// until it stops holding): logged as soon as enough peers were measured after a start.
    func clockWarningChanged(threshold: Int64) -> String? {
        state.withLockedValue { state in
            let warning = PeerHealth.clockWarning(Array(state.health.values), threshold: threshold)
            defer { state.clockWarned = warning != nil }
            return state.clockWarned ? nil : warning
        }
    }

    /// When `peer`'s current penalty ends, if it is in the box.
    public func penaltyEnd(of peer: NodeID, now: Date = Date()) -> Date? {
        state.withLockedValue { state in state.health[peer]?.penaltyEnd(now: now) }
    }

    /// Registers a verified session. Returns false when an existing session with the same peer
    /// wins the tie-break, or once the node stops (the new one must close); a losing existing
    /// session is closed here. A new session in the *same* direction as an existing one
    /// replaces it: the dialling side only dials again when it has given up on the old connection.
    func claim(_ peer: NodeID, direction: SessionTieBreak.Direction, channel: any Channel, verified: VerifiedPeer) -> Bool {
        let displaced: (any Channel)? = state.withLockedValue { state in
            // A handshake that ends after the node began to stop would start a session nobody
            // closes, and the node would wait for it forever.
            if state.stopped { return channel }
            guard let existing = state.sessions[peer] else {
                state.sessions[peer] = Slot(direction: direction, channel: channel, verified: verified)
                return nil
            }
            guard existing.direction == direction || SessionTieBreak.keepsNew(local: local, peer: peer, newDirection: direction) else {
                return channel  // the new one loses
            }
            state.sessions[peer] = Slot(direction: direction, channel: channel, verified: verified)
            return existing.channel
        }
        if let displaced, displaced !== channel { displaced.close(promise: nil) }
        connected.record(state.withLockedValue { $0.sessions.count })
        sessionsChanged()
        return displaced !== channel
    }

    func release(_ peer: NodeID, channel: any Channel) {
        state.withLockedValue { state in
            if state.sessions[peer]?.channel === channel {
                state.sessions[peer] = nil
                state.health[peer]?.connectedSince = nil
            }
        }
        connected.record(state.withLockedValue { $0.sessions.count })
        sessionsChanged()
    }

    /// An element now and after every change to the set of sessions (a claim or a release), the
    /// refused connections or a peer's health (entries counted, rejections, offences), for
    /// whoever waits for one of them. Bounded: a slow reader sees only that something changed.
    public func sessionChanges() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = continuation
            return state.nextWatcher
        }
        continuation.onTermination = { [weak self] _ in self?.state.withLockedValue { _ = $0.watchers.removeValue(forKey: id) } }
        continuation.yield()
        return stream
    }

    private func sessionsChanged() {
        for watcher in state.withLockedValue({ Array($0.watchers.values) }) { watcher.yield() }
    }

    func update(_ peer: NodeID, _ change: (inout PeerHealth) -> Void) {
        state.withLockedValue { state in change(&state.health[peer, default: PeerHealth(peer: peer)]) }
        sessionsChanged()
    }

    func refused(address: String, reason: String) {
        state.withLockedValue { state in
            state.refusals.append(Refusal(address: address, reason: reason, at: Date()))
            if state.refusals.count > Self.refusalLimit { state.refusals.removeFirst(state.refusals.count - Self.refusalLimit) }
        }
        refusedCount.increment()
        sessionsChanged()
    }

    /// How the live session with `peer` was set up, if there is one.
    public func direction(of peer: NodeID) -> SessionTieBreak.Direction? { state.withLockedValue { $0.sessions[peer]?.direction } }

    public var connectedPeers: [NodeID] { state.withLockedValue { $0.sessions.keys.sorted() } }
    public var health: [PeerHealth] { state.withLockedValue { $0.health.values.sorted { $0.peer < $1.peer } } }
    public func health(of peer: NodeID) -> PeerHealth? { state.withLockedValue { $0.health[peer] } }
    /// Security events for `mineralctl status`: the latest refused connections (bounded).
    public var refusals: [Refusal] { state.withLockedValue { $0.refusals } }
    static let refusalLimit = 50

    /// Closes every session whose peer `stillTrusted` now refuses (after a reload brought a CRL
    /// or removed an anchor), with the reason in that peer's health. Returns the peers closed.
    func closeSessions(failing stillTrusted: (VerifiedPeer) -> String?) -> [NodeID] {
        let doomed: [(NodeID, any Channel, String)] = state.withLockedValue { state in
            state.sessions.compactMap { peer, slot in
                guard let reason = stillTrusted(slot.verified) else { return nil }
                state.health[peer, default: PeerHealth(peer: peer)].lastError = "certificate no longer trusted: \(reason)"
                return (peer, slot.channel, reason)
            }
        }
        for (_, channel, _) in doomed { channel.close(promise: nil) }
        return doomed.map(\.0).sorted()
    }

    /// The live sessions, optionally only the one with `peer`.
    func channels(for peer: NodeID?) -> [(NodeID, any Channel)] {
        state.withLockedValue { state in
            state.sessions.filter { peer == nil || $0.key == peer }.map { ($0.key, $0.value.channel) }.sorted { $0.0 < $1.0 }
        }
    }

    /// The node stops: every session's channel, to close; from now on no session is registered.
    func stop() -> [any Channel] {
        state.withLockedValue { state in
            state.stopped = true
            return state.sessions.values.map(\.channel)
        }
    }

    /// Whether the node is stopping (`stop()`).
    var isStopped: Bool { state.withLockedValue { $0.stopped } }
}

/// How long a peer that broke the rules is refused: `base` after its first offence, doubling
/// with each further one, at most `maximum`. Offences are remembered for the daemon's life.
public struct PenaltyPolicy: Sendable, Hashable {
    public var base: TimeInterval
    public var maximum: TimeInterval
    /// A peer's offences are forgotten after this long without one: a partner that broke a rule
    /// once last year starts again from `base`, not from the doubled penalty.
    public var forgiveness: TimeInterval

    public init(base: TimeInterval = 30, maximum: TimeInterval = 3600, forgiveness: TimeInterval = 86_400) {
        self.base = base
        self.maximum = maximum
        self.forgiveness = forgiveness
    }

    public func duration(offence: Int) -> TimeInterval {
        min(maximum, base * pow(2, Double(min(max(offence, 1), 40) - 1)))
    }
}
