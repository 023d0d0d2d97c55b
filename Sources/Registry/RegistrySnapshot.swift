/// A node's registry as of its ledger's vector, for its own restart: the ledger's state
/// (`FeedLedger.snapshotState`), the views (a `ViewsSnapshot`, views.proto) and the ids of the
/// entries added since the snapshot before, in chunks. The store keeps the latest one, written
/// in one transaction; a restart loads it and folds only the entries after it.
public struct RegistrySnapshot: Sendable {
    /// Chunk `index` of a feed's entry ids: those of seq `base + index × idChunkSize + 1` on
    /// (`base` 0, but for a feed joined from a checkpoint), at most
    /// `MineralRegistry.idChunkSize` of them (the last chunk of a feed is filled in later).
    public struct IDChunk: Sendable, Hashable {
        public let feed: NodeID
        public let index: Int
        public let ids: [EntryID]

        public init(feed: NodeID, index: Int, ids: [EntryID]) {
            self.feed = feed
            self.index = index
            self.ids = ids
        }
    }

    public let vector: VersionVector
    public let ledger: [UInt8]
    public let views: [UInt8]
    public let idChunks: [IDChunk]

    public init(vector: VersionVector, ledger: [UInt8], views: [UInt8], idChunks: [IDChunk]) {
        self.vector = vector
        self.ledger = ledger
        self.views = views
        self.idChunks = idChunks
    }
}
