/// What one call to `FeedLedger.ingest` decided. `accepted` entries are valid, in feed order,
/// and already applied to the ledger: the shell stores them, folds them and fans them out.
public struct IngestResult: Sendable {
    public var accepted: [Entry] = []
    /// The accepted entries that had been waiting from an earlier batch (which may have come
    /// from another peer): the rest of `accepted` came in this batch.
    public var acceptedFromWaiting: Set<EntryID> = []
    /// Feeds that reached the ledger's per-feed quota in this batch.
    public var feedsAtQuota: Set<NodeID> = []
    public var duplicates = 0
    /// Entries held back until the gap before them fills.
    public var buffered = 0
    public var rejected: [EntryRejection] = []
    public var forks: [ForkEvidence] = []
    /// How many signatures were verified (one per contiguous run, plus one per suspicious entry).
    public var signatureChecks = 0
    /// What is shown changed in a way folding `accepted` cannot follow (a cut arrived, or a
    /// revoked certificate's entries became vouched for): the shell rebuilds the views from the
    /// store (`MineralRegistry.rebuildViews`).
    public var viewsNeedRebuild = false

    public init() {}
}
