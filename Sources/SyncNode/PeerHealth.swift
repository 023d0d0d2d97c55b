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

    static let recentLimit = 20

    public init(peer: NodeID) { self.peer = peer }

    mutating func rejected(_ rejections: [EntryRejection]) {
        rejectedEntries += rejections.count
        recentRejections.append(contentsOf: rejections.map(\.description))
        if recentRejections.count > Self.recentLimit { recentRejections.removeFirst(recentRejections.count - Self.recentLimit) }
    }
}
