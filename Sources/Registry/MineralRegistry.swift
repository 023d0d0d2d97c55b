import OpenSSLCrypto

/// A node's whole registry state, pure: the feed ledger (what is valid) and the views (what it
/// means). The shell (`RegistryStore`, the sync engine) feeds it and persists what it returns.
public struct MineralRegistry: Sendable {
    public private(set) var ledger: FeedLedger
    public private(set) var views: RegistryViews

    public init(policy: EntryPolicy = EntryPolicy(), waitingLimits: FeedLedger.WaitingLimits = .init()) {
        ledger = FeedLedger(waitingLimits: waitingLimits)
        views = RegistryViews(policy: policy)
    }

    public var policy: EntryPolicy { views.policy }

    // MARK: joining from a checkpoint

    /// The views a node joined from a checkpoint started with (nil for a node that holds every
    /// feed from its first entry): what the views are rebuilt from, since the entries before
    /// them were never held.
    public private(set) var baseViews: RegistryViews?

    /// A registry that starts from a checkpoint's state (checked: `CheckpointState`): its views,
    /// and every feed after the checkpoint's entry of it. Then `settle`, as after a restore.
    public init(joining state: CheckpointState, policy: EntryPolicy = EntryPolicy(), waitingLimits: FeedLedger.WaitingLimits = .init()) throws(RestoreError) {
        ledger = FeedLedger(waitingLimits: waitingLimits)
        for base in state.bases {
            do { try ledger.start(after: base) } catch { throw .adoption(error) }
        }
        views = state.views
        baseViews = state.views
        guard ledger.vector == views.folded else { throw .views(.invalidEntry("the views show other feeds than the bases start")) }
        recordCuts(views.shownCutEntries)
    }

    /// The views a joined node started from, as restored after a restart (`CheckpointState`).
    public mutating func restoreBaseViews(_ base: RegistryViews) {
        baseViews = base
    }

    /// Signed bytes one received feed may hold (the daemon's `sync.max-feed-bytes`).
    public var feedQuota: Int? {
        get { ledger.feedQuota }
        set { ledger.feedQuota = newValue }
    }

    /// How much may wait ahead of gaps (the daemon's `sync.max-waiting-*` settings).
    public var waitingLimits: FeedLedger.WaitingLimits {
        get { ledger.waitingLimits }
        set { ledger.waitingLimits = newValue }
    }
    public var vector: VersionVector { ledger.vector }

    /// Validates received entries and folds the valid ones. The caller persists
    /// `accepted` and `forks` before advertising them, and rebuilds the views when asked.
    public mutating func ingest(_ batch: [SignedEntry], signers: (Entry) -> SignerLookup) -> IngestResult {
        ingest(ReceivedBatch(decoding: batch), signers: signers)
    }

    /// `ingest(_:signers:)` of a batch decoded (and partly checked) by its receiver.
    public mutating func ingest(_ batch: ReceivedBatch, signers: (Entry) -> SignerLookup) -> IngestResult {
        var result = ledger.ingest(batch, signers: signers)
        result.viewsNeedRebuild = show(result.accepted)
        return result
    }

    /// `ingest(_:signers:)` with one key per origin (tests and benchmarks).
    public mutating func ingest(_ batch: [SignedEntry], keys: (NodeID) -> PublicKey?) -> IngestResult {
        var result = ledger.ingest(batch, keys: keys)
        result.viewsNeedRebuild = show(result.accepted)
        return result
    }

    /// Re-applies an entry read back from the store (every entry, feed by feed in seq order, as
    /// when there is no snapshot): adopted, folded, its cut recorded. Then `freeze` the forks
    /// and `settle`: nil from it means the views folded what they may not show (rebuild them).
    public mutating func replay(_ entry: Entry) throws(FeedLedger.AdoptionError) {
        try ledger.adopt(entry)
        views.fold(entry)
        recordCut(entry)
    }

    // MARK: restarting from a snapshot

    /// Entry ids are kept beside a snapshot in chunks of this many, so that a snapshot writes
    /// only the chunks that changed since the one before.
    public static let idChunkSize = 4096

    /// The registry as of its ledger's vector, for this node's restart (`RegistrySnapshot`).
    /// The views' snapshot leaves the entries about alerts out (the views keep alerts'
    /// operations, not their entries): a restart reads them from the store. Id chunks are those
    /// that changed since `previous`. Chunk k of a feed holds the ids of its entries held
    /// from `base + k × idChunkSize + 1` (base 0 but for a feed joined from a checkpoint).
    public func snapshot(since previous: VersionVector) -> RegistrySnapshot {
        let size = UInt64(Self.idChunkSize)
        var chunks: [RegistrySnapshot.IDChunk] = []
        for (feed, head) in ledger.vector.heads.sorted(by: { $0.key < $1.key }) where head > previous[feed] {
            let base = ledger.base(of: feed)
            guard head > base else { continue }
            let (held, before) = (head - base, max(previous[feed], base) - base)
            for index in (min(before, held - 1) / size)...((held - 1) / size) {
                chunks.append(.init(feed: feed, index: Int(index), ids: Array(ledger.ids(of: feed, from: base + index * size + 1).prefix(Int(size)))))
            }
        }
        return RegistrySnapshot(
            vector: ledger.vector, ledger: ledger.snapshotState(), views: views.snapshot(alertEntries: []),
            idChunks: chunks)
    }

    /// A registry from a snapshot's ledger state, its entry ids and its views. Then, in order:
    /// `recordCuts` for the cut entries the snapshot covers, `adoptTail` for the entries after
    /// it, fork evidence (`freeze`), and `settle`, which says what the views must still fold.
    /// `alertEntries`: the entries about alerts held (the snapshot leaves them out).
    public init(
        snapshotLedger ledger: [UInt8], ids: [NodeID: [EntryID]], views: [UInt8], alertEntries: [Entry],
        policy: EntryPolicy = EntryPolicy(), waitingLimits: FeedLedger.WaitingLimits = .init()
    ) throws(RestoreError) {
        do { self.ledger = try FeedLedger(restoring: ledger, ids: ids, waitingLimits: waitingLimits) } catch { throw .ledger(error) }
        do { self.views = try RegistryViews(snapshot: views, policy: policy, alongside: alertEntries) } catch { throw .views(error) }
        guard self.ledger.vector.dominates(self.views.folded) else {
            throw .views(.invalidEntry("the views show entries the ledger does not hold"))
        }
    }

    public enum RestoreError: Error, Sendable, CustomStringConvertible {
        case ledger(FeedLedger.SnapshotError)
        case views(ViewsSnapshotError)
        case adoption(FeedLedger.AdoptionError)

        public var description: String {
            switch self {
            case .ledger(let error): error.description
            case .views(let error): error.description
            case .adoption(let error): "an entry after the snapshot: \(error)"
            }
        }
    }

    /// Remembers cut entries held (read back from the store) without folding them.
    public mutating func recordCuts(_ entries: [Entry]) {
        for entry in entries { recordCut(entry) }
    }

    /// Adds entries held after the snapshot's vector (read back from the store, feed by feed in
    /// seq order) to the ledger; `settle` says which of them the views fold.
    public mutating func adoptTail(_ entries: some Sequence<Entry>) throws(RestoreError) {
        for entry in entries {
            do { try ledger.adopt(entry) } catch { throw .adoption(error) }
            recordCut(entry)
        }
    }

    /// Freezes feeds on fork evidence read back from the store.
    public mutating func freeze(_ forks: [ForkEvidence]) {
        for evidence in forks { ledger.freeze(with: evidence) }
    }

    /// Puts revocations and cuts in force after a restore. Returns, per feed, the entries the
    /// views must still fold to show what they should (`foldRestored`), or nil when they show
    /// more of a feed than they may now (a revocation or cut since the snapshot): rebuild them.
    public mutating func settle(revokedSigners: Set<SignerID>) -> [NodeID: ClosedRange<UInt64>]? {
        ledger.revokedSigners = revokedSigners
        putCutsInForce()
        hiddenFeeds = visibleEnds()
        var ranges: [NodeID: ClosedRange<UInt64>] = [:]
        for (feed, head) in ledger.vector.heads {
            let shown = hiddenFeeds[feed] ?? head
            let folded = views.folded[feed]
            if folded > shown { return nil }
            if folded < shown { ranges[feed] = (folded + 1)...shown }
        }
        return ranges
    }

    /// Folds entries `settle` named, feed by feed in seq order.
    public mutating func foldRestored(_ entries: some Sequence<Entry>) {
        for entry in entries where entry.seq <= hiddenFeeds[entry.origin] ?? .max { views.fold(entry) }
    }

    // MARK: what is shown: revocations and cuts

    /// Cut entries held (policy allowed), by the feed that wrote them, with their positions.
    private var heldCuts: [NodeID: [(seq: UInt64, cut: FeedCut)]] = [:]
    /// Feeds shown only in part, with the position they are shown up to (`FeedLedger.visibleEnd`).
    /// Every other feed is shown whole. Empty unless a certificate is revoked or a feed cut.
    public private(set) var hiddenFeeds: [NodeID: UInt64] = [:]
    /// The cut in force per feed.
    public var cuts: [NodeID: FeedCut] { ledger.cuts }
    /// The cut entries held, with the feed and position that wrote them (status).
    public var cutEntries: [(by: NodeID, seq: UInt64, cut: FeedCut)] {
        heldCuts.flatMap { by, list in list.map { (by, $0.seq, $0.cut) } }.sorted { ($0.by, $0.seq) < ($1.by, $1.seq) }
    }

    /// The certificates a CRL in force revokes changed. Returns true when what is shown changed:
    /// the caller rebuilds the views from the store.
    public mutating func setRevokedSigners(_ revoked: Set<SignerID>) -> Bool {
        guard revoked != ledger.revokedSigners else { return false }
        ledger.revokedSigners = revoked
        putCutsInForce()
        let before = hiddenFeeds
        hiddenFeeds = visibleEnds()
        return hiddenFeeds != before
    }

    /// Folds afresh every entry shown, from all the entries held: `forEachEntry` calls its
    /// argument with each (read back from the store, feed by feed in seq order).
    public mutating func rebuildViews<Failure: Error>(reading forEachEntry: ((Entry) -> Void) throws(Failure) -> Void) throws(Failure) {
        var fresh = baseViews ?? RegistryViews(policy: views.policy)
        let hidden = hiddenFeeds
        try forEachEntry { entry in
            if entry.seq <= hidden[entry.origin] ?? .max { fresh.fold(entry) }
        }
        views = fresh
    }

    /// `rebuildViews(reading:)` from entries in memory (tests).
    public mutating func rebuildViews(from entries: some Sequence<Entry>) {
        rebuildViews { visit in entries.forEach(visit) }
    }

    /// Folds newly accepted entries where they are shown. Returns true when that cannot follow
    /// the change in what is shown (the views must be rebuilt).
    private mutating func show(_ accepted: [Entry]) -> Bool {
        var cutsArrived = false
        for entry in accepted where recordCut(entry) { cutsArrived = true }
        guard cutsArrived || !hiddenFeeds.isEmpty || !ledger.revokedSigners.isEmpty else {
            views.fold(accepted)
            return false
        }
        if cutsArrived { putCutsInForce() }
        let before = hiddenFeeds
        hiddenFeeds = visibleEnds()
        // Folding is enough when every feed shows what it showed plus exactly the accepted
        // entries it now shows: accepted entries are contiguous appends to their feeds.
        var acceptedCount: [NodeID: UInt64] = [:]
        for entry in accepted { acceptedCount[entry.origin, default: 0] += 1 }
        for feed in Set(before.keys).union(hiddenFeeds.keys).union(acceptedCount.keys) {
            let head = ledger.vector[feed]
            let heldBefore = head - (acceptedCount[feed] ?? 0)
            let was = before[feed] ?? heldBefore
            let now = hiddenFeeds[feed] ?? head
            // Shrunk, or grew over entries held before this batch.
            if now < was || (now > was && was < heldBefore) { return true }
        }
        views.fold(accepted.filter { $0.seq <= hiddenFeeds[$0.origin] ?? .max })
        return false
    }

    /// Remembers a cut entry the policy allows; true when `entry` is one.
    @discardableResult
    private mutating func recordCut(_ entry: Entry) -> Bool {
        guard case .cutFeed(let cut) = entry.operation, policy.violation(of: entry.operation, by: entry.origin) == nil else { return false }
        heldCuts[entry.origin, default: []].append((entry.seq, cut))
        return true
    }

    /// The cuts in force: those written within what revocations leave shown of their own feeds
    /// (so cuts never depend on cuts), the lowest per feed.
    private mutating func putCutsInForce() {
        var inForce: [NodeID: FeedCut] = [:]
        for (by, list) in heldCuts {
            let trusted = ledger.trustedEnd(of: by)
            for (seq, cut) in list where seq <= trusted {
                if let held = inForce[cut.feed], !cut.precedes(held) { continue }
                inForce[cut.feed] = cut
            }
        }
        ledger.cuts = inForce
    }

    /// Feeds shown only in part now.
    private func visibleEnds() -> [NodeID: UInt64] {
        guard !ledger.revokedSigners.isEmpty || !ledger.cuts.isEmpty else { return [:] }
        var hidden: [NodeID: UInt64] = [:]
        for (feed, head) in ledger.vector.heads {
            let end = ledger.visibleEnd(of: feed)
            if end < head { hidden[feed] = end }
        }
        return hidden
    }

    /// Checks a local request against every rule, including those that need the current views
    /// (the alert exists, the author's participant raised it, it is not resolved), so that an
    /// operator's mistake is refused before anything is signed.
    public func validateLocal(_ operation: EntryOperation, by author: NodeID) throws(PolicyViolation) {
        if let violation = views.policy.violation(of: operation, by: author) { throw violation }
        let alertID: EntryID
        let verb: String
        switch operation {
        case .updateAlert(let update):
            alertID = update.alertID
            verb = "update the alert"
        case .resolveAlert(let resolution):
            alertID = resolution.alertID
            verb = "resolve the alert"
        case .acknowledgeAlert(let ack):
            guard views.alert(ack.alertID) != nil else { throw .unknownAlert(ack.alertID) }
            return
        case .unknown(let numbers): throw .malformedOperation("operation kind \(numbers) is not known to this node")
        default: return
        }
        guard let alert = views.alert(alertID) else { throw .unknownAlert(alertID) }
        guard alert.issuer.participant == author.participant else {
            throw .notIssuer(author: author, issuer: alert.issuer.participant, operation: verb)
        }
        if alert.isResolved { throw .alertResolved(alertID) }
    }

    /// Drafts this node's next entry after checking the policy. Nothing changes until the shell
    /// has committed the entry and calls `adoptOwn`.
    /// A report, target or alert update names the register's latest write as shown here (its
    /// `supersedes`), so that it wins over it whatever the two clocks say; or, when an earlier
    /// draft of the same `batch` (not committed yet) wrote the same register, that draft.
    public func draft(_ operation: EntryOperation, by author: FeedAuthor, now: UInt64, in batch: inout DraftBatch) throws -> (entry: Entry, author: FeedAuthor)
    {
        try validateLocal(operation, by: author.node)
        let register = DraftBatch.Register(operation)
        let latest = register.flatMap { batch.latest[$0] } ?? views.supersededWrite(by: operation)
        let (entry, advanced) = try author.draftingChecked(Self.naming(latest, in: operation), now: now)
        if let register { batch.latest[register] = entry.id }
        return (entry, advanced)
    }

    public func draft(_ operation: EntryOperation, by author: FeedAuthor, now: UInt64) throws -> (entry: Entry, author: FeedAuthor) {
        var batch = DraftBatch()
        return try draft(operation, by: author, now: now, in: &batch)
    }

    /// `operation` with `supersedes` set to `latest`, unless it names one already.
    static func naming(_ latest: EntryID?, in operation: EntryOperation) -> EntryOperation {
        guard let latest, operation.supersedes == nil else { return operation }
        switch operation {
        case .reportReserve(var report):
            report.supersedes = latest
            return .reportReserve(report)
        case .setTarget(var target):
            target.supersedes = latest
            return .setTarget(target)
        case .setConsumption(var consumption):
            consumption.supersedes = latest
            return .setConsumption(consumption)
        case .updateAlert(var update):
            update.supersedes = latest
            return .updateAlert(update)
        default: return operation
        }
    }

    /// Applies entries this node authored and has committed. Returns true when the views must
    /// be rebuilt (as `IngestResult.viewsNeedRebuild`).
    @discardableResult
    public mutating func adoptOwn(_ entries: [Entry]) throws(FeedLedger.AdoptionError) -> Bool {
        for entry in entries { try ledger.adopt(entry) }
        return show(entries)
    }

    @discardableResult
    public mutating func adoptOwn(_ entry: Entry) throws(FeedLedger.AdoptionError) -> Bool { try adoptOwn([entry]) }
}
