import Registry

/// The ranges of feeds a session still has to stream to its peer, de-duplicated: a range that
/// overlaps or touches one already queued for the same feed is merged into it, so asking twice
/// for the same entries queues them once. Feeds are served in the order they were first queued.
struct StreamQueue {
    /// Per feed, disjoint ranges in ascending order, none touching another.
    private var ranges: [NodeID: [ClosedRange<UInt64>]] = [:]
    private var order: [NodeID] = []

    var isEmpty: Bool { order.isEmpty }

    /// How many entries are queued.
    var count: UInt64 { ranges.values.joined().reduce(0) { $0 + ($1.upperBound - $1.lowerBound + 1) } }

    mutating func add(_ feed: NodeID, _ range: ClosedRange<UInt64>) {
        var merged = range
        var kept: [ClosedRange<UInt64>] = []
        for existing in ranges[feed] ?? [] {
            if existing.upperBound &+ 1 < merged.lowerBound || merged.upperBound &+ 1 < existing.lowerBound {
                kept.append(existing)
            } else {
                merged = min(existing.lowerBound, merged.lowerBound)...max(existing.upperBound, merged.upperBound)
            }
        }
        kept.append(merged)
        kept.sort { $0.lowerBound < $1.lowerBound }
        if ranges[feed] == nil { order.append(feed) }
        ranges[feed] = kept
    }

    /// The next range to stream from.
    var first: (feed: NodeID, range: ClosedRange<UInt64>)? {
        guard let feed = order.first, let range = ranges[feed]?.first else { return nil }
        return (feed, range)
    }

    /// A batch of `count` entries was read from the store for `range` of `feed` (the first range
    /// when the read began): consumes them and returns true if the queue still asks for all of
    /// that range (a range that grew meanwhile still does). Otherwise changes nothing and returns
    /// false: entries were asked for again before the range (merged into it), or the feed is no
    /// longer first, and what the queue asks for now is read again. An empty batch (the entries
    /// are gone) consumes the whole range.
    mutating func take(read count: Int, of feed: NodeID, in range: ClosedRange<UInt64>) -> Bool {
        guard let (first, queued) = first, first == feed, queued.lowerBound == range.lowerBound, queued.upperBound >= range.upperBound else {
            return false
        }
        consume(feed, through: count == 0 ? range.upperBound : range.lowerBound + UInt64(count) - 1)
        return true
    }

    /// The first range's entries up to `seq` were sent (or turned out to be gone).
    mutating func consume(_ feed: NodeID, through seq: UInt64) {
        guard var list = ranges[feed], let range = list.first else { return }
        if seq >= range.upperBound { list.removeFirst() } else if seq >= range.lowerBound { list[0] = (seq + 1)...range.upperBound }
        if list.isEmpty {
            ranges[feed] = nil
            order.removeAll { $0 == feed }
        } else {
            ranges[feed] = list
        }
    }
}
