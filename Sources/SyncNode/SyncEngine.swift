import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import OpenSSLCrypto
import Registry
import RegistryStore
import SyncProtocol

/// The node's single writer: validate → store → fold → fan out, one batch at a time.
///
/// Durability: an entry is committed to the store before `append` returns and before it is
/// offered to any peer; received entries are committed before they are advertised in our vector
/// (the snapshot is published after the commit). Whoever must not wait for the actor (sessions
/// on their event loops, the admin API) reads the `EngineSnapshot` it publishes after every change.
public actor SyncEngine {
    public enum EngineError: Error, Sendable, CustomStringConvertible {
        case policy(PolicyViolation)
        /// A field beyond its limit or of the wrong form: nothing was signed.
        case invalid(String)
        /// This node's certificate is not valid at the entry's clock (expired): nothing was signed.
        case certificate(String)
        /// A peer says it holds this node's feed further than its store, and has not yet sent the
        /// signed entry that proves it (it has until `until`; unproven, the claim is dropped).
        case ownFeedClaimed(by: NodeID, seq: UInt64, held: UInt64, until: Date)
        case store(StoreError)
        case signing(String)
        case shuttingDown

        public var description: String {
            switch self {
            case .policy(let violation): violation.description
            case .invalid(let reason), .certificate(let reason): reason
            case .ownFeedClaimed(let peer, let seq, let held, let until):
                "\(peer) says it holds this node's feed up to seq \(seq) (this node holds \(held)); writes wait until \(until.formatted(.iso8601)) for the signed entry that proves it"
            case .store(let error): error.description
            case .signing(let reason): "could not sign the entry: \(reason)"
            case .shuttingDown: "the node is shutting down; nothing was written"
            }
        }
    }

    /// How a session is told about new entries, on its own event loop: `offer` the ones it may
    /// push, and `held` the ones its own peer sent us (never echoed back to it).
    public struct SessionLink: Sendable {
        public let peer: NodeID
        public let id: UInt64
        public let offer: @Sendable ([Entry]) -> Void
        public let held: @Sendable ([Entry]) -> Void
        /// The origins' key histories changed: their chains go to the peer again before their
        /// next entries.
        public let certificatesChanged: @Sendable ([NodeID]) -> Void
        /// CRLs newly put in force here (DER): the peer is sent them.
        public let revocations: @Sendable ([[UInt8]]) -> Void
        /// View statements new here (convergence proofs): the peer is sent them if it takes them.
        public let statements: @Sendable ([SignedStatement]) -> Void
        /// Joining from a checkpoint: ask the peer for its checkpoint state, or tell it that this
        /// node no longer waits for one (it sends its vector).
        public let checkpoint: @Sendable (CheckpointSignal) -> Void

        public init(
            peer: NodeID, id: UInt64, offer: @escaping @Sendable ([Entry]) -> Void, held: @escaping @Sendable ([Entry]) -> Void,
            certificatesChanged: @escaping @Sendable ([NodeID]) -> Void = { _ in },
            revocations: @escaping @Sendable ([[UInt8]]) -> Void = { _ in },
            statements: @escaping @Sendable ([SignedStatement]) -> Void = { _ in },
            checkpoint: @escaping @Sendable (CheckpointSignal) -> Void = { _ in }
        ) {
            self.peer = peer
            self.id = id
            self.offer = offer
            self.held = held
            self.certificatesChanged = certificatesChanged
            self.revocations = revocations
            self.statements = statements
            self.checkpoint = checkpoint
        }
    }

    public enum CheckpointSignal: Sendable, Hashable {
        case request
        /// The state asked of this peer is no longer waited for (it took too long).
        case abandon
        case settled
    }

    public nonisolated let node: NodeID
    let store: RegistryStore
    var registry: MineralRegistry
    var author: FeedAuthor
    /// The anchors and CRLs in force, and every origin's key history.
    var trust: OriginTrust
    private nonisolated let trustChanged = NIOLockedValueBox<@Sendable (TrustStore) -> Void>({ _ in })
    var links: [UInt64: SessionLink] = [:]
    /// The store could not prove it is the newest (the node did not stop cleanly, or the file is
    /// a copy: a restore), so the feed it was writing may continue at partners beyond its head.
    /// The next write opens a new segment instead of re-using a position (entry.proto, "Segments").
    private var newSegmentBeforeNextWrite: Bool
    /// Peers' claims to hold the feed this node writes beyond its store. A proven claim (the
    /// entry at that position, signed with this node's key, arrived) sends the next write to a
    /// new segment; an unproven one holds writes for at most `claimProofTimeout`, then it is
    /// dropped and its peer penalised.
    private var ownFeedClaims: [NodeID: OwnFeedClaim] = [:]
    private struct OwnFeedClaim {
        var seq: UInt64
        var proven: Bool
        var deadline: Date
    }
    public nonisolated let claimProofTimeout: Duration
    /// Entries dated further ahead of this node's clock are a security event (their origin's
    /// clock is wrong); the registry's rules do not depend on it (causality first).
    public nonisolated let maximumClockSkewMillis: Int64
    /// Origins whose entries were dated furthest ahead of this node's clock (beyond the
    /// threshold), by how much and when seen. One per node: bounded by the nodes held.
    public private(set) var datedAhead: [NodeID: (millis: Int64, seen: Date)] = [:]
    private nonisolated let claimRefuted = NIOLockedValueBox<@Sendable (NodeID, String) -> Void>({ _, _ in })
    var waiters: [(VersionVector, CheckedContinuation<Void, Never>)] = []
    private var writableWaiters: [CheckedContinuation<Void, Never>] = []
    private var observers: [UInt64: AsyncStream<[Entry]>.Continuation] = [:]
    var nextObserver: UInt64 = 0
    let metrics = EngineMetrics()
    var closed = false
    let logger: Logger

    /// Each feed's head entry id, kept as entries are committed (published with the vector).
    var headIDs: [NodeID: EntryID]
    /// The state as of the last change, for readers that must not wait (`snapshot`).
    private nonisolated let published: NIOLockedValueBox<EngineSnapshot>
    private var generation: UInt64 = 0
    private var changeWatchers: [UInt64: AsyncStream<Void>.Continuation] = [:]
    /// What the hooks want to hear of (nil: no hook), and the bound of their outbox.
    var eventFilter: RegistryEventFilter?
    var outboxLimit = EventOutbox.defaultLimit
    var eventWatchers: [UInt64: AsyncStream<Void>.Continuation] = [:]
    var outboxDropsLogged: (at: ContinuousClock.Instant, dropped: Int)?
    nonisolated let clock: @Sendable () -> UInt64

    public init(
        store: RegistryStore, key: PrivateKey, certificateChain: [Certificate], trustStore: TrustStore,
        policy: EntryPolicy = EntryPolicy(), waitingLimits: FeedLedger.WaitingLimits = .init(), feedQuota: Int? = nil,
        claimProofTimeout: Duration = .seconds(3), maximumClockSkewMillis: Int64 = 60_000,
        snapshotInterval: Int = SyncEngine.defaultSnapshotInterval, joinFromCheckpoint: Bool = false, checkpointWait: Duration = .seconds(120),
        mayDropArchivedHistory: Bool = false,
        proofQuorum: Set<ParticipantID>? = nil, logger: Logger,
        clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }
    ) throws(StoreError) {
        node = store.node
        self.store = store
        self.claimProofTimeout = claimProofTimeout
        self.maximumClockSkewMillis = maximumClockSkewMillis
        self.snapshotInterval = snapshotInterval
        self.checkpointWait = checkpointWait
        self.mayDropArchivedHistory = mayDropArchivedHistory
        self.logger = logger
        self.clock = clock
        var chains = try store.loadCertificateChains()
        // This node's certificate joins its key history (kept for peers that meet the feed later).
        let own = certificateChain.map(\.der)
        if !(chains[node]?.contains { $0.first == own.first } ?? false) {
            try store.record(certificateChain: own, of: node)
            chains[node, default: []].append(own)
        }
        trust = OriginTrust(configured: trustStore, received: try store.loadRevocationLists(), chains: chains, logger: logger)
        let ownKey: SignerKey
        do { ownKey = try OriginTrust.signerKey(of: certificateChain) } catch {
            throw .cannotOpen(path: store.path, reason: "this node's certificate: \(error)")
        }
        // Revoked certificates and cuts hide what they hide from the start.
        let loading = ContinuousClock.now
        let loaded = try store.load(policy: policy, key: key, revokedSigners: trust.revokedSigners, waitingLimits: waitingLimits)
        if let problem = loaded.snapshotProblem {
            logger.warning("the registry snapshot was not used: every entry was folded again", metadata: ["reason": "\(problem)"])
        }
        let held = loaded.registry.vector.total
        let covered = loaded.snapshotVector.total
        logger.info(
            "registry loaded",
            metadata: [
                "entries": "\(held)",
                "from": "\(covered > 0 ? "a snapshot of \(covered) entries and \(held - covered) after it" : "every entry")",
                "took": "\(ContinuousClock.now - loading)"
            ])
        registry = loaded.registry
        registry.feedQuota = feedQuota
        snapshotVector = loaded.snapshotVector
        joined = loaded.joined
        convergenceReport.joinedFrom = loaded.joined?.checkpoint
        historyStarts = NIOLockedValueBox(Self.historyStarts(of: loaded.joined))
        if let joined = loaded.joined {
            logger.info(
                "this node joined from a checkpoint: it holds no entry before it", metadata: ["checkpoint-entries": "\(joined.checkpoint.vector.total)"])
        }
        let joining = joinFromCheckpoint && loaded.registry.vector.heads.isEmpty && loaded.joined == nil
        joinState = joining ? .waiting(asked: nil, tried: []) : .off
        awaitingCheckpoint.withLockedValue { $0 = joining }
        author = loaded.author.signing(with: key, signer: ownKey.id, validity: ownKey.validFrom...ownKey.validUntil)
        newSegmentBeforeNextWrite = !(try store.takeCleanShutdownMark())
        // Convergence proofs: by default every participant this node trusts makes the quorum.
        let quorum = proofQuorum ?? Set(trustStore.anchors.keys.compactMap { try? ParticipantID($0) })
        convergence = ConvergenceTracker(node: node, quorum: quorum)
        if let checkpoint = try store.loadCheckpoint() {
            convergence.restore(checkpoint)
            convergenceReport.checkpoint = checkpoint
        }
        headIDs = Self.headIDs(of: registry.ledger)
        published = NIOLockedValueBox(
            Self.snapshot(
                registry: registry, headIDs: headIDs, trust: trust, author: author, node: node,
                feedsAtQuota: [], datedAhead: [:], writable: true, generation: 0,
                views: PublishedViews(registry.views, generation: 0), convergence: convergenceReport))
        metrics.held.record(Int64(registry.vector.total))
    }

    // MARK: the published state

    /// The state as of the engine's last change, without waiting for the engine.
    public nonisolated var snapshot: EngineSnapshot { published.withLockedValue { $0 } }

    /// An element now and after every publication, for whoever waits for the engine's state to
    /// change (`sync --wait`). Bounded: a slow reader sees only that something changed.
    public func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = nextObserver
        nextObserver += 1
        changeWatchers[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.stopWatchingChanges(id) } }
        continuation.yield()
        return stream
    }

    private func stopWatchingChanges(_ id: UInt64) { changeWatchers[id] = nil }

    /// Publishes the state as it is now. Called at the end of every change, by the engine only.
    /// The views go with it only while someone reads them (`currentSnapshot`): a snapshot that
    /// shares them makes the next fold copy every register it touches, a cost a catch-up that
    /// nobody watches need not pay.
    func publish() {
        generation += 1
        let views =
            viewsWanted.withLockedValue { $0.map { $0 > .now } ?? false }
            ? PublishedViews(registry.views, generation: generation) : published.withLockedValue { $0.published }
        let snapshot = Self.snapshot(
            registry: registry, headIDs: headIDs, trust: trust, author: author, node: node,
            feedsAtQuota: feedsAtQuota, datedAhead: datedAhead, writable: ownFeedWritable, generation: generation,
            views: views, convergence: convergenceReport)
        published.withLockedValue { $0 = snapshot }
        for watcher in changeWatchers.values { watcher.yield() }
    }

    /// Until when the views go with every publication (someone read them lately).
    private nonisolated let viewsWanted = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
    /// How long after the last read the views keep being published with every change.
    static let viewsWantedFor: Duration = .seconds(5)

    /// The registry as shown now: from the published snapshot when it carries the views,
    /// otherwise published at once (one wait for the engine, the first read after a quiet spell).
    /// Every later publication carries the views for a while, so a reader that keeps reading
    /// (status polled, watch) never waits for the engine.
    public nonisolated func currentSnapshot() async -> EngineSnapshot {
        viewsWanted.withLockedValue { $0 = .now + Self.viewsWantedFor }
        let snapshot = snapshot
        if snapshot.viewsAreCurrent { return snapshot }
        return await publishViews()
    }

    private func publishViews() -> EngineSnapshot {
        if !snapshot.viewsAreCurrent { publish() }
        return snapshot
    }

    private static func snapshot(
        registry: MineralRegistry, headIDs: [NodeID: EntryID], trust: OriginTrust, author: FeedAuthor, node: NodeID,
        feedsAtQuota: Set<NodeID>, datedAhead: [NodeID: (millis: Int64, seen: Date)], writable: Bool,
        generation: UInt64, views: PublishedViews, convergence: ConvergenceReport
    ) -> EngineSnapshot {
        EngineSnapshot(
            vector: registry.vector, headIDs: headIDs, views: views, chains: trust.chains, originKeys: trust.keys, trustStore: trust.trustStore,
            shownUpTo: registry.hiddenFeeds, cuts: registry.cuts, cutEntries: registry.cutEntries, forks: registry.ledger.forks,
            revokedOrigins: trust.revokedOrigins, feedsAtQuota: feedsAtQuota, feedQuota: registry.feedQuota,
            datedAhead: datedAhead, ownFeedWritable: writable, writingFeed: author.feed, currentSigner: author.signer,
            ownKeyHistory: trust.keys.history(of: node), generation: generation, convergence: convergence)
    }

    /// A reload's new anchors and CRLs (with the newer CRLs received from peers kept in force):
    /// every origin certificate held is checked again (one that is now refused, revoked say,
    /// verifies nothing more), and those relayed from now on.
    public func replaceTrustStore(_ configured: TrustStore) {
        let changed = trust.replace(configured: configured, received: (try? store.loadRevocationLists()) ?? [], logger: logger)
        trustUpdated(changedOrigins: changed, announcing: [], from: nil)
    }

    /// The anchors and CRLs in force (for TLS: sessions use the same).
    public var currentTrustStore: TrustStore { trust.trustStore }

    /// What `replaceTrustStore(configured)` would put in force, without changing anything.
    public func trustStore(mergedWith configured: TrustStore) -> TrustStore {
        OriginTrust.merging(configured, received: (try? store.loadRevocationLists()) ?? [], logger: logger)
    }

    /// Nodes with a certificate a CRL in force revokes: what they sign under it is refused, so
    /// peers that took it before the CRL hold more of their feeds than this node ever will.
    public var revokedOrigins: Set<NodeID> { trust.revokedOrigins }
    /// Relayed chains verified so far (for tests: each distinct chain is verified once).
    public var chainVerifications: Int { trust.chainVerifications }

    /// The CRLs in force, DER, for a session to send after its hello.
    public nonisolated var revocationLists: [[UInt8]] { snapshot.revocationLists }

    /// Called with the trust store whenever a CRL from a peer was put in force: the shell
    /// refuses the revoked nodes' connections from then on and closes their sessions.
    public nonisolated func onTrustChanged(_ handler: @escaping @Sendable (TrustStore) -> Void) {
        trustChanged.withLockedValue { $0 = handler }
    }

    /// CRLs a peer sent (or an operator handed in): each that one of our anchors signed, newer
    /// than the CRL of its authority in force and not expired, is put in force at once, kept in
    /// the store, and sent on to every other peer.
    public func takeRevocations(_ crls: [[UInt8]], from source: NodeID?) {
        var taken: [[UInt8]] = []
        let (outcomes, changed) = trust.take(crls, logger: logger)
        for (der, outcome) in outcomes {
            switch outcome {
            case .taken(let crl):
                do { try store.record(revocationList: der, issuer: crl.issuer) } catch {
                    logger.error(
                        "a revocation list in force could not be stored: after a restart it is in force again only when a peer sends it",
                        metadata: ["issuer": "\(crl.issuer)", "reason": "\(error)"])
                }
                taken.append(der)
                logger.notice(
                    "revocation list in force",
                    metadata: [
                        "issuer": "\(crl.issuer)", "from": "\(source.map(\.description) ?? "operator")",
                        "next-update": "\(crl.nextUpdate.map { $0.formatted(.iso8601) } ?? "none")"
                    ])
            case .known:
                continue  // every peer sends back what it took from us: not worth a line
            case .refused(let reason):
                logger.warning("revocation list refused", metadata: ["from": "\(source.map(\.description) ?? "operator")", "reason": "\(reason)"])
            }
        }
        guard !taken.isEmpty else { return }
        trustUpdated(changedOrigins: changed, announcing: taken, from: source)
        trustChanged.withLockedValue { $0 }(trust.trustStore)
    }

    /// After the trust store changed: the snapshots renewed, and sessions told (new CRLs to
    /// send, origins whose chains changed).
    private func trustUpdated(changedOrigins changed: [NodeID], announcing taken: [[UInt8]], from source: NodeID?) {
        if registry.setRevokedSigners(trust.revokedSigners) { rebuildViews(because: "a certificate was revoked") }
        publish()
        for link in links.values {
            if !changed.isEmpty { link.certificatesChanged(changed) }
            if !taken.isEmpty, link.peer != source { link.revocations(taken) }
        }
    }

    /// This node's key changed (SIGHUP or restart with a new certificate and key, same node):
    /// its feed continues, each entry from now on signed with `key` and naming the certificate
    /// of `certificateChain`, which joins the key history sent to peers.
    public func rotate(to key: PrivateKey, certificateChain: [Certificate]) throws(EngineError) {
        let signer: SignerKey
        do { signer = try OriginTrust.signerKey(of: certificateChain) } catch { throw .certificate("\(error)") }
        guard signer.id != author.signer else { return }
        remember(node, signer, chain: certificateChain.map(\.der))
        author = author.signing(with: key, signer: signer.id, validity: signer.validFrom...signer.validUntil)
        publish()
        logger.notice(
            "key rotated: entries from now on are signed with the new certificate",
            metadata: ["certificate": "\(signer.id.hex.prefix(16))", "keys-in-history": "\(trust.keys.history(of: node).count)"])
    }

    /// This node's key history, oldest first (status).
    public var ownKeyHistory: [SignerKey] { trust.keys.history(of: node) }
    /// The feed this node writes: its own, or a later segment of it.
    public var writingFeed: NodeID { author.feed }
    /// The certificate this node signs with now.
    public var currentSigner: SignerID? { author.signer }

    /// Every batch of entries committed from now on (local writes and from peers), for `watch`.
    /// Bounded: a consumer that falls 1,000 batches behind loses the oldest.
    public func subscribe() -> AsyncStream<[Entry]> {
        let (stream, continuation) = AsyncStream<[Entry]>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let id = nextObserver
        nextObserver += 1
        observers[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.unsubscribe(id) } }
        return stream
    }

    private func unsubscribe(_ id: UInt64) { observers[id] = nil }

    /// Ends every `subscribe()` stream (shutdown).
    private func finishSubscriptions() {
        for observer in observers.values { observer.finish() }
        observers = [:]
    }

    public var ownFeedWritable: Bool {
        !ownFeedClaims.values.contains { !$0.proven && $0.seq > registry.vector[author.feed] }
    }

    /// Called with a peer and the reason when its claim about this node's feed went unproven.
    public nonisolated func onClaimRefuted(_ handler: @escaping @Sendable (NodeID, String) -> Void) {
        claimRefuted.withLockedValue { $0 = handler }
    }

    // MARK: what sessions read without waiting

    public nonisolated var vector: VersionVector { snapshot.vector }

    /// The vector and head ids read together, for a hello.
    public nonisolated var vectorAndHeadIDs: (VersionVector, [NodeID: EntryID]) {
        let snapshot = snapshot
        return (snapshot.vector, snapshot.headIDs)
    }

    static func headIDs(of ledger: FeedLedger) -> [NodeID: EntryID] {
        ledger.vector.heads.keys.reduce(into: [:]) { heads, feed in heads[feed] = ledger.head(of: feed)?.id }
    }

    /// Feeds where a peer's head entry differs from ours at the same seq: each is a fork (two
    /// entries signed for one position), returned with the seq whose entry we should send.
    public func divergentFeeds(_ claims: [NodeID: PeerHead]) -> [(feed: NodeID, seq: UInt64)] {
        claims.compactMap { feed, claim in
            guard let ours = registry.ledger.entryID(of: feed, seq: claim.seq), ours != claim.id else { return nil }
            return (feed, claim.seq)
        }.sorted { $0.feed < $1.feed }
    }

    /// Every chain of each origin's key history, oldest first.
    public nonisolated func certificates(for origins: [NodeID]) -> [OriginCertificate] {
        let chains = snapshot.chains
        return origins.flatMap { origin in (chains[origin] ?? []).map { OriginCertificate(node: origin, chain: $0) } }
    }

    /// Committed entries of one feed, for streaming to a peer that lacks them: only those shown
    /// (what a revoked key signed unvouched, or what follows a cut, stays here as evidence).
    public nonisolated func entries(of origin: NodeID, in range: ClosedRange<UInt64>, limit: Int) -> [SignedEntry] {
        let end = snapshot.shownUpTo[origin] ?? range.upperBound
        guard range.lowerBound <= min(end, range.upperBound) else { return [] }
        return (try? store.entries(of: origin, in: range.lowerBound...min(end, range.upperBound), limit: limit)) ?? []
    }

    // MARK: convergence proofs (SyncEngine+Proofs)

    var convergence: ConvergenceTracker
    /// What is published of `convergence`.
    var convergenceReport = ConvergenceReport()
    /// Statements handled per source since the last proof round, to bound what a peer makes us verify.
    var statementsTaken: [NodeID: Int] = [:]
    /// The views' digest at a vector, as last computed for convergence proofs.
    var digestMemo: (VersionVector, SHA256Digest)?
    /// The views as of this node's last statement: what it serves, should that vector become a
    /// checkpoint after its views moved on.
    var signedViews: (vector: VersionVector, views: RegistryViews)?

    // MARK: joining from a checkpoint (SyncEngine+Checkpoint)

    enum JoinState: Equatable {
        /// Not joining: the node holds (or syncs) every feed from its first entry.
        case off
        /// Waiting for a checkpoint state: asked of the session `asked`; refused by `tried`.
        case waiting(asked: UInt64?, tried: Set<NodeID>)
    }
    var joinState: JoinState
    /// The checkpoint state this node joined from (nil: it holds every feed from its start).
    var joined: CheckpointState?
    /// Sessions with peers that serve checkpoint states.
    var checkpointServers: [UInt64: NodeID] = [:]
    nonisolated let awaitingCheckpoint = NIOLockedValueBox(false)
    /// How long a peer asked for its checkpoint state may go without sending a part of it.
    nonisolated let checkpointWait: Duration
    /// `history.drop-archived`: the history below an archived checkpoint may be dropped.
    public nonisolated let mayDropArchivedHistory: Bool
    /// How long the state asked for may still take (`CheckpointWait`): set by sessions without
    /// waiting for the engine (a part is up to 512 KiB, a state up to hundreds of parts; none
    /// queues a call into the engine).
    nonisolated let checkpointProgress = NIOLockedValueBox(CheckpointWait())
    /// When this node last served its checkpoint state to each peer (`mayServeCheckpoint`).
    var checkpointsServed: [NodeID: ContinuousClock.Instant] = [:]
    var joinDeadlineScheduled = false
    /// The last build of the checkpoint state to serve (`buildServedState`), the next waits for it.
    var servedBuildTask: Task<Void, Never>?
    static let checkpointServingInterval: Duration = .seconds(600)
    /// Per feed joined from a checkpoint, the certificate that signed its entry there.
    var baseSigners: [NodeID: SignerID] {
        Dictionary(uniqueKeysWithValues: (joined?.bases ?? []).compactMap { base in base.signer.map { (base.origin, $0) } })
    }
    /// Per feed joined from a checkpoint, the seq of the checkpoint's entry (`firstHeld`).
    nonisolated let historyStarts: NIOLockedValueBox<[NodeID: UInt64]>
    /// The vector of the newest checkpoint state being built to serve (builds run off the engine).
    nonisolated let servedBuild = NIOLockedValueBox(VersionVector())

    // MARK: snapshots

    /// Committed entries between two snapshots of the registry (`sync.snapshot-every`): a
    /// restart after a crash folds at most about this many; a clean stop saves one.
    public static let defaultSnapshotInterval = 50_000
    private let snapshotInterval: Int
    /// The ledger's vector at the last snapshot saved or loaded.
    var snapshotVector: VersionVector
    /// Snapshots due every `snapshotInterval` entries are written off the engine (one at a
    /// time), so that ingests do not wait for a write of every id since the last one. Each is
    /// tagged with this generation: whatever replaces the store's snapshot or history itself (a
    /// snapshot saved at once, a checkpoint joined, a reload) takes the next one first, which
    /// waits for a write in progress and voids one not begun, so an older snapshot never lands
    /// after a newer one.
    private let snapshotGeneration = NIOLockedValueBox(0)
    private var snapshotWriting = false

    /// The registry read back from the store (after a failed write, or after history left it),
    /// with everything derived from it; the author is the caller's to adopt.
    @discardableResult
    func reloadFromStore() throws(StoreError) -> LoadedRegistry {
        newSnapshotGeneration()
        let quota = registry.feedQuota
        let loaded = try store.load(policy: registry.policy, key: author.key, revokedSigners: trust.revokedSigners, waitingLimits: registry.waitingLimits)
        registry = loaded.registry
        registry.feedQuota = quota
        snapshotVector = loaded.snapshotVector
        joined = loaded.joined
        historyStarts.withLockedValue { $0 = Self.historyStarts(of: loaded.joined) }
        convergenceReport.joinedFrom = loaded.joined?.checkpoint
        headIDs = Self.headIDs(of: registry.ledger)
        return loaded
    }

    /// `saveSnapshot`, for the engine's extensions.
    func saveSnapshotNow() { saveSnapshot() }

    /// Saves the registry as it is now (`RegistryStore.saveSnapshot`), at once, after a snapshot
    /// being written off the engine. A failure is logged: the previous snapshot and the entries
    /// still give the same registry.
    private func saveSnapshot() {
        newSnapshotGeneration()
        guard registry.vector != snapshotVector else { return }
        let started = ContinuousClock.now
        let snapshot = registry.snapshot(since: snapshotVector)
        let written = Result { () throws(StoreError) in try store.saveSnapshot(snapshot) }
        snapshotSaved(snapshot.vector, written, took: ContinuousClock.now - started)
    }

    /// What saving the snapshot up to `vector` came to, at once or off the engine.
    private func snapshotSaved(_ vector: VersionVector, _ written: Result<Void, StoreError>, took: Duration) {
        switch written {
        case .success:
            snapshotVector = vector
            metrics.snapshots.increment()
            logger.debug("registry snapshot saved", metadata: ["entries": "\(vector.total)", "took": "\(took)"])
        case .failure(let error):
            logger.error("the registry snapshot could not be saved; a restart folds the entries since the last one", metadata: ["reason": "\(error)"])
        }
    }

    /// Waits for a snapshot being written off the engine, and voids one not begun.
    func newSnapshotGeneration() {
        snapshotGeneration.withLockedValue { $0 += 1 }
    }

    /// The snapshot due every `snapshotInterval` entries: taken here, written off the engine.
    private func saveSnapshotInBackground() {
        guard !snapshotWriting, registry.vector != snapshotVector else { return }
        let snapshot = registry.snapshot(since: snapshotVector)
        let (store, gate, started) = (store, snapshotGeneration, ContinuousClock.now)
        let generation = gate.withLockedValue { $0 }
        snapshotWriting = true
        Task.detached {
            let written: Result<Void, StoreError>? = gate.withLockedValue { current in
                guard current == generation else { return nil }
                return Result { () throws(StoreError) in try store.saveSnapshot(snapshot) }
            }
            await self.snapshotWritten(snapshot.vector, written, generation: generation, took: ContinuousClock.now - started)
        }
    }

    private func snapshotWritten(_ vector: VersionVector, _ written: Result<Void, StoreError>?, generation: Int, took: Duration) {
        snapshotWriting = false
        // Voided: the store's snapshot was replaced meanwhile.
        guard let written else { return }
        // Written, but the registry was replaced since: its own snapshot vector holds.
        if case .success = written, snapshotGeneration.withLockedValue({ $0 }) != generation { return }
        snapshotSaved(vector, written, took: took)
    }

    /// Checks every page of the store, unless the open did, without holding the engine, and
    /// says so in the log: a damaged store is a critical event (restore it from a backup; partners send back what
    /// it lacks). Returns whether the store is sound.
    @discardableResult
    public nonisolated func checkStoreIntegrity() async -> Bool {
        // After a crash the open checked every page already, before anything was read.
        guard !store.pagesCheckedAtOpen else { return true }
        let started = ContinuousClock.now
        let problem = await store.checkIntegrity()
        // Shutting down cancels the check (GRDB interrupts SQLite): no verdict, no alarm.
        if Task.isCancelled {
            logger.info("store check stopped: shutting down")
            return true
        }
        guard let problem else {
            logger.info("store checked: every page is sound", metadata: ["took": "\(ContinuousClock.now - started)"])
            return true
        }
        logger.critical(
            "the store is damaged: restore it from a backup (partners send back the entries it lacks)",
            metadata: ["path": "\(store.path)", "details": "\(problem)"])
        return false
    }

    /// The history behind one view (`Entry.subject`), read from the store without waiting for
    /// the engine or blocking the caller's thread: the views keep none of it. Entries the views
    /// do not show are among them; `RegistryViews.history(of:in:)` leaves those out.
    public nonisolated func history(subject: String) async throws(StoreError) -> [Entry] {
        try await store.entriesReadingAside(subject: subject)
    }

    /// The views again from every entry held, after what is shown changed (a cut, a revocation).
    /// Costs a read of the whole store: rare by nature (a CRL, a cut, or a vouching entry).
    private func rebuildViews(because reason: String) {
        let started = ContinuousClock.now
        do {
            try store.rebuildViews(of: &registry)
        } catch {
            logger.error("the views could not be rebuilt from the store; they show what they did", metadata: ["reason": "\(error)"])
            return
        }
        let hidden = registry.hiddenFeeds
        publish()
        // A node joined from a checkpoint cannot take back what the checkpoint showed.
        let starts = historyStarts.withLockedValue { $0 }
        let unhidable = hidden.filter { feed, shown in shown < starts[feed] ?? 0 }.keys.sorted()
        if !unhidable.isEmpty {
            logger.critical(
                "security event: a cut or revocation hides entries before the checkpoint this node joined from; its views still show them (stop it, move its store aside and let it join again from a newer checkpoint)",
                metadata: ["feeds": "\(unhidable.map(\.description).joined(separator: ","))"])
        }
        logger.notice(
            "views rebuilt: \(reason)",
            metadata: [
                "feeds-shown-in-part": "\(hidden.map { "\($0.key)#\($0.value)" }.sorted().joined(separator: ","))",
                "took": "\(ContinuousClock.now - started)"
            ])
    }

    /// The cut in force per feed, and every cut entry held (status).
    public var cuts: [NodeID: FeedCut] { registry.cuts }
    public var cutEntries: [(by: NodeID, seq: UInt64, cut: FeedCut)] { registry.cutEntries }

    // MARK: reading the registry

    public var views: RegistryViews { registry.views }
    /// Feeds refused further entries because they reached `sync.max-feed-bytes` (security events).
    public private(set) var feedsAtQuota: Set<NodeID> = []
    public var feedQuota: Int? { registry.feedQuota }
    /// What entries waiting ahead of gaps cost now (bounded by `sync.max-waiting-bytes`).
    public var waitingBytes: Int { registry.ledger.waitingBytes }
    public var forks: [ForkEvidence] { registry.ledger.forks }

    // MARK: local writes

    /// Cuts `feed` (another node of this participant) at `seq`, which this node must hold: the
    /// entry names the id held there.
    public func cut(_ feed: NodeID, at seq: UInt64, reason: String) throws(EngineError) -> Entry {
        let held = registry.vector[feed]
        guard seq <= held else {
            throw .invalid(
                "this node holds \(feed) up to seq \(held) only: cut at a position it holds (`mineralctl status` lists the feeds held), or wait until it holds more"
            )
        }
        let id = seq == 0 ? nil : registry.ledger.entryID(of: feed, seq: seq)
        return try append(.cutFeed(FeedCut(feed: feed, seq: seq, entryID: id, reason: reason)))
    }

    /// Signs, commits (fsync) and fans out one local write.
    public func append(_ operation: EntryOperation) throws(EngineError) -> Entry {
        try appendAll([operation])[0]
    }

    /// Writes several entries in one store transaction: all are committed, or none.
    /// Every operation is drafted (and checked against the policy) before anything is stored.
    public func appendAll(_ operations: [EntryOperation]) throws(EngineError) -> [Entry] {
        guard !closed else { throw .shuttingDown }
        if let cut = registry.cuts[author.feed], let by = registry.cutEntries.first(where: { $0.cut == cut })?.by {
            throw .policy(.feedCut(feed: author.feed, by: by, seq: cut.seq))
        }
        let held = registry.vector[author.feed]
        if let (peer, claim) = ownFeedClaims.filter({ !$0.value.proven && $0.value.seq > held }).min(by: { $0.value.deadline < $1.value.deadline }) {
            throw .ownFeedClaimed(by: peer, seq: claim.seq, held: held, until: claim.deadline)
        }
        var drafts: [Entry] = []
        var batch = DraftBatch()
        var next = author
        // A store that may be behind what partners hold of its feed writes a new segment.
        let behind = ownFeedClaims.values.contains { $0.proven && $0.seq > held }
        if newSegmentBeforeNextWrite || behind {
            var number: UInt32
            repeat { number = UInt32.random(in: 1...UInt32.max) } while registry.vector[node.segment(number)] > 0
            next = next.startingSegment(number)
        }
        for operation in operations {
            do {
                let (entry, advanced) = try registry.draft(operation, by: next, now: clock(), in: &batch)
                drafts.append(entry)
                next = advanced
            } catch let violation as PolicyViolation {
                throw .policy(violation)
            } catch let invalid as InvalidOperation {
                throw .invalid(invalid.reason)
            } catch let notValid as SigningKeyNotValid {
                throw .certificate(notValid.description)
            } catch {
                throw .signing("\(error)")
            }
        }
        let opened = next.feed != author.feed ? next.feed : nil
        let events = events(for: drafts, folded: false)
        do {
            try recordDrops(store.append(drafts, clock: next.clock.last, feed: opened, events: events, committedAt: clock(), outboxLimit: outboxLimit))
        } catch {
            throw .store(error)
        }
        if (try? registry.adoptOwn(drafts)) == true { rebuildViews(because: "this node's entries changed what is shown") }
        if let opened {
            logger.notice(
                "writing a new segment of this node's feed: the store could not prove it held everything this node wrote before",
                metadata: [
                    "feed": "\(opened)", "previous": "\(author.feed)#\(registry.vector[author.feed])",
                    "reason":
                        "\(newSegmentBeforeNextWrite ? "the node did not stop cleanly, or its store was restored" : "a peer proved it holds more of the feed")"
                ])
            newSegmentBeforeNextWrite = false
            ownFeedClaims = [:]
        }
        author = next
        metrics.appended.increment(by: Int64(drafts.count))
        committed(drafts)
        if !events.isEmpty { eventsCommitted() }
        return drafts
    }

    // MARK: sessions

    public func attach(_ link: SessionLink) {
        links[link.id] = link
        if case .waiting = joinState { scheduleJoinDeadline() }
    }
    public func detach(_ id: UInt64) {
        guard let link = links.removeValue(forKey: id) else { return }
        checkpointLeft(id)
        // A claimant that leaves without proving its claim cannot prove it any more: the claim
        // is refuted now (staying connected or not, an unproven claim holds writes only once).
        guard !links.values.contains(where: { $0.peer == link.peer }), let claim = ownFeedClaims[link.peer], !claim.proven else { return }
        refute(
            link.peer, claim.seq,
            reason: "claimed this node's feed up to seq \(claim.seq) and left without sending the entry signed by this node at that position")
    }

    /// A directly connected peer's certificate, verified by the TLS handshake.
    public func learnPeer(_ peer: VerifiedPeer, chain: [Certificate]) {
        guard let node = try? NodeID(peer.identity), let key = try? OriginTrust.signerKey(of: chain) else { return }
        remember(node, key, chain: chain.map(\.der))
    }

    /// A peer told us (hello or vector) how much it holds of `feed`, one of this node's feeds
    /// (its first, by default). About the feed this node writes, a claim beyond our store holds
    /// writes only until `claimProofTimeout` unless the peer sends the entry at that position,
    /// signed with our key; proven, the next write goes to a new segment.
    public func peerHoldsOwnFeed(_ peer: NodeID, upTo seq: UInt64, of feed: NodeID? = nil) {
        guard (feed ?? node) == author.feed else { return }
        let held = registry.vector[author.feed]
        if seq > held, seq > ownFeedClaims[peer]?.seq ?? 0 {
            // Proven already: another peer proved a claim at least as high, or the entry at that
            // position waits in the ledger (it was verified with our key when it was buffered).
            if ownFeedClaims.values.contains(where: { $0.proven && $0.seq >= seq }) || registry.ledger.isWaiting(author.feed, seq: seq) {
                ownFeedClaims[peer] = OwnFeedClaim(seq: seq, proven: true, deadline: Date())
                resumeWritableWaiters()
                return
            }
            let deadline = Date().addingTimeInterval(Double(claimProofTimeout.components.seconds) + Double(claimProofTimeout.components.attoseconds) / 1e18)
            ownFeedClaims[peer] = OwnFeedClaim(seq: seq, proven: false, deadline: deadline)
            logger.warning(
                "peer says it holds more of this node's feed than its store; writes wait for its proof",
                metadata: ["peer": "\(peer)", "claimed": "\(seq)", "held": "\(held)"])
            let timeout = claimProofTimeout
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.expireClaim(of: peer, seq: seq)
            }
        }
        resumeWritableWaiters()
    }

    private func expireClaim(of peer: NodeID, seq: UInt64) {
        guard let claim = ownFeedClaims[peer], claim.seq == seq, !claim.proven else { return }
        refute(
            peer, seq, reason: "claimed this node's feed up to seq \(seq) and sent no entry signed by this node at that position within \(claimProofTimeout)")
    }

    private func refute(_ peer: NodeID, _ seq: UInt64, reason: String) {
        ownFeedClaims[peer] = nil
        guard seq > registry.vector[author.feed] else {
            resumeWritableWaiters()
            return
        }
        logger.warning("claim refuted; writes resume", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        claimRefuted.withLockedValue { $0 }(peer, reason)
        resumeWritableWaiters()
    }

    /// Entries of our own feed at a claimed position, signed with our key, prove the claims.
    private func proveClaims(with entries: [Entry]) {
        let unproven = Set(ownFeedClaims.values.filter { !$0.proven }.map(\.seq))
        guard !unproven.isEmpty else { return }
        let key = author.key.publicKey
        // One candidate per claimed position per batch is checked: copies cost a decode, not a
        // signature check.
        var proven: Set<UInt64> = []
        var tried: Set<UInt64> = []
        for entry in entries {
            guard entry.origin == author.feed, unproven.contains(entry.seq), tried.insert(entry.seq).inserted else { continue }
            if entry.signed.isSigned(by: key) { proven.insert(entry.seq) }
        }
        for (peer, claim) in ownFeedClaims where proven.contains(claim.seq) { ownFeedClaims[peer]?.proven = true }
    }

    /// Resolves once local writes are accepted (at once when they already are), or the engine closes.
    public func waitUntilWritable() async {
        if ownFeedWritable || closed { return }
        await withCheckedContinuation { writableWaiters.append($0) }
    }

    /// Local writes may have become accepted or held: published if so, waiters resumed.
    private func resumeWritableWaiters() {
        if ownFeedWritable != published.withLockedValue({ $0.ownFeedWritable }) { publish() }
        guard ownFeedWritable, !writableWaiters.isEmpty else { return }
        let ready = writableWaiters
        writableWaiters = []
        for waiter in ready { waiter.resume() }
    }

    /// A session was established: the peer's hello told us what it holds of our feed, and
    /// what it takes (`features`).
    public func sessionEstablished(with peer: NodeID, peerVector: VersionVector, link: UInt64? = nil, features: Set<String> = []) {
        peerHoldsOwnFeed(peer, upTo: peerVector[author.feed], of: author.feed)
        if let link, features.contains(SyncFeature.checkpointViews) {
            checkpointServers[link] = peer
            askForCheckpoint()
        }
    }

    /// Closes the store (shutdown, after the sessions are closed). Anything arriving later is
    /// dropped unadvertised; writes are refused.
    public func close() {
        guard !closed else { return }
        closed = true
        finishSubscriptions()
        for watcher in changeWatchers.values { watcher.finish() }
        changeWatchers = [:]
        for watcher in eventWatchers.values { watcher.finish() }
        eventWatchers = [:]
        let waiting = writableWaiters
        writableWaiters = []
        for waiter in waiting { waiter.resume() }
        saveSnapshot()
        do {
            try store.markCleanShutdown()
            try store.close()
        } catch {
            logger.error("closing the store failed", metadata: ["reason": "\(error)"])
        }
    }

    /// Verifies origin certificates, then validates, commits, folds and fans out entries.
    public func ingest(_ entries: [SignedEntry], certificates: [OriginCertificate], from peer: NodeID) -> IngestResult {
        ingest(ReceivedBatch(decoding: entries), certificates: certificates, from: peer)
    }

    /// `ingest(_:certificates:from:)` of a batch its session decoded, and checked where the
    /// ledger would check entries one at a time (`ReceivedBatch.checkAhead`).
    public func ingest(_ batch: ReceivedBatch, certificates: [OriginCertificate], from peer: NodeID) -> IngestResult {
        guard !closed else { return IngestResult() }
        for certificate in certificates {
            switch trust.admit(certificate) {
            case .added: certificatesAdded(to: certificate.node, chain: certificate.chain)
            case .known: continue
            case .refused(let reason):
                logger.warning("origin certificate refused", metadata: ["peer": "\(peer)", "origin": "\(certificate.node)", "reason": "\(reason)"])
            }
        }
        // A relayed chain a CRL in force revokes is kept, flagged: its entries need a voucher.
        if !certificates.isEmpty, registry.setRevokedSigners(trust.revokedSigners) { rebuildViews(because: "a revoked certificate was relayed") }
        guard !batch.entries.isEmpty || !batch.malformed.isEmpty else { return IngestResult() }
        proveClaims(with: batch.entries)
        let keys = trust.keys
        let bases = baseSigners
        let result = registry.ingest(batch, signers: bases.isEmpty ? keys.lookup : { keys.lookup($0, bases: bases) })
        let events = events(for: result.accepted, folded: true)
        do {
            try recordDrops(store.append(result.accepted, events: events, committedAt: clock(), outboxLimit: outboxLimit))
            for fork in result.forks { try store.record(fork) }
        } catch {
            // Not committed: the entries must not be advertised. Rebuild from disk so memory
            // matches what is durable; peers will send them again.
            logger.critical("store write failed; reloading the registry from disk", metadata: ["reason": "\(error)"])
            if let reloaded = try? reloadFromStore() {
                author = reloaded.author.signing(with: author.key, signer: author.signer, validity: author.validity)
            }
            publish()
            return IngestResult()
        }
        metrics.ingested.increment(by: Int64(result.accepted.count))
        metrics.rejected.increment(by: Int64(result.rejected.count))
        metrics.forks.increment(by: Int64(result.forks.count))
        for fork in result.forks {
            logger.critical("fork detected: feed frozen", metadata: ["origin": "\(fork.origin)", "seq": "\(fork.seq)", "evidence": "\(fork)"])
        }
        // Forks and quotas are published with the entries, or on their own when none came.
        var changedWithoutEntries = !result.forks.isEmpty
        for origin in result.feedsAtQuota where !feedsAtQuota.contains(origin) {
            changedWithoutEntries = true
            feedsAtQuota.insert(origin)
            metrics.feedsAtQuota.increment()
            logger.critical(
                "feed reached its storage quota: its further entries are refused",
                metadata: ["origin": "\(origin)", "quota": "\(registry.feedQuota ?? 0)", "held": "\(registry.vector[origin])"])
        }
        if result.viewsNeedRebuild {
            rebuildViews(because: "entries from \(peer) changed what is shown (a cut, or entries that vouch for a revoked certificate's)")
        }
        for entry in result.accepted where entry.origin == author.feed { author.catchUp(to: entry) }
        let ownHead = registry.vector[author.feed]
        ownFeedClaims = ownFeedClaims.filter { $0.value.seq > ownHead }
        if let newest = result.accepted.map(\.clock).max() { author.observe(newest, now: clock()) }
        noteClocksAhead(of: result.accepted)
        committed(result.accepted, from: peer, alsoFromOthers: result.acceptedFromWaiting)
        if !events.isEmpty { eventsCommitted() }
        if result.accepted.isEmpty, changedWithoutEntries { publish() }
        return result
    }

    /// Entries dated beyond the threshold ahead of this node's clock: their origin's clock is
    /// wrong (or ours). Logged when an origin is first seen so, or further ahead than before.
    private func noteClocksAhead(of entries: [Entry]) {
        let now = Int64(clamping: clock())
        var newest: [NodeID: Int64] = [:]
        for entry in entries {
            let ahead = Int64(clamping: entry.clock.wallMillis) - now
            if ahead > maximumClockSkewMillis { newest[entry.origin.node] = max(newest[entry.origin.node] ?? 0, ahead) }
        }
        for (origin, ahead) in newest {
            metrics.datedAhead.increment()
            let known = datedAhead[origin]?.millis ?? 0
            datedAhead[origin] = (max(ahead, known), Date())
            if ahead > known + maximumClockSkewMillis {
                logger.warning(
                    "entries dated ahead of this node's clock: the origin's clock (or this node's) is wrong",
                    metadata: ["origin": "\(origin)", "ahead": "\(ClockOffset.text(ahead))"])
            }
        }
    }

    /// Resumes whoever waits for what the registry holds now (`waitUntilHolding`).
    func resumeHoldingWaiters() {
        let vector = registry.vector
        waiters.removeAll { target, continuation in
            guard vector.dominates(target) else { return false }
            continuation.resume()
            return true
        }
    }

    /// Resolves once this node holds at least `target` (for tests and `mineralctl sync --wait`).
    public func waitUntilHolding(_ target: VersionVector) async {
        if registry.vector.dominates(target) { return }
        await withCheckedContinuation { continuation in waiters.append((target, continuation)) }
    }

    /// A certificate verified elsewhere (this node's own after a rotation, a TLS peer's) joins
    /// its node's key history.
    private func remember(_ origin: NodeID, _ key: SignerKey, chain: [[UInt8]]) {
        switch trust.add(key, chain: chain, of: origin) {
        case .added: certificatesAdded(to: origin, chain: chain)
        case .known: break
        case .refused(let reason): logger.warning("certificate not kept", metadata: ["origin": "\(origin)", "reason": "\(reason)"])
        }
    }

    /// A new chain in an origin's key history: stored, and offered to peers (sessions send the
    /// origin's chains again before its next entries).
    private func certificatesAdded(to origin: NodeID, chain: [[UInt8]]) {
        publish()
        try? store.record(certificateChain: chain, of: origin)
        for link in links.values { link.certificatesChanged([origin]) }
    }

    /// Publishes newly committed entries: to sessions (each pushes what its peer lacks; the
    /// peer that sent them is told they are held, not offered them back), watchers and waiters.
    private func committed(_ entries: [Entry], from source: NodeID? = nil, alsoFromOthers: Set<EntryID> = []) {
        guard !entries.isEmpty else { return }
        let vector = registry.vector
        if vector.total >= snapshotVector.total + UInt64(snapshotInterval) { saveSnapshotInBackground() }
        for origin in Set(entries.map(\.origin)) { headIDs[origin] = registry.ledger.head(of: origin)?.id }
        metrics.held.record(Int64(vector.total))
        publish()
        resumeWritableWaiters()
        for link in links.values {
            guard link.peer == source else {
                link.offer(entries)
                continue
            }
            // The source sent these, except those that waited for a gap it filled: those it may lack.
            if alsoFromOthers.isEmpty {
                link.held(entries)
            } else {
                link.held(entries.filter { !alsoFromOthers.contains($0.id) })
                link.offer(entries.filter { alsoFromOthers.contains($0.id) })
            }
        }
        for observer in observers.values { observer.yield(entries) }
        resumeHoldingWaiters()
    }
}
