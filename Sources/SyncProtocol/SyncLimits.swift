import Registry

/// What one received message may hold. Every count and size is checked on the wire bytes,
/// before anything is copied out of the frame or a decoded value is built, so a peer cannot make
/// a 4 MiB frame cost more than the frame itself.
public struct SyncLimits: Sendable, Hashable {
    /// Entries in one `entries` message (a catch-up batch is at most 10,000, the largest
    /// `sync.batch-size`).
    public var entriesPerMessage = 10_000
    /// An entry's signature: Ed25519's are 64 bytes, ECDSA P-384's at most 104.
    public var signatureSize = 256
    public var bodySize = EntryCodec.maximumBodySize
    public var certificatesPerMessage = 64
    public var certificatesPerChain = 8
    public var certificateSize = 16 * 1024
    public var revocationListsPerMessage = 16
    public var revocationListSize = 256 * 1024
    /// Feeds in a version vector, and head ids in a hello: one per node of the alliance.
    public var feedsPerVector = 10_000
    /// Statements in one `statements` message.
    public var statementsPerMessage = 64
    /// A goodbye's detail, in bytes of UTF-8.
    public var detailLength = 1024

    public init() {}

    public static let standard = SyncLimits()
}
