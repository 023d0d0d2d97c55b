import Registry

/// What `RegistryStore.load` read back: the registry, this node's author state, and how.
public struct LoadedRegistry: Sendable {
    public let registry: MineralRegistry
    public let author: FeedAuthor
    /// The ledger's vector of the snapshot loaded (empty when none was).
    public let snapshotVector: VersionVector
    /// Why a snapshot that was there was not used (the entries were replayed instead).
    public let snapshotProblem: String?
    /// The checkpoint state this node joined from (nil: it holds every feed from its start).
    public let joined: CheckpointState?
}
