/// The end of a node's feed at its last genuine entry (`CutFeed` in entry.proto): written by
/// another node of the same participant after the feed's key was stolen or its node compromised.
public struct FeedCut: Sendable, Hashable {
    /// The feed that ends: a node, or one segment of it.
    public var feed: NodeID
    /// Its last genuine entry; 0 when none was.
    public var seq: UInt64
    /// The id of the entry at `seq` (nil exactly when `seq` is 0): the cut vouches for the chain
    /// that ends in it, and for nothing else.
    public var entryID: EntryID?
    public var reason: String

    public init(feed: NodeID, seq: UInt64, entryID: EntryID?, reason: String = "") {
        self.feed = feed
        self.seq = seq
        self.entryID = entryID
        self.reason = reason
    }

    /// Where two cuts name one feed, the one in force: the lower position (then the smaller id),
    /// whatever order they arrive in.
    func precedes(_ other: FeedCut) -> Bool {
        if seq != other.seq { return seq < other.seq }
        switch (entryID, other.entryID) {
        case (let mine?, let theirs?): return mine < theirs
        case (nil, _?): return true
        default: return false
        }
    }
}
