/// Proof that a node signed two different histories of its feed: the entry this node holds and
/// a conflicting entry with a valid signature by the same origin. Kept for good (it is a security
/// event an operator must see); the origin's feed is frozen from then on.
public struct ForkEvidence: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Two different signed bodies at the same sequence number.
        case sameSequence = "same-sequence"
        /// A signed entry whose `previous` disagrees with the held entry before it.
        case divergentChain = "divergent-chain"
    }

    public let origin: NodeID
    public let seq: UInt64
    public let kind: Kind
    /// The id of the entry this node holds at `seq` (same-sequence) or at `seq - 1` (divergent-chain).
    public let held: EntryID
    public let conflicting: SignedEntry

    public init(origin: NodeID, seq: UInt64, kind: Kind, held: EntryID, conflicting: SignedEntry) {
        self.origin = origin
        self.seq = seq
        self.kind = kind
        self.held = held
        self.conflicting = conflicting
    }

    public var description: String {
        switch kind {
        case .sameSequence:
            "fork in feed \(origin): two different signed entries at seq \(seq) (held \(held.hex.prefix(16)), conflicting \(conflicting.id.hex.prefix(16)))"
        case .divergentChain:
            "fork in feed \(origin): signed entry \(seq) continues a different entry \(seq - 1) than the one held (\(held.hex.prefix(16)))"
        }
    }
}
