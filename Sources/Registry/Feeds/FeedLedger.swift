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
/// Entries ahead of a gap wait (boundedly) in `pending`. Two different validly signed entries
/// for one position of a feed are a fork: the evidence is kept and the feed frozen.
/// The ledger does no I/O: the shell stores `accepted` entries and fork evidence.
public struct FeedLedger: Sendable {
    struct Feed: Sendable {
        /// ids[seq - 1] for every accepted entry.
        var ids: [EntryID] = []
        var link: SHA256Digest = .zero
        var pending: [UInt64: Entry] = [:]
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
    public var pendingCount: Int { feeds.values.reduce(0) { $0 + $1.pending.count } }

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
        guard feed.fork == nil else { entries.forEach { reject($0, .feedFrozen) }; return }
        guard let key else { entries.forEach { reject($0, .unknownOrigin) }; return }

        let sorted = entries.sorted { $0.seq < $1.seq }
        for (index, entry) in sorted.enumerated() {
            if entry.seq <= feed.head {
                if feed.ids[Int(entry.seq - 1)] == entry.id {
                    result.duplicates += 1
                    continue
                }
                result.signatureChecks += 1
                guard entry.signed.isSigned(by: key) else { reject(entry, .badSignature); continue }
                feed.fork = ForkEvidence(origin: origin, seq: entry.seq, kind: .sameSequence,
                                         held: feed.ids[Int(entry.seq - 1)], conflicting: entry.signed)
                feed.pending.removeAll()
                result.forks.append(feed.fork!)
                sorted[(index + 1)...].forEach { reject($0, .feedFrozen) }
                return
            }
            // Only positions within `maximumPendingPerFeed` of the head may wait, which bounds
            // the memory one feed's gap can hold, whatever a peer sends.
            if entry.seq - feed.head > UInt64(maximumPendingPerFeed) {
                reject(entry, .tooFarAhead(limit: maximumPendingPerFeed))
                continue
            }
            // A newly received entry replaces a different one waiting at the same position: if
            // the waiting one was forged, the genuine one must not be locked out by it.
            feed.pending[entry.seq] = entry
        }

        // The contiguous run that continues the head, and the first entry that does not link.
        var run: [Entry] = []
        var links: [SHA256Digest] = []  // links[i] is run[i].link, each hashed once
        var next = feed.head + 1
        var mismatch: Entry?
        while let candidate = feed.pending[next] {
            guard candidate.previous == (links.last ?? feed.link) else { mismatch = candidate; break }
            run.append(candidate)
            links.append(candidate.link)
            next += 1
        }

        // One signature authenticates the run; if it fails, find the longest authentic prefix.
        var authentic = run.count
        if let last = run.last {
            result.signatureChecks += 1
            if !last.signed.isSigned(by: key) {
                authentic = 0
                for index in stride(from: run.count - 2, through: 0, by: -1) {
                    result.signatureChecks += 1
                    if run[index].signed.isSigned(by: key) { authentic = index + 1; break }
                }
            }
        }
        for entry in run[..<authentic] {
            feed.pending[entry.seq] = nil
            feed.ids.append(entry.id)
            result.accepted.append(entry)
        }
        if authentic > 0 { feed.link = links[authentic - 1] }
        if authentic < run.count {
            // Everything from the first unauthenticated entry on chains to it: none is genuine.
            for entry in run[authentic...] {
                feed.pending[entry.seq] = nil
                reject(entry, .badSignature)
            }
        } else if let mismatch {
            // The head is authentic; this entry claims to follow a different one.
            feed.pending[mismatch.seq] = nil
            result.signatureChecks += 1
            if mismatch.signed.isSigned(by: key), let held = feed.ids.last {
                feed.fork = ForkEvidence(origin: origin, seq: mismatch.seq, kind: .divergentChain, held: held, conflicting: mismatch.signed)
                feed.pending.removeAll()
                result.forks.append(feed.fork!)
            } else {
                reject(mismatch, .brokenChain)
            }
        }
        result.buffered += entries.filter { feed.pending[$0.seq]?.id == $0.id }.count
    }
}
