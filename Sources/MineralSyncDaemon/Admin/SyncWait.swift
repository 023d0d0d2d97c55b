import Registry

/// What `sync --wait` does at each event once it has asked its peers, decided from what it
/// sees then (pure: the handler hands it the time, which peers are connected and which are not
/// yet in sync, and does what it returns).
///
/// - A peer whose session dropped is waited for `reconnectGrace` (a simultaneous dial settled,
///   a quick restart: its next hello says what it holds); gone for longer, it is named.
/// - A peer still behind after it answered is asked again, at most every `askInterval` (its
///   answers are rate-limited control messages).
struct SyncWait {
    enum Action: Equatable {
        /// Another event after this long (nothing else may come meanwhile).
        case nudge(after: Duration)
        /// Ask the peers again now.
        case ask
        /// Every peer asked holds what this node holds, and the other way round.
        case inSync
        /// This peer disconnected and did not come back within the grace.
        case lost(NodeID)
    }

    let peers: [NodeID]
    let askInterval: Duration
    let reconnectGrace: Duration
    private var lostSince: [NodeID: ContinuousClock.Instant] = [:]
    private var lastAsked: ContinuousClock.Instant
    private var nudged = false

    /// `peers` were asked at `now`.
    init(asked peers: [NodeID], at now: ContinuousClock.Instant, askInterval: Duration, reconnectGrace: Duration) {
        self.peers = peers
        self.askInterval = askInterval
        self.reconnectGrace = reconnectGrace
        lastAsked = now
    }

    mutating func next(at now: ContinuousClock.Instant, connected: (NodeID) -> Bool, pending: ([NodeID]) -> [NodeID]) -> [Action] {
        var actions: [Action] = []
        for peer in peers {
            if connected(peer) {
                lostSince[peer] = nil
            } else if lostSince[peer] == nil {
                lostSince[peer] = now
                actions.append(.nudge(after: reconnectGrace))
            }
        }
        if let lost = peers.first(where: { lostSince[$0].map { now - $0 >= reconnectGrace } ?? false }) { return [.lost(lost)] }
        if pending(peers).isEmpty { return [.inSync] }
        let sinceAsked = now - lastAsked
        if sinceAsked >= askInterval {
            lastAsked = now
            nudged = false
            actions.append(.ask)
        } else if !nudged {
            nudged = true
            actions.append(.nudge(after: askInterval - sinceAsked))
        }
        return actions
    }
}
