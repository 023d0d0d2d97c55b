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
    /// `accepted` and `forks` before advertising them.
    public mutating func ingest(_ batch: [SignedEntry], signers: (Entry) -> SignerLookup) -> IngestResult {
        let result = ledger.ingest(batch, signers: signers)
        views.fold(result.accepted)
        return result
    }

    /// `ingest(_:signers:)` with one key per origin (tests and benchmarks).
    public mutating func ingest(_ batch: [SignedEntry], keys: (NodeID) -> PublicKey?) -> IngestResult {
        let result = ledger.ingest(batch, keys: keys)
        views.fold(result.accepted)
        return result
    }

    /// Re-applies entries and fork evidence read back from the store, feed by feed in seq order.
    public mutating func restore(entries: some Sequence<Entry>, forks: [ForkEvidence] = []) throws(FeedLedger.AdoptionError) {
        for entry in entries {
            try ledger.adopt(entry)
            views.fold(entry)
        }
        for evidence in forks { ledger.freeze(with: evidence) }
    }

    /// Checks a local request against every rule, including those that need the current views
    /// (the alert exists, the author's participant raised it, it is not resolved), so that an
    /// operator's mistake is refused before anything is signed.
    public func validateLocal(_ operation: EntryOperation, by author: NodeID) throws(PolicyViolation) {
        if let violation = views.policy.violation(of: operation, by: author) { throw violation }
        let alertID: EntryID
        let verb: String
        switch operation {
        case .updateAlert(let update): alertID = update.alertID; verb = "update the alert"
        case .resolveAlert(let resolution): alertID = resolution.alertID; verb = "resolve the alert"
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
    public func draft(_ operation: EntryOperation, by author: FeedAuthor, now: UInt64) throws -> (entry: Entry, author: FeedAuthor) {
        try validateLocal(operation, by: author.node)
        return try author.draftingChecked(operation, now: now)
    }

    /// Applies an entry this node authored and has committed.
    public mutating func adoptOwn(_ entry: Entry) throws(FeedLedger.AdoptionError) {
        try ledger.adopt(entry)
        views.fold(entry)
    }
}
