import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Registry
import SyncProtocol

/// One session per peer, and every peer's health. Thread-safe: sessions on any event loop report here.
public final class PeerManager: Sendable {
    private struct Slot {
        var direction: SessionTieBreak.Direction
        var channel: any Channel
    }

    private struct State {
        var sessions: [NodeID: Slot] = [:]
        var health: [NodeID: PeerHealth] = [:]
        /// Connections refused before their identity was known (TLS), by remote address.
        var refusals: [String: String] = [:]
    }

    public let local: NodeID
    private let state = NIOLockedValueBox(State())

    public init(local: NodeID) { self.local = local }

    /// Registers a verified session. Returns false when an existing session with the same peer
    /// wins the tie-break (the new one must close); a losing existing session is closed here.
    /// A new session in the *same* direction as an existing one replaces it: the dialling side
    /// only dials again when it has given up on the old connection.
    func claim(_ peer: NodeID, direction: SessionTieBreak.Direction, channel: any Channel) -> Bool {
        let displaced: (any Channel)? = state.withLockedValue { state in
            guard let existing = state.sessions[peer] else {
                state.sessions[peer] = Slot(direction: direction, channel: channel)
                return nil
            }
            guard existing.direction == direction || SessionTieBreak.keepsNew(local: local, peer: peer, newDirection: direction) else {
                return channel  // the new one loses
            }
            state.sessions[peer] = Slot(direction: direction, channel: channel)
            return existing.channel
        }
        if let displaced, displaced !== channel { displaced.close(promise: nil) }
        return displaced !== channel
    }

    func release(_ peer: NodeID, channel: any Channel) {
        state.withLockedValue { state in
            if state.sessions[peer]?.channel === channel {
                state.sessions[peer] = nil
                state.health[peer]?.connectedSince = nil
            }
        }
    }

    func update(_ peer: NodeID, _ change: (inout PeerHealth) -> Void) {
        state.withLockedValue { state in change(&state.health[peer, default: PeerHealth(peer: peer)]) }
    }

    func refused(address: String, reason: String) {
        state.withLockedValue { $0.refusals[address] = reason }
    }

    public var connectedPeers: [NodeID] { state.withLockedValue { $0.sessions.keys.sorted() } }
    public var health: [PeerHealth] { state.withLockedValue { $0.health.values.sorted { $0.peer < $1.peer } } }
    public func health(of peer: NodeID) -> PeerHealth? { state.withLockedValue { $0.health[peer] } }
    public var refusals: [String: String] { state.withLockedValue { $0.refusals } }

    /// Says goodbye on every session (shutdown).
    func allChannels() -> [any Channel] { state.withLockedValue { $0.sessions.values.map(\.channel) } }
}
