import Registry

extension Array where Element == Entry {
    /// The entries in a random order that keeps each feed in ascending seq: an order in which a
    /// node's ledger may release them (the views fold nothing else), feeds interleaved at random.
    public func interleavingFeeds(using random: inout some RandomNumberGenerator) -> [Entry] {
        var feeds = Dictionary(grouping: self, by: \.origin).values.map { $0.sorted { $0.seq < $1.seq }[...] }
        var order: [Entry] = []
        order.reserveCapacity(count)
        while !feeds.isEmpty {
            let index = Int.random(in: 0..<feeds.count, using: &random)
            order.append(feeds[index].removeFirst())
            if feeds[index].isEmpty { feeds.remove(at: index) }
        }
        return order
    }

    /// The entries again, interleaved at random, with `repeats` of them folded a second time
    /// after their first (as a node meets an entry twice): each repeat lands at or below its
    /// feed's highest seq folded.
    public func interleavingFeeds(repeating repeats: Int, using random: inout some RandomNumberGenerator) -> [Entry] {
        var order = interleavingFeeds(using: &random)
        for _ in 0..<repeats where !order.isEmpty {
            let original = Int.random(in: 0..<order.count, using: &random)
            order.insert(order[original], at: Int.random(in: (original + 1)...order.count, using: &random))
        }
        return order
    }
}
