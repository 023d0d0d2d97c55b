import OpenSSLCrypto

/// The validation state machine for every feed a node holds: which entries are accepted, which
/// wait for a gap to fill, which are refused, and which prove a fork.
///
/// Validity (entry.proto, the rules under "signer") is decided here, structurally, and never depends on the local clock
/// or on arrival order:
/// - the body decodes and names its origin and sequence number;
/// - `seq` continues the feed and `previous` is the link of the entry before it;
/// - the key of the certificate it names signed it, and that certificate was valid at the
///   entry's clock and is not retired in the feed (key history: a certificate that an entry
///   signed by another followed signs nothing more). Because each link covers the previous entry
///   whole (body and signature), one verified signature on the newest entry of a contiguous run
///   of one signer authenticates the run: a catch-up costs one signature check per feed, signer
///   and batch, plus a hash per entry.
///
/// Entries ahead of a gap wait (boundedly) in `pending`, each checked on its own signature first,
/// so that nothing a peer invents is kept. Two different validly signed entries for one position
/// of a feed are a fork, whatever order and batches they arrive in: the evidence is kept and the
/// feed frozen.
/// The ledger does no I/O: the shell stores `accepted` entries and fork evidence.
public struct FeedLedger: Sendable {
    struct Feed: Sendable {
        /// ids[seq - base - 1] for every accepted entry.
        var ids: [EntryID] = []
        /// Where the feed starts here: 0, or (joined from a checkpoint) the seq of the entry it
        /// starts after, whose id is `baseID`; the entries up to it were never held.
        var base: UInt64 = 0
        var baseID: EntryID?
        var link: SHA256Digest = .zero
        /// Entries ahead of a gap, each verified on its own signature: at most two per position
        /// (two are a fork, found when the gap fills).
        var pending: [UInt64: [Entry]] = [:]
        /// What `pending` costs, by `WaitingLimits.cost`.
        var pendingBytes = 0
        /// Signed bytes (body and signature) of every accepted entry.
        var storedBytes = 0
        var fork: ForkEvidence?
        /// The certificate that signed the head entry (`.zero` for an entry that names none), and
        /// those it replaced: a retired certificate signs nothing more in this feed.
        var signer: SignerID?
        var retired: Set<SignerID> = []
        /// Where each signer's stretch of the feed starts, in order (a new one at each rotation).
        var stretches: [Stretch] = []
        var head: UInt64 { base + UInt64(ids.count) }
        var lastID: EntryID? { ids.last ?? baseID }

        /// The id held at `seq`; nil beyond the head, or before the base (never held).
        func id(at seq: UInt64) -> EntryID? {
            if seq > base { return seq <= head ? ids[Int(seq - base - 1)] : nil }
            return seq == base ? baseID : nil
        }

        struct Stretch: Sendable {
            var start: UInt64
            var signer: SignerID
        }

        /// The last position signed by a certificate not in `revoked`: it vouches, through the
        /// chain, for every entry before it. 0 when every entry is signed by a revoked one.
        func trustedEnd(excluding revoked: Set<SignerID>) -> UInt64 {
            var end = head
            for stretch in stretches.reversed() {
                if !revoked.contains(stretch.signer) { return end }
                end = stretch.start - 1
            }
            return end
        }

        mutating func adopt(_ entry: Entry) throws(AdoptionError) {
            guard entry.seq == head + 1 else { throw .notContiguous(origin: entry.origin, seq: entry.seq, head: head) }
            guard entry.previous == link else { throw .chainMismatch(origin: entry.origin, seq: entry.seq) }
            append(entry, link: entry.link)
            removePending(at: entry.seq)
        }

        mutating func append(_ entry: Entry, link: SHA256Digest) {
            ids.append(entry.id)
            self.link = link
            storedBytes += entry.signed.byteCount
            let next = entry.signerID
            if let signer, signer != next { retired.insert(signer) }
            if signer != next { stretches.append(Stretch(start: head, signer: next)) }
            signer = next
        }

        /// Whether `entry` names a certificate this feed has retired (the head's signer, the
        /// common case, never is: no hash for it).
        func isRetired(_ entry: Entry) -> Bool {
            let named = entry.signerID
            return named != signer && retired.contains(named)
        }

        @discardableResult
        mutating func removePending(at seq: UInt64) -> [Entry] {
            guard let removed = pending.removeValue(forKey: seq) else { return [] }
            pendingBytes -= removed.reduce(0) { $0 + WaitingLimits.cost(of: $1) }
            return removed
        }

        mutating func removePending(at seq: UInt64, id: EntryID) {
            guard let index = pending[seq]?.firstIndex(where: { $0.id == id }) else { return }
            let removed = pending[seq]!.remove(at: index)
            if pending[seq]!.isEmpty { pending[seq] = nil }
            pendingBytes -= WaitingLimits.cost(of: removed)
        }

        mutating func removeAllPending() {
            pending.removeAll()
            pendingBytes = 0
        }

        mutating func addPending(_ entry: Entry) {
            pending[entry.seq, default: []].append(entry)
            pendingBytes += WaitingLimits.cost(of: entry)
        }
    }

    /// How much may wait ahead of gaps: entries a peer sent before the ones they follow. Each is
    /// verified first, so only an origin's own (or a relayed genuine) entries can wait, but an
    /// origin can sign as many as it likes: what waits is bounded per feed and in total.
    public struct WaitingLimits: Sendable, Hashable {
        /// How far ahead of a feed's head an entry may be and still wait.
        public var positionsAhead = 100_000
        public var bytesPerFeed = 16 << 20
        public var totalBytes = 64 << 20

        public init(positionsAhead: Int = 100_000, bytesPerFeed: Int = 16 << 20, totalBytes: Int = 64 << 20) {
            self.positionsAhead = positionsAhead
            self.bytesPerFeed = bytesPerFeed
            self.totalBytes = totalBytes
        }

        /// An entry's signed bytes plus what holding it costs (id, decoded header, references).
        static func cost(of entry: Entry) -> Int { entry.signed.byteCount + 256 }
    }

    // Every change to a feed is made in place, or to the feed moved out of `feeds` and put
    // back: a copy that leaves the original in the dictionary shares `ids` with it, and the
    // next append copies the whole feed (quadratic in a feed's length).

    var feeds: [NodeID: Feed] = [:]
    /// Highest contiguous accepted seq per feed. Every accepted entry is in it.
    public internal(set) var vector = VersionVector()
    public var waitingLimits: WaitingLimits
    /// What every feed's waiting entries cost together.
    public private(set) var waitingBytes = 0

    /// Signature checks of single entries (waiting ahead of a gap, or claiming a held position)
    /// one batch may cost; runs cost one check each plus O(log n) to locate a forgery, and are not
    /// counted. Entries beyond the budget are refused unchecked (not as invalid): the sender
    /// sends them again, in order, once the gap is filled.
    public var maximumSingleChecksPerBatch: Int
    /// Signed bytes one feed may hold, received entries only (a node's own writes are never
    /// refused): what a partner that signs without end can make every node store. nil: no quota.
    public var feedQuota: Int?

    /// Certificates a CRL in force revokes. Their entries are still checked with their keys
    /// (a revocation does not make a signature forged), but one is taken only where something
    /// still trusted vouches for it: a later entry of the feed signed by a certificate in force,
    /// or a cut at or after its position. Set by the registry from the trust store.
    public var revokedSigners: Set<SignerID> = []
    /// The cut in force per feed (the lowest, where several name one feed): entries after it are
    /// refused, entries up to it are taken whatever signed them. Set by the registry.
    public var cuts: [NodeID: FeedCut] = [:]

    public static let defaultMaximumSingleChecksPerBatch = 256

    public init(waitingLimits: WaitingLimits = WaitingLimits(), maximumSingleChecksPerBatch: Int = FeedLedger.defaultMaximumSingleChecksPerBatch) {
        self.waitingLimits = waitingLimits
        self.maximumSingleChecksPerBatch = maximumSingleChecksPerBatch
    }

    public func head(of node: NodeID) -> FeedHead? {
        guard let feed = feeds[node], let id = feed.lastID else { return nil }
        return FeedHead(seq: feed.head, id: id, link: feed.link)
    }

    public func entryID(of node: NodeID, seq: UInt64) -> EntryID? {
        guard seq >= 1, let feed = feeds[node] else { return nil }
        return feed.id(at: seq)
    }

    /// How far a feed is shown: up to its cut (where the held chain is the one the cut names),
    /// else up to its last entry that a certificate in force vouches for. Equal to the head for
    /// every feed with no revoked signer and no cut.
    public func visibleEnd(of node: NodeID) -> UInt64 {
        guard let feed = feeds[node] else { return 0 }
        let trusted = revokedSigners.isEmpty ? feed.head : feed.trustedEnd(excluding: revokedSigners)
        guard let cut = cuts[node] else { return trusted }
        // A held entry at the cut's position that is not the one it names: the chain held is
        // not the one the participant vouches for, so only what is trusted anyway is shown.
        // (Before a feed's base, nothing was held: the checkpoint vouches for what it showed.)
        if cut.seq >= 1, let held = feed.id(at: cut.seq), held != cut.entryID { return min(cut.seq, trusted) }
        return min(cut.seq, feed.head)
    }

    /// The last position of a feed vouched for by a certificate in force, cuts aside.
    public func trustedEnd(of node: NodeID) -> UInt64 {
        guard let feed = feeds[node] else { return 0 }
        return revokedSigners.isEmpty ? feed.head : feed.trustedEnd(excluding: revokedSigners)
    }

    public func fork(of node: NodeID) -> ForkEvidence? { feeds[node]?.fork }
    /// An entry of `node` at `seq` waits ahead of a gap (it was verified with the origin's key).
    public func isWaiting(_ node: NodeID, seq: UInt64) -> Bool { feeds[node]?.pending[seq]?.isEmpty == false }

    /// Signed bytes held for a feed.
    public func storedBytes(of node: NodeID) -> Int { feeds[node]?.storedBytes ?? 0 }
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
            let before = feeds.values[index].pendingBytes
            try feeds.values[index].adopt(entry)
            waitingBytes += feeds.values[index].pendingBytes - before
        } else {
            var feed = Feed()
            try feed.adopt(entry)
            feeds[entry.origin] = feed
        }
        vector[entry.origin] = entry.seq
    }

    /// Starts a feed after `base`, an entry this node never holds the history of (joining from a
    /// checkpoint): the feed's next entry must follow and link to it. Only for a feed not held.
    public mutating func start(after base: Entry) throws(AdoptionError) {
        guard feeds[base.origin] == nil else { throw .notContiguous(origin: base.origin, seq: base.seq, head: vector[base.origin]) }
        var feed = Feed()
        feed.base = base.seq
        feed.baseID = base.id
        feed.link = base.link
        feed.signer = base.signerID
        feed.stretches = [Feed.Stretch(start: base.seq, signer: base.signerID)]
        feeds[base.origin] = feed
        vector[base.origin] = base.seq
    }

    /// Where a feed starts here (0: from its first entry; else joined after that seq).
    public func base(of node: NodeID) -> UInt64 { feeds[node]?.base ?? 0 }

    /// Freezes a feed on evidence found earlier (read back from the store).
    public mutating func freeze(with evidence: ForkEvidence) {
        var feed = feeds.removeValue(forKey: evidence.origin) ?? Feed()
        if feed.fork == nil { feed.fork = evidence }
        waitingBytes -= feed.pendingBytes
        feed.removeAllPending()
        feeds[evidence.origin] = feed
    }

    // MARK: ingesting received entries

    /// Validates received entries as `ingest(_:signers:)` does, with one key per origin whatever
    /// certificate an entry names (tests and benchmarks of a single key per feed).
    public mutating func ingest(_ batch: [SignedEntry], keys: (NodeID) -> PublicKey?) -> IngestResult {
        ingest(batch, signers: { entry in keys(entry.origin).map { .keys([$0]) } ?? .unknownOrigin })
    }

    /// Validates received entries, in any order and with any duplicates, and applies the valid
    /// ones. `signers` gives the keys an entry is checked with: those of the certificate it
    /// names, verified against the trust anchor of its origin's participant (`OriginKeys.lookup`).
    public mutating func ingest(_ batch: [SignedEntry], signers: (Entry) -> SignerLookup) -> IngestResult {
        ingest(ReceivedBatch(decoding: batch), signers: signers)
    }

    /// `ingest(_:signers:)` of a batch decoded (and partly checked) by its receiver.
    public mutating func ingest(_ batch: ReceivedBatch, signers: (Entry) -> SignerLookup) -> IngestResult {
        var result = IngestResult()
        result.rejected = batch.malformed
        var byOrigin: [NodeID: [Entry]] = [:]
        for entry in batch.entries { byOrigin[entry.origin, default: []].append(entry) }
        var budget = maximumSingleChecksPerBatch
        for origin in byOrigin.keys.sorted() {
            ingest(byOrigin[origin]!, of: origin, signers: signers, checked: batch, budget: &budget, into: &result)
        }
        return result
    }

    private mutating func ingest(
        _ entries: [Entry], of origin: NodeID, signers: (Entry) -> SignerLookup, checked: ReceivedBatch, budget: inout Int,
        into result: inout IngestResult
    ) {
        var feed = feeds.removeValue(forKey: origin) ?? Feed()
        let waitingBefore = feed.pendingBytes
        defer {
            waitingBytes += feed.pendingBytes - waitingBefore
            feeds[origin] = feed
            vector[origin] = feed.head
        }
        /// Entries of this batch already accepted, refused, buffered or known as held: each is
        /// reported once, and none is considered again.
        var decided: Set<EntryID> = []
        func reject(_ entry: Entry, _ reason: EntryRejection.Reason) {
            guard decided.insert(entry.id).inserted else { return }
            result.rejected.append(EntryRejection(id: entry.id, origin: origin, seq: entry.seq, reason: reason))
        }
        /// Every copy of an entry already held, waiting or arrived in this batch is counted.
        func duplicate(_ entry: Entry, settled: Bool) {
            result.duplicates += 1
            if settled { decided.insert(entry.id) }
        }
        /// Whether the certificate an entry names is known and valid at its clock; if not, the
        /// entry is refused with the reason. Looked up again for the few entries verified.
        func signable(_ entry: Entry) -> Bool {
            switch signers(entry) {
            case .keys: return true
            case .unknownOrigin: reject(entry, .unknownOrigin)
            case .unknownSigner(let signer): reject(entry, .unknownSigner(signer))
            case .retired: reject(entry, .retiredSigner)
            case .outsideValidity(let signer, let wall): reject(entry, .outsideValidity(signer: signer, wallMillis: wall))
            }
            return false
        }
        func verify(_ entry: Entry) -> Bool {
            guard case .keys(let candidates) = signers(entry) else { return false }
            // Checked already by the receiver (`ReceivedBatch.checkAhead`) with these keys.
            if let known = checked.isSigned(entry, byOneOf: candidates) { return known }
            result.signatureChecks += max(candidates.count, 1)
            return candidates.contains { entry.signed.isSigned(by: $0) }
        }
        let limit = maximumSingleChecksPerBatch
        /// A check of one entry on its own, within the batch's budget (nil: refused unchecked).
        func verifyAlone(_ entry: Entry) -> Bool? {
            guard budget > 0 else {
                reject(entry, .overBudget(limit: limit))
                return nil
            }
            budget -= 1
            return verify(entry)
        }
        /// Records the fork and refuses the rest of this batch; entries that were waiting (sent
        /// earlier, perhaps by other peers) are dropped with the feed's pending state.
        func freeze(_ evidence: ForkEvidence) {
            feed.fork = evidence
            feed.removeAllPending()
            result.forks.append(evidence)
            decided.insert(evidence.conflicting.id)
            for entry in entries { reject(entry, .feedFrozen) }
        }
        guard feed.fork == nil else {
            entries.forEach { reject($0, .feedFrozen) }
            return
        }

        // Arrivals by position above the head: at most two distinct claimants per position,
        // counting those already waiting (a genuine feed has one entry per position; two signed
        // ones are a fork, and more only cost us signature checks).
        var arrivals: [UInt64: [Entry]] = [:]
        var atHeldPositions: [Entry] = []
        let cut = cuts[origin]
        for entry in entries.sorted(by: { $0.seq < $1.seq }) {
            if let cut, entry.seq > cut.seq, entry.seq > feed.head || feed.id(at: entry.seq) != entry.id {
                reject(entry, .afterCut(seq: cut.seq))
                continue
            }
            if entry.seq <= feed.head {
                atHeldPositions.append(entry)
                continue
            }
            // Only positions within `positionsAhead` of the head may wait.
            if entry.seq - feed.head > UInt64(waitingLimits.positionsAhead) {
                reject(entry, .tooFarAhead(limit: waitingLimits.positionsAhead))
                continue
            }
            let waiting = feed.pending[entry.seq] ?? []
            let here = arrivals[entry.seq] ?? []
            if waiting.contains(entry) || here.contains(entry) {
                duplicate(entry, settled: waiting.contains(entry))
                continue
            }
            guard !feed.isRetired(entry) else {
                reject(entry, .retiredSigner)
                continue
            }
            guard signable(entry) else { continue }
            guard waiting.count + here.count < 2 else {
                reject(entry, .contested(limit: 2))
                continue
            }
            arrivals[entry.seq, default: []].append(entry)
        }

        // Entries for held positions: the held entry again, or (validly signed) a fork.
        for entry in atHeldPositions {
            // Before the base of a feed joined from a checkpoint: never held, never judged.
            guard let held = feed.id(at: entry.seq) else {
                duplicate(entry, settled: true)
                continue
            }
            if held == entry.id {
                duplicate(entry, settled: true)
                continue
            }
            // Signed by a certificate the feed moved on from: the newer key vouches for the held
            // chain, so this is an old (perhaps stolen) key at work, not a fork.
            guard !feed.isRetired(entry) else {
                reject(entry, .retiredSigner)
                continue
            }
            guard signable(entry), let valid = verifyAlone(entry) else { continue }
            guard valid else {
                reject(entry, .badSignature)
                continue
            }
            freeze(ForkEvidence(origin: origin, seq: entry.seq, kind: .sameSequence, held: held, conflicting: entry.signed))
            return
        }

        // Runs that continue the head: at each position the entry that links to the one before
        // (the smallest id, should two link: the other is sorted out below) and is not signed by
        // a certificate the chain has retired. One verified signature at the end of each
        // signer's stretch of a run authenticates the stretch; when it fails, a binary search
        // finds the longest authentic prefix in O(log n) checks (a verified entry vouches for
        // every entry before it in the chain), and the rest, chained to an entry that is not
        // genuine, is refused.
        let start = feed.head
        while true {
            var run: [(entry: Entry, verified: Bool)] = []
            var links: [SHA256Digest] = []  // links[i] is run[i].entry.link, each hashed once
            var signer = feed.signer
            var retired = feed.retired
            while true {
                let link = links.last ?? feed.link
                let position = feed.head + UInt64(run.count) + 1
                func continues(_ entry: Entry) -> Bool {
                    entry.previous == link && (entry.signerID == signer || !retired.contains(entry.signerID))
                }
                var chosen: (entry: Entry, verified: Bool)?
                // A waiting entry was verified when it arrived; its certificate must still be in
                // force (a CRL may have come since).
                for entry in feed.pending[position] ?? [] where continues(entry) && signers(entry).hasKeys && chosen.map({ entry.id < $0.entry.id }) ?? true {
                    chosen = (entry, true)
                }
                for entry in arrivals[position] ?? [] where !decided.contains(entry.id) && continues(entry) && chosen.map({ entry.id < $0.entry.id }) ?? true {
                    chosen = (entry, false)
                }
                guard let chosen else { break }
                run.append(chosen)
                links.append(chosen.entry.link)
                if let current = signer, current != chosen.entry.signerID { retired.insert(current) }
                signer = chosen.entry.signerID
            }
            guard !run.isEmpty else { break }
            var authentic = 0
            while authentic < run.count {
                var end = authentic
                while end + 1 < run.count, run[end + 1].entry.signerID == run[authentic].entry.signerID { end += 1 }
                if run[end].verified || verify(run[end].entry) {
                    authentic = end + 1
                    continue
                }
                // run[..<low] is authentic, run[high...] is not.
                var low = authentic
                var high = end
                while low < high {
                    let middle = (low + high) / 2
                    if run[middle].verified || verify(run[middle].entry) { low = middle + 1 } else { high = middle }
                }
                authentic = low
                break
            }
            // Taken only where something still trusted vouches for it: up to a cut, or up to
            // the last entry signed by a certificate in force (the rest waits for one, or for a cut).
            var vouched = authentic
            if let cut {
                vouched = min(authentic, Int(clamping: cut.seq > feed.head ? cut.seq - feed.head : 0))
            } else if !revokedSigners.isEmpty {
                vouched = (run[..<authentic].lastIndex { !revokedSigners.contains($0.entry.signerID) } ?? -1) + 1
            }
            for (entry, waited) in run[vouched..<authentic] {
                reject(entry, cut.map { .afterCut(seq: $0.seq) } ?? .revokedSigner)
                if waited { feed.removePending(at: entry.seq, id: entry.id) }
            }
            // Within the feed's quota only: the authentic rest is refused, not invalid.
            var stored = vouched
            if let quota = feedQuota {
                var bytes = feed.storedBytes
                stored = 0
                while stored < vouched, bytes + run[stored].entry.signed.byteCount <= quota {
                    bytes += run[stored].entry.signed.byteCount
                    stored += 1
                }
            }
            for (index, (entry, waited)) in run[..<stored].enumerated() {
                feed.append(entry, link: links[index])
                result.accepted.append(entry)
                if waited { result.acceptedFromWaiting.insert(entry.id) }
                decided.insert(entry.id)
            }
            if stored < vouched, let quota = feedQuota {
                // The feed cannot grow here: nothing of it waits, and the rest of the batch is refused.
                result.feedsAtQuota.insert(origin)
                for (entry, _) in run[stored..<vouched] { reject(entry, .quotaExceeded(limit: quota)) }
                for (entry, _) in run[authentic...] { reject(entry, .badSignature) }
                feed.removeAllPending()
                for entry in entries { reject(entry, .quotaExceeded(limit: quota)) }
                return
            }
            for (entry, _) in run[authentic...] { reject(entry, .badSignature) }
            if vouched < authentic { break }
        }

        // Positions the runs filled: any other validly signed entry claiming one is a fork.
        if feed.head > start {
            for seq in (start + 1)...feed.head {
                let held = feed.id(at: seq)!
                for entry in feed.removePending(at: seq) where entry.id != held {
                    if feed.isRetired(entry) {
                        reject(entry, .retiredSigner)
                        continue
                    }
                    freeze(ForkEvidence(origin: origin, seq: seq, kind: .sameSequence, held: held, conflicting: entry.signed))
                    return
                }
                for entry in arrivals[seq] ?? [] where !decided.contains(entry.id) {
                    if feed.isRetired(entry) {
                        reject(entry, .retiredSigner)
                        continue
                    }
                    guard let valid = verifyAlone(entry) else { continue }
                    guard valid else {
                        reject(entry, .badSignature)
                        continue
                    }
                    freeze(ForkEvidence(origin: origin, seq: seq, kind: .sameSequence, held: held, conflicting: entry.signed))
                    return
                }
            }
        }

        // The position after the head: whatever is there does not link to the head (or it would
        // have joined a run), so, validly signed, it continues another history.
        let next = feed.head + 1
        for entry in (feed.pending[next] ?? []) + (arrivals[next] ?? []).filter({ !decided.contains($0.id) }) {
            if feed.isRetired(entry) {
                reject(entry, .retiredSigner)
                feed.removePending(at: next, id: entry.id)
                continue
            }
            // Linked to the head but left out of the run: its certificate is no longer in force.
            guard signable(entry) else {
                feed.removePending(at: next, id: entry.id)
                continue
            }
            let waiting = feed.pending[next]?.contains(entry) == true
            if !waiting {
                guard let valid = verifyAlone(entry) else { continue }
                guard valid else {
                    reject(entry, .brokenChain)
                    continue
                }
            }
            guard let held = feed.lastID else {
                reject(entry, .brokenChain)
                continue
            }
            freeze(ForkEvidence(origin: origin, seq: next, kind: .divergentChain, held: held, conflicting: entry.signed))
            return
        }

        // Entries ahead of the gap wait, each checked on its own signature first, while the
        // feed's and the node's waiting bytes allow (those refused come again once the gap is
        // filled: the sender streams them in order then).
        let othersWaiting = waitingBytes - waitingBefore
        for seq in arrivals.keys.sorted() where seq > next {
            for entry in arrivals[seq]! where !decided.contains(entry.id) {
                let cost = WaitingLimits.cost(of: entry)
                guard feed.pendingBytes + cost <= waitingLimits.bytesPerFeed else {
                    reject(entry, .waitingFull(limit: waitingLimits.bytesPerFeed, scope: .feed))
                    continue
                }
                guard othersWaiting + feed.pendingBytes + cost <= waitingLimits.totalBytes else {
                    reject(entry, .waitingFull(limit: waitingLimits.totalBytes, scope: .node))
                    continue
                }
                guard let valid = verifyAlone(entry) else { continue }
                guard valid else {
                    reject(entry, .badSignature)
                    continue
                }
                feed.addPending(entry)
                decided.insert(entry.id)
                result.buffered += 1
            }
        }
    }
}
