import Registry

/// One session per pair of nodes. When both dial each other at once, both sides must keep the
/// same connection without talking about it: the one *dialled by* the smaller node id survives.
public enum SessionTieBreak {
    public enum Direction: Sendable, Hashable { case dialled, accepted }

    /// True when a new session in `direction` should replace an existing one in the other.
    public static func keepsNew(local: NodeID, peer: NodeID, newDirection: Direction) -> Bool {
        let dialledBySmaller: Direction = local < peer ? .dialled : .accepted
        return newDirection == dialledBySmaller
    }
}
