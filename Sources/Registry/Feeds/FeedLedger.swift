import OpenSSLCrypto

/// The validation state machine for every feed a node holds: which entries are accepted, which
/// wait for a gap to fill, which are refused, and which prove a fork.
///
/// Validity (ARCHITECTURE §3) is decided here, structurally, and never depends on the local clock
/// or on arrival order:
/// - the body decodes and names its origin and sequence number;
/// - `seq` continues the feed and `previous` is the link of the entry before it;
/// - the origin's key signed it. Because each link covers the previous entry whole (body and
///   signature), one verified signature on the newest entry of a contiguous run authenticates
///   the run: a catch-up costs one signature check per feed and batch, plus a hash per entry.
///
/// Entries ahead of a gap wait (boundedly) in `pending`, each checked on its own signature first,
/// so that nothing a peer invents is kept. Two different validly signed entries for one position
/// of a feed are a fork, whatever order and batches they arrive in: the evidence is kept and the
/// feed frozen.
/// The ledger does no I/O: the shell stores `accepted` entries and fork evidence.
public struct FeedLedger: Sendable {
    struct Feed: Sendable {
        /// ids[seq - 1] for every accepted entry.
        var ids: [EntryID] = []
        var link: SHA256Digest = .zero
        /// Entries ahead of a gap, each verified on its own signature: at most two per position
        /// (two are a fork, found when the gap fills).
        var pending: [UInt64: [Entry]] = [:]
        var fork: ForkEvidence?
        var head: UInt64 { UInt64(ids.count) }

        mutating func adopt(_ entry: Entry) throws(AdoptionError) {
            guard entry.seq == head + 1 else { throw .notContiguous(origin: entry.origin, seq: entry.seq, head: head) }
            guard entry.previous == link else { throw .chainMismatch(origin: entry.origin, seq: entry.seq) }
            ids.append(entry.id)
            link = entry.link
            pending[entry.seq] = nil
        }
    }

    // Every change to a feed is made in place, or to the feed moved out of `feeds` and put
    // back: a copy that leaves the original in the dictionary shares `ids` with it, and the
    // next append copies the whole feed (quadratic in a feed's length).

    private var feeds: [NodeID: Feed] = [:]
    /// Highest contiguous accepted seq per feed. Every accepted entry is in it.
    public private(set) var vector = VersionVector()
    public let maximumPendingPerFeed: Int

    public init(maximumPendingPerFeed: Int = 100_000) {
        self.maximumPendingPerFeed = maximumPendingPerFeed
    }

    public func head(of node: NodeID) -> FeedHead? {
        guard let feed = feeds[node], let id = feed.ids.last else { return nil }
        return FeedHead(seq: feed.head, id: id, link: feed.link)
    }

    public func entryID(of node: NodeID, seq: UInt64) -> EntryID? {
        guard seq >= 1, let feed = feeds[node], seq <= feed.head else { return nil }
        return feed.ids[Int(seq - 1)]
    }

    public func fork(of node: NodeID) -> ForkEvidence? { feeds[node]?.fork }
    public var forks: [ForkEvidence] { feeds.values.compactMap(\.fork).sorted { $0.origin < $1.origin } }
    public var pendingCount: Int { feeds.values.reduce(0) { $0 + $1.pending.values.reduce(0) { $0 + $1.count } } }

    // MARK: adopting entries that are already known to be valid

    public enum AdoptionError: Error, Sendable, Hashable, CustomStringConvertible {
        case notContiguous(origin: NodeID, seq: UInt64, head: UInt64)
        case chainMismatch(origin: NodeID, seq: UInt64)

        public var description: String {
            switch self {
            case .notContiguous(let origin, let seq, let head): "entry \(origin)#\(seq) does not follow the held head \(head)"
            case .chainMismatch(let origin, let seq): "entry \(origin)#\(seq) does not link to the held entry before it"
            }
        }
    }

    /// Appends an entry whose validity is already established: one this node authored, or one
    /// read back from its own store. The chain is still checked (cheap, and it catches a
    /// damaged store); the signature is not.
    public mutating func adopt(_ entry: Entry) throws(AdoptionError) {
        if let index = feeds.index(forKey: entry.origin) {
            try feeds.values[index].adopt(entry)
        } else {
            var feed = Feed()
            try feed.adopt(entry)
            feeds[entry.origin] = feed
        }
        vector[entry.origin] = entry.seq
    }

    /// Freezes a feed on evidence found earlier (read back from the store).
    public mutating func freeze(with evidence: ForkEvidence) {
        var feed = feeds.removeValue(forKey: evidence.origin) ?? Feed()
        if feed.fork == nil { feed.fork = evidence }
        feed.pending.removeAll()
        feeds[evidence.origin] = feed
    }

    // MARK: ingesting received entries

    /// Validates received entries, in any order and with any duplicates, and applies the valid
    /// ones. `keys` gives the verified public key of an origin node (from its certificate, checked
    /// against the trust anchor of its participant), or nil when the node is unknown.
    public mutating func ingest(_ batch: [SignedEntry], keys: (NodeID) -> PublicKey?) -> IngestResult {
        var result = IngestResult()
        var byOrigin: [NodeID: [Entry]] = [:]
        for signed in batch {
            do {
                let entry = try EntryCodec.decode(signed)
                byOrigin[entry.origin, default: []].append(entry)
            } catch {
                result.rejected.append(EntryRejection(id: signed.id, origin: nil, seq: nil, reason: .malformed(error)))
            }
        }
        for origin in byOrigin.keys.sorted() {
            ingest(byOrigin[origin]!, of: origin, key: keys(origin), into: &result)
        }
        return result
    }

    private mutating func ingest(_ entries: [Entry], of origin: NodeID, key: PublicKey?, into result: inout IngestResult) {
        var feed = feeds.removeValue(forKey: origin) ?? Feed()
        defer {
            feeds[origin] = feed
            vector[origin] = feed.head
        }
        func reject(_ entry: Entry, _ reason: EntryRejection.Reason) {
            result.rejected.append(EntryRejection(id: entry.id, origin: origin, seq: entry.seq, reason: reason))
        }
        func verify(_ entry: Entry) -> Bool {
            result.signatureChecks += 1
            return entry.signed.isSigned(by: key!)
        }
        guard feed.fork == nil else { entries.forEach { reject($0, .feedFrozen) }; return }
        guard key != nil else { entries.forEach { reject($0, .unknownOrigin) }; return }

        // Every position above the head with the distinct entries that claim it: those already
        // waiting (each verified on its own when it was buffered) and the new arrivals.
        var candidates: [UInt64: [Candidate]] = [:]
        for (seq, waiting) in feed.pending { candidates[seq] = waiting.map { Candidate(entry: $0, verified: true) } }
        feed.pending.removeAll()
        var arrivals: Set<EntryID> = []
        for entry in entries.sorted(by: { $0.seq < $1.seq }) {
            if entry.seq <= feed.head {
                if feed.ids[Int(entry.seq - 1)] == entry.id { result.duplicates += 1; continue }
                guard verify(entry) else { reject(entry, .badSignature); continue }
                freeze(&feed, ForkEvidence(origin: origin, seq: entry.seq, kind: .sameSequence, held: feed.ids[Int(entry.seq - 1)], conflicting: entry.signed),
                       rejecting: entries.filter { $0.id != entry.id }, candidates, into: &result)
                return
            }
            // Only positions within `maximumPendingPerFeed` of the head may wait, which bounds
            // the memory one feed's gap can hold, whatever a peer sends.
            if entry.seq - feed.head > UInt64(maximumPendingPerFeed) {
                reject(entry, .tooFarAhead(limit: maximumPendingPerFeed))
                continue
            }
            if candidates[entry.seq]?.contains(where: { $0.entry.id == entry.id }) == true { result.duplicates += 1; continue }
            candidates[entry.seq, default: []].append(Candidate(entry: entry, verified: false))
            arrivals.insert(entry.id)
        }

        // Runs that continue the head: at each position the entry that links to the one before
        // (the smallest id, should two link: twins are sorted out below). One verified signature
        // at a run's end authenticates all of it; when it fails, a binary search finds the longest
        // authentic prefix in O(log n) checks (a verified entry vouches for every entry before it
        // in the chain), and the rest, chained to an entry that is not genuine, is refused.
        while true {
            var run: [Candidate] = []
            var links: [SHA256Digest] = []  // links[i] is run[i].link, each hashed once
            var next = feed.head + 1
            while let here = candidates[next], let chosen = here.filter({ $0.entry.previous == (links.last ?? feed.link) }).min(by: { $0.entry.id < $1.entry.id }) {
                run.append(chosen)
                links.append(chosen.entry.link)
                next += 1
            }
            guard !run.isEmpty else { break }
            var authentic = run.count
            if !run[run.count - 1].verified && !verify(run[run.count - 1].entry) {
                // run[..<low] is authentic, run[high...] is not.
                var low = 0, high = run.count - 1
                while low < high {
                    let middle = (low + high) / 2
                    if run[middle].verified || verify(run[middle].entry) { low = middle + 1 } else { high = middle }
                }
                authentic = low
            }
            for candidate in run[..<authentic] {
                feed.ids.append(candidate.entry.id)
                result.accepted.append(candidate.entry)
                candidates[candidate.entry.seq]?.removeAll { $0.entry.id == candidate.entry.id }
            }
            if authentic > 0 { feed.link = links[authentic - 1] }
            for candidate in run[authentic...] {
                candidates[candidate.entry.seq]?.removeAll { $0.entry.id == candidate.entry.id }
                reject(candidate.entry, .badSignature)
            }
        }

        // What is left did not join the feed: twins of accepted entries, entries that continue
        // another history, and entries ahead of a gap. Each is checked on its own signature
        // before it counts as evidence of a fork or is kept waiting.
        for seq in candidates.keys.sorted() {
            for candidate in candidates[seq]! {
                let entry = candidate.entry
                if seq <= feed.head {
                    if feed.ids[Int(seq - 1)] == entry.id { continue }
                    guard candidate.verified || verify(entry) else { reject(entry, .badSignature); continue }
                    freeze(&feed, ForkEvidence(origin: origin, seq: seq, kind: .sameSequence, held: feed.ids[Int(seq - 1)], conflicting: entry.signed),
                           rejecting: [], candidates, into: &result)
                    return
                }
                if seq == feed.head + 1 {
                    // It does not link to the head (or it would have joined a run).
                    guard candidate.verified || verify(entry) else { reject(entry, .brokenChain); continue }
                    guard let held = feed.ids.last else { continue }
                    freeze(&feed, ForkEvidence(origin: origin, seq: seq, kind: .divergentChain, held: held, conflicting: entry.signed),
                           rejecting: [], candidates, into: &result)
                    return
                }
                guard candidate.verified || verify(entry) else { reject(entry, .badSignature); continue }
                // Two signed entries for one position ahead of a gap prove a fork already; the
                // first two are kept, and the gap's filling shows which one continues the feed.
                guard feed.pending[seq, default: []].count < 2 else { continue }
                feed.pending[seq, default: []].append(entry)
                if arrivals.contains(entry.id) { result.buffered += 1 }
            }
        }
    }

    /// An entry and whether its own signature was already checked.
    private struct Candidate {
        let entry: Entry
        let verified: Bool
    }

    /// Records the fork and refuses whatever else was on its way into the feed.
    private func freeze(_ feed: inout Feed, _ evidence: ForkEvidence, rejecting others: [Entry], _ candidates: [UInt64: [Candidate]],
                        into result: inout IngestResult) {
        feed.fork = evidence
        feed.pending.removeAll()
        result.forks.append(evidence)
        var refused: Set<EntryID> = [evidence.conflicting.id]
        for entry in others + candidates.values.joined().map(\.entry) where refused.insert(entry.id).inserted && entry.seq > feed.head {
            result.rejected.append(EntryRejection(id: entry.id, origin: evidence.origin, seq: entry.seq, reason: .feedFrozen))
        }
    }
}
