import Foundation
import NIOConcurrencyHelpers
import OpenSSLCrypto
import Registry

/// What the engine holds as of its last change, for readers that must not wait for it:
/// sessions on their event loops (the vector and head ids for a hello, the chains and CRLs to
/// send, how far a feed is shown) and the admin API (status, peers' lag, `sync --wait`).
///
/// The engine is the only writer of its state and publishes a new snapshot after every change;
/// a reader holds one consistent value for as long as it needs (a hello never pairs a seq with
/// another entry's id, a status never mixes two moments). Nothing here is kept in step by hand.
public struct EngineSnapshot: Sendable {
    /// What this node holds of each feed, and the id of each feed's head entry.
    public let vector: VersionVector
    public let headIDs: [NodeID: EntryID]
    /// The registry as shown, as of the last publication that carried it (`viewsAreCurrent`
    /// says whether that is this one): the engine publishes its views only while someone reads
    /// them (`SyncEngine.currentSnapshot()`), since sharing them makes its next fold copy every
    /// register it touches.
    public var views: RegistryViews { published.views }
    /// Whether `views` are the engine's views as of this snapshot.
    public var viewsAreCurrent: Bool { published.generation == generation }
    let published: PublishedViews
    /// Every origin's key history as chains (DER, leaf first), each origin's in the order met.
    public let chains: [NodeID: [[[UInt8]]]]
    /// Every origin's key history: what sessions check entries ahead of a gap with before the
    /// engine sees them (`ReceivedBatch.checkAhead`).
    public let originKeys: OriginKeys
    /// The anchors and CRLs in force, and the CRLs as DER (what sessions send).
    public let trustStore: TrustStore
    public let revocationLists: [[UInt8]]
    /// Feeds shown only in part, and up to which seq: what is not shown is not relayed.
    public let shownUpTo: [NodeID: UInt64]
    /// The cut in force per feed, and every cut entry held.
    public let cuts: [NodeID: FeedCut]
    public let cutEntries: [(by: NodeID, seq: UInt64, cut: FeedCut)]
    public let forks: [ForkEvidence]
    /// Nodes with a certificate a CRL in force revokes.
    public let revokedOrigins: Set<NodeID>
    /// Feeds refused further entries at `feedQuota` signed bytes.
    public let feedsAtQuota: Set<NodeID>
    public let feedQuota: Int?
    /// Origins whose entries were dated furthest ahead of this node's clock, beyond the threshold.
    public let datedAhead: [NodeID: (millis: Int64, seen: Date)]
    /// Whether local writes are accepted now (no unproven claim on this node's feed holds them).
    public let ownFeedWritable: Bool
    /// The feed this node writes (its own, or a later segment), and the certificate it signs with.
    public let writingFeed: NodeID
    public let currentSigner: SignerID?
    /// This node's key history, oldest first.
    public let ownKeyHistory: [SignerKey]
    /// Counts every publication: a reader that saw generation n knows whether anything changed since.
    public let generation: UInt64
    /// The alliance's agreement on the registry: the last per participant, divergences found,
    /// the latest checkpoint (convergence proofs).
    public let convergence: ConvergenceReport

    init(
        vector: VersionVector, headIDs: [NodeID: EntryID], views: PublishedViews, chains: [NodeID: [[[UInt8]]]], originKeys: OriginKeys,
        trustStore: TrustStore,
        shownUpTo: [NodeID: UInt64], cuts: [NodeID: FeedCut], cutEntries: [(by: NodeID, seq: UInt64, cut: FeedCut)], forks: [ForkEvidence],
        revokedOrigins: Set<NodeID>, feedsAtQuota: Set<NodeID>, feedQuota: Int?, datedAhead: [NodeID: (millis: Int64, seen: Date)],
        ownFeedWritable: Bool, writingFeed: NodeID, currentSigner: SignerID?, ownKeyHistory: [SignerKey], generation: UInt64,
        convergence: ConvergenceReport
    ) {
        self.vector = vector
        self.headIDs = headIDs
        published = views
        self.chains = chains
        self.originKeys = originKeys
        self.trustStore = trustStore
        revocationLists = trustStore.crls.map(\.der)
        self.shownUpTo = shownUpTo
        self.cuts = cuts
        self.cutEntries = cutEntries
        self.forks = forks
        self.revokedOrigins = revokedOrigins
        self.feedsAtQuota = feedsAtQuota
        self.feedQuota = feedQuota
        self.datedAhead = datedAhead
        self.ownFeedWritable = ownFeedWritable
        self.writingFeed = writingFeed
        self.currentSigner = currentSigner
        self.ownKeyHistory = ownKeyHistory
        self.generation = generation
        self.convergence = convergence
    }

    /// The digest of `views`, computed on first read and kept with them (an idle node's status
    /// reads it for free; a busy one's costs the registers and alerts, not the history).
    public var viewDigest: SHA256Digest { published.digest }

    /// Feeds this node shows in part, or that are cut: peers may hold more of them than this
    /// node ever takes (`sync --wait` leaves them out).
    public var feedsShownInPart: Set<NodeID> { Set(shownUpTo.keys).union(cuts.keys) }

    /// How far each feed shown in part is shown, and how much of it is held.
    public var hiddenFeeds: [NodeID: (shown: UInt64, held: UInt64)] {
        shownUpTo.reduce(into: [:]) { $0[$1.key] = ($1.value, vector[$1.key]) }
    }
}

/// Views as published at one generation, with their digest computed once, by whoever asks
/// first (a race computes it twice, harmlessly). Snapshots that do not carry new views share it.
final class PublishedViews: Sendable {
    let views: RegistryViews
    let generation: UInt64
    private let stored = NIOLockedValueBox<SHA256Digest?>(nil)

    init(_ views: RegistryViews, generation: UInt64) {
        self.views = views
        self.generation = generation
    }

    var digest: SHA256Digest {
        if let known = stored.withLockedValue({ $0 }) { return known }
        let value = views.digest
        stored.withLockedValue { $0 = value }
        return value
    }
}

/// What convergence proofs found, as published with the engine's state.
public struct ConvergenceReport: Sendable {
    /// The last agreement with a node of each participant.
    public var agreements: [ParticipantID: ConvergenceTracker.Agreement] = [:]
    /// The last divergence found per node (a security event each).
    public var divergences: [NodeID: ConvergenceTracker.Divergence] = [:]
    public var checkpoint: ConvergenceTracker.Checkpoint?
    /// This node's last statement.
    public var own: SignedStatement?
    /// The checkpoint this node joined from (nil: it holds every feed from its first entry).
    public var joinedFrom: ConvergenceTracker.Checkpoint?

    public init() {}
}
