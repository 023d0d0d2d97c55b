/// The total order of registry events used by every last-writer-wins rule: hybrid timestamp,
/// then node, then entry id. Any two distinct entries compare unequal, so "the latest" is the
/// same on every node whatever order the entries arrived in.
public struct EventOrder: Sendable, Hashable, Comparable {
    public let clock: HybridTimestamp
    public let origin: NodeID
    public let id: EntryID

    public init(_ entry: Entry) {
        clock = entry.clock
        origin = entry.origin
        id = entry.id
    }

    public static func < (a: Self, b: Self) -> Bool {
        if a.clock != b.clock { return a.clock < b.clock }
        if a.origin != b.origin { return a.origin < b.origin }
        return a.id < b.id
    }
}
