import AdminAPI
import Foundation
import Registry
import SyncNode

/// `status`, `peers` and `minerals`: what the node is, whom it talks to, what it knows of.
/// Reads the engine's published snapshot and the peers' health, waiting for the engine only on
/// the first read after a quiet spell (`SyncEngine.currentSnapshot`), and costs the same
/// whatever the history behind it (the digest is kept with the views).
struct StatusHandler: Sendable {
    let engine: SyncEngine
    let node: SyncNode
    let catalogue: MineralCatalogue
    let startedAt: Date
    let certificateExpiry: @Sendable () -> Date
    let configuredPeers: @Sendable () -> Int
    let hooks: @Sendable () async -> [HookItem]?

    func register(in router: inout AdminRouter) {
        router.on(AdminAPI.status) { _, _ in await status() }
        router.on(AdminAPI.peers) { _, _ in peers() }
        router.on(AdminAPI.minerals) { _, _ in
            catalogue.sorted.map { MineralItem(id: $0.id.rawValue, name: $0.name, sources: $0.sources, hsCodes: $0.hsCodes) }
        }
    }

    func status() async -> StatusResponse {
        let state = await engine.currentSnapshot()
        let (views, vector, cuts, trust) = (state.views, state.vector, state.cuts, state.trustStore)
        let connected = Set(node.peers.connectedPeers)
        let health = node.peers.health
        var response = StatusResponse(
            participant: engine.node.participant.rawValue, node: engine.node.description,
            uptimeSeconds: Int(Date().timeIntervalSince(startedAt)), entries: Int(vector.total),
            versionVector: AdminPresenter.vector(vector), viewDigest: state.viewDigest.hex, writable: state.ownFeedWritable,
            feed: state.writingFeed.description,
            peersConnected: connected.count, peersConfigured: configuredPeers(),
            peers: health.map { AdminPresenter.peer($0, local: vector, connected: connected.contains($0.peer)) },
            securityEvents: AdminPresenter.clockEvents(health, datedAhead: state.datedAhead, threshold: engine.maximumClockSkewMillis)
                + AdminPresenter.hiddenFeedEvents(state.hiddenFeeds, cuts: cuts)
                + AdminPresenter.securityEvents(
                    forks: state.forks, refusals: node.peers.refusals, health: health, views: views,
                    feedsAtQuota: state.feedsAtQuota, feedQuota: state.feedQuota),
            certificateExpiresAt: AdminJSON.timestamp(certificateExpiry()),
            keyHistory: state.ownKeyHistory.map { AdminPresenter.keyHistoryItem($0, current: $0.id == state.currentSigner) },
            revocationLists: trust.crls.map { crl in
                RevocationListItem(
                    participants: trust.participants(issuing: crl), issuer: crl.issuer, issuedAt: AdminJSON.timestamp(crl.lastUpdate),
                    nextUpdate: crl.nextUpdate.map(AdminJSON.timestamp))
            },
            feedsCut: state.cutEntries.map { by, seq, cut in
                FeedCutItem(
                    feed: cut.feed.description, seq: cut.seq, entryID: cut.entryID?.hex, by: "\(by)#\(seq)", reason: cut.reason,
                    inForce: cuts[cut.feed] == cut, heldAfterCut: vector[cut.feed] > cut.seq ? vector[cut.feed] - cut.seq : 0)
            },
            clockWarning: PeerHealth.clockWarning(health, threshold: engine.maximumClockSkewMillis))
        let convergence = state.convergence
        response.agreements = convergence.agreements.sorted { $0.key < $1.key }.map { participant, agreement in
            AgreementItem(
                participant: participant.rawValue, node: agreement.node.description, entries: agreement.vector.total,
                versionVector: AdminPresenter.vector(agreement.vector), digest: agreement.digest.hex,
                signedAt: AdminJSON.timestamp(Date(timeIntervalSince1970: Double(agreement.signedAtMillis) / 1000)))
        }
        func item(_ checkpoint: ConvergenceTracker.Checkpoint) -> CheckpointItem {
            CheckpointItem(
                entries: checkpoint.vector.total, digest: checkpoint.digest.hex,
                signedBy: checkpoint.statements.map(\.statement.node.description))
        }
        response.checkpoint = convergence.checkpoint.map(item)
        response.joinedFrom = convergence.joinedFrom.map(item)
        response.hooks = await hooks()
        response.securityEvents += convergence.divergences.sorted { $0.key < $1.key }.map { node, divergence in
            SecurityEvent(kind: "views-diverge", subject: node.description, detail: divergence.description, at: nil)
        }
        return response
    }

    func peers() -> [PeerItem] {
        let vector = engine.snapshot.vector
        let connected = Set(node.peers.connectedPeers)
        return node.peers.health.map { AdminPresenter.peer($0, local: vector, connected: connected.contains($0.peer)) }
    }
}
