import Foundation
import Registry

/// What an operator sees per peer in `mineralctl peers`.
public struct PeerHealth: Sendable, Hashable {
    public var peer: NodeID
    public var address: String?
    public var connectedSince: Date?
    public var lastContact: Date?
    public var entriesSent = 0
    public var entriesReceived = 0
    public var rejectedEntries = 0
    /// The most recent rejection reasons (newest last, at most `recentLimit`).
    public var recentRejections: [String] = []
    public var lastError: String?
    /// What the peer is known to hold: its last vector plus what was sent to it since.
    public var peerVector = VersionVector()
    /// Bytes written to this peer's connection and not yet taken by the kernel, now and at most.
    public var queuedBytes = 0
    public var peakQueuedBytes = 0
    /// The vector the peer itself last advertised (hello, anti-entropy, or answer to a ping):
    /// what it has confirmed holding, unlike `peerVector`, which counts what is in flight.
    public var confirmedVector = VersionVector()
    /// The participant CA that issued the peer's certificate verified it at connection time.
    public var certificateExpiry: Date?
    /// Rules this peer broke (see `PeerManager.penalize`), the latest, and until when it is refused.
    public var offences = 0
    public var lastOffence: String?
    public var lastOffenceAt: Date?
    public var penalizedUntil: Date?
    /// The peer's clock minus ours, in ms, estimated from the last ping's round trip (its pong
    /// says its wall clock); nil until measured. Positive: the peer's clock is ahead.
    public var clockOffsetMillis: Int64?
    public var roundTripMillis: Int64?

    /// When the peer's penalty ends, if it is in the penalty box at `now`.
    public func penaltyEnd(now: Date = Date()) -> Date? { penalizedUntil.flatMap { $0 > now ? $0 : nil } }

    /// Per feed, how many entries the peer lacks that this node holds (outbound lag) and how many
    /// this node lacks that the peer holds (inbound lag). Feeds with no lag are left out.
    public func lag(local: VersionVector) -> (peerLacks: [NodeID: UInt64], weLack: [NodeID: UInt64]) {
        var peerLacks: [NodeID: UInt64] = [:]
        var weLack: [NodeID: UInt64] = [:]
        for (feed, held) in local.heads where held > peerVector[feed] { peerLacks[feed] = held - peerVector[feed] }
        for (feed, held) in peerVector.heads where held > local[feed] { weLack[feed] = held - local[feed] }
        return (peerLacks, weLack)
    }

    static let recentLimit = 20

    /// When most peers whose clocks were measured (two at least) disagree with ours the same way
    /// beyond `threshold`, ours is the likely one that is wrong: what to tell the operator, else nil.
    public static func clockWarning(_ health: [PeerHealth], threshold: Int64) -> String? {
        let offsets = health.compactMap(\.clockOffsetMillis)
        // One peer alone cannot say which of two clocks is wrong.
        guard offsets.count >= 2 else { return nil }
        let ahead = offsets.filter { $0 > threshold }
        let behind = offsets.filter { $0 < -threshold }
        for (side, group) in [("behind", ahead), ("ahead of", behind)] where group.count * 2 > offsets.count {
            let median = group.sorted()[group.count / 2]
            return
                "this node's clock is about \(ClockOffset.text(abs(median)).dropFirst()) \(side) \(group.count) of the \(offsets.count) peers measured: check its time source (NTP)"
        }
        return nil
    }

    public init(peer: NodeID) { self.peer = peer }

    mutating func rejected(_ rejections: [EntryRejection]) {
        rejectedEntries += rejections.count
        recentRejections.append(contentsOf: rejections.suffix(Self.recentLimit).map(\.description))
        if recentRejections.count > Self.recentLimit { recentRejections.removeFirst(recentRejections.count - Self.recentLimit) }
    }
}

/// A connection refused before a session existed: bad certificate, wrong protocol, garbage.
public struct Refusal: Sendable, Hashable {
    public let address: String
    public let reason: String
    public let at: Date
}
