/// Lists writes so that each comes after the write it supersedes (when that one is among them),
/// and otherwise in the order given (`EventOrder`, ascending): a linear order that respects
/// causality first and clocks second, the same on every node. Linear in the number of writes.
enum CausalOrder {
    static func sorted<Write>(_ writes: [Write], id: (Write) -> EntryID, supersedes: (Write) -> EntryID?) -> [Write] {
        guard writes.contains(where: { supersedes($0) != nil }) else { return writes }
        var byID: [EntryID: Write] = [:]
        for write in writes { byID[id(write)] = write }
        var listed: Set<EntryID> = []
        var ordered: [Write] = []
        ordered.reserveCapacity(writes.count)
        for write in writes where !listed.contains(id(write)) {
            // The chain of superseded writes not listed yet, then listed oldest first. Ids are
            // hashes of bodies that hold `supersedes`, so a chain cannot loop.
            var chain = [write]
            while let named = supersedes(chain[chain.count - 1]), let earlier = byID[named], !listed.contains(named) {
                chain.append(earlier)
            }
            for write in chain.reversed() where listed.insert(id(write)).inserted { ordered.append(write) }
        }
        return ordered
    }
}
