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
        precedes(a.clock, a.origin, a.id, b.clock, b.origin, b.id)
    }

    /// The same order between two entries, without building an `EventOrder` for either.
    static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        precedes(a.clock, a.origin, a.id, b.clock, b.origin, b.id)
    }

    @inline(__always)
    private static func precedes(
        _ clockA: HybridTimestamp, _ originA: NodeID, _ idA: EntryID,
        _ clockB: HybridTimestamp, _ originB: NodeID, _ idB: EntryID
    ) -> Bool {
        if clockA != clockB { return clockA < clockB }
        if originA != originB { return originA < originB }
        return idA < idB
    }
}
