import Foundation
import Logging
import OpenSSLCrypto
import Registry
import RegistryStore
import SyncProtocol

/// Joining from a checkpoint (sync.proto, "Joining from a checkpoint"; views.proto,
/// "Checkpoint state"). A node with an empty store and `sync.join-from-checkpoint` asks one
/// peer that serves checkpoint states for its own, checks it whole, and starts from it: the
/// views at the checkpoint's vector V, every feed continuing after its entry at V. Refused, it
/// asks another peer; when none is left, or none has a checkpoint, it syncs every entry, as a
/// node that does not join from a checkpoint does. Every node serves the state of its latest
/// checkpoint, built when the checkpoint forms (from its views at V, kept since it signed V).
extension SyncEngine {
    /// What a session lists in its hello: with `awaits-checkpoint` while this node waits for one.
    public nonisolated var sessionFeatures: Set<String> {
        awaitingCheckpoint.withLockedValue { $0 } ? SyncFeature.all.union([SyncFeature.awaitsCheckpoint]) : SyncFeature.all
    }

    /// The first seq of `feed` this node holds: 1, or, for a feed it joined from a checkpoint,
    /// the one after the checkpoint's (it never held those before, and serves none of them).
    public nonisolated func firstHeld(of feed: NodeID) -> UInt64 {
        (historyStarts.withLockedValue { $0[feed] } ?? 0) + 1
    }

    /// The checkpoint state this node serves (empty: none), read without waiting for the engine.
    public nonisolated func servedCheckpointState() async -> [UInt8] {
        await store.servedCheckpointState() ?? []
    }

    /// Asks a peer that serves checkpoint states and has not yet sent one that was refused, or
    /// said it had none, unless one is being asked already. When every such peer connected has
    /// been tried, this node gives up and syncs every entry (the session `closing`, which sent
    /// a state refused, is not told: it closes).
    func askForCheckpoint(closing: UInt64? = nil) {
        guard case .waiting(let asked, let tried) = joinState, asked == nil else { return }
        scheduleJoinDeadline()
        let candidates = checkpointServers.filter { !tried.contains($0.value) && $0.key != closing }
        guard let (id, _) = candidates.min(by: { $0.key < $1.key }), let link = links[id] else {
            if !tried.isEmpty { giveUpCheckpoint(because: "no connected peer has a checkpoint state this node takes", closing: closing) }
            return
        }
        joinState = .waiting(asked: id, tried: tried)
        logger.info("asking for a checkpoint to join from", metadata: ["peer": "\(link.peer)"])
        link.checkpoint(.request)
        // A peer that stops sending for `checkpointWait` is given up on (another is asked);
        // one that keeps sending parts, however large its state, is waited for.
        checkpointProgress.withLockedValue { $0.ask(id, at: .now) }
        let (peer, first) = (link.peer, checkpointWait)
        Task { [weak self] in
            var wait = first
            while wait > .zero {
                try? await Task.sleep(for: wait)
                guard let self else { return }
                wait = await self.checkpointWaitLeft(link: id, peer: peer)
            }
        }
    }

    /// A part of the state arrived on `link`: if that is the session asked, the wait starts again.
    public nonisolated func checkpointProgressed(link id: UInt64) {
        checkpointProgress.withLockedValue { $0.partArrived(on: id, at: .now) }
    }

    /// How long the state asked of `link` may still take to progress. Zero when it is no longer
    /// asked for, or when it took too long already: then the peer is given up on, here, so that
    /// the state arriving meanwhile (`checkpointCheck`) is never given up on.
    private func checkpointWaitLeft(link id: UInt64, peer: NodeID) -> Duration {
        guard !closed, case .waiting(id?, var tried) = joinState else { return .zero }
        // Asking `link` started its wait (`askForCheckpoint`).
        let left = checkpointProgress.withLockedValue { $0.timeLeft(for: id, of: checkpointWait, at: .now) }
        guard left == .zero else { return left }
        tried.insert(peer)
        joinState = .waiting(asked: nil, tried: tried)
        links[id]?.checkpoint(.abandon)
        logger.warning("peer stopped sending its checkpoint state; asking another", metadata: ["peer": "\(peer)", "silent-for": "\(checkpointWait)"])
        askForCheckpoint()
        return .zero
    }

    /// Whether this node serves its checkpoint state to `peer` now: once per peer per
    /// `checkpointServingInterval` (a state can be large: a peer must not make this node send it again
    /// and again by reconnecting). Otherwise the peer is told there is none.
    public func mayServeCheckpoint(to peer: NodeID) -> Bool {
        let now = ContinuousClock.now
        checkpointsServed = checkpointsServed.filter { now - $0.value < Self.checkpointServingInterval }
        guard checkpointsServed[peer] == nil else { return false }
        checkpointsServed[peer] = now
        return true
    }

    /// Peers of releases that serve no checkpoints never answer: without one that does within
    /// `checkpointWait` of the first session, this node stops waiting and syncs every entry.
    func scheduleJoinDeadline() {
        guard !joinDeadlineScheduled else { return }
        joinDeadlineScheduled = true
        let wait = checkpointWait
        Task { [weak self] in
            try? await Task.sleep(for: wait)
            await self?.joinDeadlinePassed()
        }
    }

    private func joinDeadlinePassed() {
        guard case .waiting(nil, _) = joinState else { return }
        giveUpCheckpoint(because: "no peer that serves checkpoints was asked within \(checkpointWait)")
    }

    /// The session asked left before its answer: another is asked (or the next one to come).
    func checkpointLeft(_ id: UInt64) {
        checkpointServers[id] = nil
        guard case .waiting(let asked, let tried) = joinState, asked == id else { return }
        joinState = .waiting(asked: nil, tried: tried)
        askForCheckpoint()
    }

    /// The peer asked has no checkpoint state to serve.
    public func checkpointUnavailable(from peer: NodeID, link id: UInt64) {
        guard case .waiting(let asked, var tried) = joinState, asked == id else { return }
        tried.insert(peer)
        joinState = .waiting(asked: nil, tried: tried)
        logger.info("peer has no checkpoint to serve", metadata: ["peer": "\(peer)"])
        askForCheckpoint()
    }

    /// Stops waiting for a checkpoint: every session sends its vector, and peers send every entry.
    private func giveUpCheckpoint(because reason: String, closing: UInt64? = nil) {
        guard joinState != .off else { return }
        joinState = .off
        awaitingCheckpoint.withLockedValue { $0 = false }
        logger.notice("not joining from a checkpoint: syncing every entry instead", metadata: ["reason": "\(reason)"])
        for link in links.values where link.id != closing { link.checkpoint(.settled) }
    }

    /// What a checkpoint state is checked against: the key histories, revocations, policy and
    /// quorum in force when it arrived. `check` runs off the engine (a large state's signatures
    /// take a while, and the engine serves every session meanwhile).
    public struct CheckpointCheck: Sendable {
        let keys: OriginKeys
        let revoked: Set<SignerID>
        let policy: EntryPolicy
        let quorum: Set<ParticipantID>
        let started = ContinuousClock.now

        public func check(_ bytes: [UInt8]) -> Result<CheckpointState, CheckpointState.Problem> {
            let (keys, revoked) = (keys, revoked)
            return Result { () throws(CheckpointState.Problem) in
                try CheckpointState(
                    decoding: bytes, policy: policy, quorum: quorum, statementSigned: { keys.verifies($0, revoked: revoked) },
                    entrySigned: { entry in
                        guard case .keys(let candidates) = keys.lookup(entry) else { return false }
                        return candidates.contains { entry.signed.isSigned(by: $0) }
                    })
            }
        }
    }

    /// What to check the state asked of `link` against, now that all of it arrived (the peer is
    /// no longer waited for while it is checked); nil when it is no longer asked for.
    public func checkpointCheck(link id: UInt64) -> CheckpointCheck? {
        guard !closed, case .waiting(id?, _) = joinState else { return nil }
        checkpointProgress.withLockedValue { $0.stateArrived(on: id) }
        return CheckpointCheck(keys: trust.keys, revoked: trust.revokedSigners, policy: registry.policy, quorum: convergence.quorum)
    }

    /// `checkpointArrived(_:checked:from:link:)`, checking the state on the engine (tests).
    public func checkpointArrived(_ bytes: [UInt8], from peer: NodeID, link id: UInt64) -> String? {
        guard let check = checkpointCheck(link: id) else { return nil }
        return checkpointArrived(bytes, checked: check.check(bytes), started: check.started, from: peer, link: id)
    }

    /// The checkpoint state a peer sent, whole, and what its check found (`CheckpointCheck`).
    /// Returns nil when it was taken (or was not asked for any more), else what is wrong with it:
    /// the session closes with that reason.
    public func checkpointArrived(
        _ bytes: [UInt8], checked: Result<CheckpointState, CheckpointState.Problem>,
        started: ContinuousClock.Instant = .now, from peer: NodeID, link id: UInt64
    ) -> String? {
        guard !closed, case .waiting(let asked, var tried) = joinState, asked == id else { return nil }
        tried.insert(peer)
        joinState = .waiting(asked: nil, tried: tried)
        guard registry.vector.heads.isEmpty else {
            giveUpCheckpoint(because: "entries arrived before the checkpoint (from a peer that does not serve checkpoints, or written here)")
            return nil
        }
        let state: CheckpointState
        do {
            state = try checked.get()
        } catch {
            metrics.checkpointsRefused.increment()
            logger.warning("checkpoint state refused", metadata: ["peer": "\(peer)", "reason": "\(error)"])
            // A checkpoint of another quorum than ours is honest, only not enough here: the
            // peer is not closed for it. Anything else it sent does not check out.
            if case .missingCoSignatures = error {
                askForCheckpoint()
                return nil
            }
            askForCheckpoint(closing: id)
            return error.description
        }
        // This node's own feed is never taken from a checkpoint: it continues from its own store.
        if state.checkpoint.vector.heads.keys.contains(where: { $0.node == node }) {
            giveUpCheckpoint(because: "the checkpoint holds entries of this node's own feed: it must sync them")
            return nil
        }
        var start: MineralRegistry
        do {
            start = try MineralRegistry(joining: state, policy: registry.policy, waitingLimits: registry.waitingLimits)
            if start.settle(revokedSigners: trust.revokedSigners) == nil {
                logger.warning("the checkpoint shows entries a certificate revoked since signed; they stay shown (their history is not held here)")
            }
            newSnapshotGeneration()
            try store.join(from: bytes, checkpoint: state.checkpoint, snapshot: start.snapshot(since: VersionVector()))
        } catch {
            giveUpCheckpoint(because: "the checkpoint state could not be taken: \(error)")
            return nil
        }
        start.feedQuota = registry.feedQuota
        registry = start
        joined = state
        historyStarts.withLockedValue { $0 = Self.historyStarts(of: state) }
        snapshotVector = start.vector
        headIDs = Self.headIDs(of: registry.ledger)
        convergence.restore(state.checkpoint)
        convergenceReport.checkpoint = state.checkpoint
        convergenceReport.joinedFrom = state.checkpoint
        joinState = .off
        awaitingCheckpoint.withLockedValue { $0 = false }
        metrics.held.record(Int64(registry.vector.total))
        logger.notice(
            "joined from a checkpoint: syncing the entries after it",
            metadata: [
                "peer": "\(peer)", "entries": "\(state.checkpoint.vector.total)", "digest": "\(state.checkpoint.digest.hex)",
                "signed-by": "\(state.checkpoint.statements.map(\.statement.node.description).joined(separator: ","))",
                "took": "\(ContinuousClock.now - started)"
            ])
        publish()
        resumeHoldingWaiters()
        for link in links.values { link.checkpoint(.settled) }
        return nil
    }

    static func historyStarts(of state: CheckpointState?) -> [NodeID: UInt64] {
        Dictionary(uniqueKeysWithValues: (state?.bases ?? []).map { ($0.origin, $0.seq) })
    }

    /// Builds the checkpoint state to serve from the views at the checkpoint's vector, off the
    /// engine (it reads every entry about alerts from the store), and keeps it unless a newer
    /// one was asked for meanwhile.
    func buildServedState(_ checkpoint: ConvergenceTracker.Checkpoint, views: RegistryViews) {
        // Views that are not the ones the checkpoint signed (this node diverged) are not served:
        // every joining node would refuse them, and blame this node.
        guard views.digest == checkpoint.digest else {
            logger.error("the checkpoint is not served: this node's views at its vector differ from the signed ones")
            return
        }
        let (store, joined, logger, servedBuild) = (store, joined, logger, servedBuild)
        let vector = checkpoint.vector
        servedBuild.withLockedValue { $0 = vector }
        // One build at a time, in the order the checkpoints formed: an older one never
        // overwrites a newer (each checks it is still the latest before it saves).
        let previous = servedBuildTask
        servedBuildTask = Task.detached(priority: .utility) {
            await previous?.value
            guard servedBuild.withLockedValue({ $0 == vector }) else { return }
            do {
                let alerts = try store.entries(subjectsFrom: Entry.alertSubjectStart, below: Entry.alertSubjectEnd) + (joined?.alertEntries ?? [])
                var bases: [SignedEntry] = []
                for (feed, seq) in vector.heads.sorted(by: { $0.key < $1.key }) {
                    if let held = try store.entries(of: feed, in: seq...seq, limit: 1).first {
                        bases.append(held)
                    } else if let base = joined?.bases.first(where: { $0.origin == feed && $0.seq == seq }) {
                        bases.append(base.signed)
                    } else {
                        logger.warning("the checkpoint is not served: this node lacks an entry it covers", metadata: ["feed": "\(feed)", "seq": "\(seq)"])
                        return
                    }
                }
                let state = try CheckpointState.encode(checkpoint, views: views.snapshot(alertEntries: alerts), bases: bases)
                guard servedBuild.withLockedValue({ $0 == vector }) else { return }
                try store.saveServedCheckpointState(state)
                logger.info("checkpoint state of \(vector.total) entries served from now on", metadata: ["bytes": "\(state.count)"])
            } catch {
                logger.error("the checkpoint state could not be built to serve", metadata: ["reason": "\(error)"])
            }
        }
    }
}

// MARK: the history archive

extension SyncEngine {
    public enum ArchiveRefusal: Error, Sendable, CustomStringConvertible {
        case noCheckpoint
        case joined
        case failed(String)

        public var description: String {
            switch self {
            case .noCheckpoint:
                "no checkpoint yet: the archive holds the history below the latest checkpoint (a node of every participant of the quorum must sign the same views)"
            case .joined: "this node joined from a checkpoint: it holds no history before it, so it cannot archive it (a node that holds every entry can)"
            case .failed(let reason): reason
            }
        }
    }

    /// Writes the history below the latest checkpoint to `path` (`HistoryArchive`), read from
    /// the store page by page without holding the engine. The node keeps all of it.
    public nonisolated func exportArchive(to path: String) throws(ArchiveRefusal) -> HistoryArchive.Summary {
        let state = snapshot
        guard let checkpoint = state.convergence.checkpoint else { throw .noCheckpoint }
        guard historyStarts.withLockedValue({ $0.isEmpty }) else { throw .joined }
        let store = store
        do {
            return try HistoryArchive.write(to: path, checkpoint: checkpoint, chains: state.chains) { emit in
                for (feed, head) in checkpoint.vector.heads.sorted(by: { $0.key < $1.key }) {
                    var next: UInt64 = 1
                    while next <= head {
                        let page = try store.entries(of: feed, in: next...head, limit: 10_000)
                        guard !page.isEmpty else { throw ArchiveRefusal.failed("the store lacks \(feed)#\(next), which the checkpoint covers") }
                        try emit(page)
                        next += UInt64(page.count)
                    }
                }
            }
        } catch let refusal as ArchiveRefusal {
            throw refusal
        } catch {
            throw .failed("\(error)")
        }
    }
}

extension SyncEngine {
    /// Drops the history below the latest checkpoint from the store, once `archive` (a file
    /// `exportArchive` wrote) checks out against this node's trust anchors and covers exactly
    /// that checkpoint. Afterwards the node is as one that joined from it: it shows the same
    /// views, serves and holds only what follows. Only with `history.drop-archived`.
    public nonisolated func dropArchivedHistory(verifiedBy archive: String) async throws(ArchiveRefusal) -> (dropped: Int, checkpoint: UInt64) {
        guard mayDropArchivedHistory else {
            throw .failed("history.drop-archived is false in this node's config: it keeps every entry (set it to true and restart to allow this)")
        }
        let state = snapshot
        guard let checkpoint = state.convergence.checkpoint else { throw .noCheckpoint }
        let summary: HistoryArchive.Summary
        do { summary = try HistoryArchive.verify(path: archive, trustStore: state.trustStore, policy: await registryPolicy) } catch {
            throw .failed("\(archive): \(error)")
        }
        guard summary.vector == checkpoint.vector, summary.digest == checkpoint.digest else {
            throw .failed(
                "\(archive) holds the history below a checkpoint of \(summary.vector.total) entries, not the latest (\(checkpoint.vector.total)): export it again"
            )
        }
        return try await dropHistory(below: checkpoint)
    }

    var registryPolicy: EntryPolicy { registry.policy }

    private func dropHistory(below checkpoint: ConvergenceTracker.Checkpoint) async throws(ArchiveRefusal) -> (dropped: Int, checkpoint: UInt64) {
        guard convergence.checkpoint == checkpoint else { throw .failed("a newer checkpoint formed meanwhile: export it again") }
        // The state this node serves for that checkpoint is what it starts from afterwards.
        let check = CheckpointCheck(
            keys: trust.keys, revoked: trust.revokedSigners, policy: registry.policy,
            quorum: Set(checkpoint.statements.map(\.statement.node.participant)))
        guard let served = await store.servedCheckpointState(), case .success(let start) = check.check(served),
            start.checkpoint.vector == checkpoint.vector, start.checkpoint.digest == checkpoint.digest
        else {
            throw .failed("this node does not serve the state of its latest checkpoint yet (it is built when the checkpoint forms): try again shortly")
        }
        let digest = registry.views.digest
        let dropped: Int
        newSnapshotGeneration()
        do { dropped = try store.dropHistory(below: checkpoint.vector, startingFrom: served) } catch { throw .failed("\(error)") }
        do { try reloadFromStore() } catch {
            throw .failed("the history was dropped, but the registry could not be read back: \(error) (restart the node)")
        }
        if registry.views.digest != digest {
            logger.critical(
                "the views after dropping the archived history differ from those before: restart the node",
                metadata: ["before": "\(digest.hex)", "after": "\(registry.views.digest.hex)"])
        }
        logger.notice("archived history dropped from the store", metadata: ["entries": "\(dropped)", "checkpoint": "\(checkpoint.vector.total)"])
        saveSnapshotNow()
        publish()
        return (dropped, checkpoint.vector.total)
    }
}
