/// What a node holds, as `{feed: highest contiguous sequence number}`.
///
/// Merge is the pointwise maximum: commutative, associative and idempotent, so vectors can be
/// exchanged in any order, repeatedly. A node advertises only entries it has committed, so a
/// peer that compares vectors learns exactly which entries it lacks (`missing(comparedTo:)`).
public struct VersionVector: Sendable, Hashable, CustomStringConvertible {
    public private(set) var heads: [NodeID: UInt64]

    public init(_ heads: [NodeID: UInt64] = [:]) {
        self.heads = heads.filter { $0.value > 0 }
    }

    public subscript(node: NodeID) -> UInt64 {
        get { heads[node] ?? 0 }
        set { heads[node] = newValue > 0 ? newValue : nil }
    }

    public mutating func merge(_ other: VersionVector) {
        heads.merge(other.heads, uniquingKeysWith: max)
    }

    public func merging(_ other: VersionVector) -> VersionVector {
        var copy = self
        copy.merge(other)
        return copy
    }

    /// True when this vector has everything `other` has.
    public func dominates(_ other: VersionVector) -> Bool {
        other.heads.allSatisfy { self[$0.key] >= $0.value }
    }

    /// For every feed where `other` is ahead, the sequence numbers this side lacks.
    public func missing(comparedTo other: VersionVector) -> [NodeID: ClosedRange<UInt64>] {
        var ranges: [NodeID: ClosedRange<UInt64>] = [:]
        for (node, theirs) in other.heads where theirs > self[node] {
            ranges[node] = (self[node] + 1)...theirs
        }
        return ranges
    }

    public var total: UInt64 { heads.values.reduce(0, +) }

    public var description: String {
        "{" + heads.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    }
}
