import Foundation
import Logging
import OpenSSLCrypto
import Registry
import RegistryStore

/// Convergence proofs (views.proto): this node signs "at vector V my view digest is D" each
/// round its views changed, and whenever a peer's statement names the vector its views are at;
/// statements from peers are checked against their node's certificates, compared (`ConvergenceTracker`)
/// and relayed; a divergence is a security event naming both digests; a checkpoint is kept.
extension SyncEngine {
    /// Statements one source may make this node check per round (more wait for the next round:
    /// a node relays at most one per node of the alliance, and only new ones).
    static let statementsPerRound = 256

    /// Signs and sends this node's statement every `interval`, when its views changed since the
    /// last one. Returns when the calling task is cancelled.
    public func proveConvergence(every interval: Duration) async {
        while !Task.isCancelled {
            statementsTaken = [:]
            signStatement()
            try? await Task.sleep(for: interval)
        }
    }

    /// Signs the views' vector and digest, unless this node's last statement names that vector.
    /// Returns the statement signed.
    @discardableResult
    public func signStatement() -> SignedStatement? {
        let vector = registry.views.folded
        // An empty registry has nothing to prove.
        guard !closed, !vector.heads.isEmpty, convergenceReport.own?.statement.vector != vector, let signer = author.signer else { return nil }
        let statement = ViewStatement(node: node, vector: vector, digest: currentDigest(), signedAtMillis: clock())
        let signed: SignedStatement
        do { signed = try SignedStatement.signing(statement, key: author.key, signer: signer) } catch {
            logger.error("the view statement could not be signed", metadata: ["reason": "\(error)"])
            return nil
        }
        convergenceReport.own = signed
        signedViews = (vector, registry.views)
        let outcomes = convergence.recordOwn(signed)
        for outcome in outcomes { note(outcome) }
        checkpointChanged()
        publish()
        for link in links.values { link.statements([signed]) }
        return signed
    }

    /// Statements a peer sent: each checked against its node's certificates (and refused if a
    /// CRL revokes the one that signed it), compared, and relayed to the other peers if new.
    public func takeStatements(_ statements: [SignedStatement], from peer: NodeID) {
        guard !closed else { return }
        var fresh: [SignedStatement] = []
        var refused = 0
        for signed in statements {
            // What is already held costs nothing: no signature check, no count.
            if convergence.holds(signed) { continue }
            let taken = statementsTaken[peer, default: 0]
            guard taken < Self.statementsPerRound else { break }
            statementsTaken[peer] = taken + 1
            guard trust.keys.verifies(signed, revoked: trust.revokedSigners) else {
                refused += 1
                continue
            }
            let outcome = convergence.receive(signed, current: registry.views.folded) { currentDigest() }
            if outcome == .known { continue }
            note(outcome)
            fresh.append(signed)
        }
        if refused > 0 {
            metrics.statementsRefused.increment(by: Int64(refused))
            logger.warning(
                "view statements refused: not signed by a certificate of the node they name, or by a revoked one",
                metadata: ["peer": "\(peer)", "count": "\(refused)"])
        }
        guard !fresh.isEmpty else { return }
        checkpointChanged()
        publish()
        for link in links.values where link.peer != peer { link.statements(fresh) }
        // A peer at the vector this node's views are at, which this node has not signed yet:
        // sign it now, so that the alliance agrees without waiting a round.
        if fresh.contains(where: { $0.statement.vector == registry.views.folded }) { signStatement() }
    }

    /// The views' digest, computed once per vector (statements compare with it, one after
    /// another: a peer's burst must not cost a digest each).
    private func currentDigest() -> SHA256Digest {
        let vector = registry.views.folded
        if let (at, digest) = digestMemo, at == vector { return digest }
        let digest = registry.views.digest
        digestMemo = (vector, digest)
        return digest
    }

    /// Every statement held (the latest per node), for a session that just began.
    public var statementsToShare: [SignedStatement] {
        convergence.latest.sorted { $0.key < $1.key }.map(\.value)
    }

    private func note(_ outcome: ConvergenceTracker.Outcome) {
        switch outcome {
        case .known, .kept:
            break
        case .agreed(let agreement):
            let before = convergenceReport.agreements[agreement.node.participant]
            convergenceReport.agreements[agreement.node.participant] = agreement
            convergenceReport.divergences[agreement.node] = nil
            if before?.vector != agreement.vector {
                logger.info(
                    "views agree",
                    metadata: [
                        "node": "\(agreement.node)", "entries": "\(agreement.vector.total)",
                        "digest": "\(agreement.digest.hex)"
                    ])
            }
        case .diverged(let divergence):
            // Once per node and vector: a node repeating its statement repeats no log line.
            guard convergenceReport.divergences[divergence.node] != divergence else { return }
            convergenceReport.divergences[divergence.node] = divergence
            metrics.divergences.increment()
            logger.critical(
                "security event: views differ at the same vector (a bug, or tampering)",
                metadata: [
                    "node": "\(divergence.node)", "entries": "\(divergence.vector.total)",
                    "their-digest": "\(divergence.theirs.hex)", "our-digest": "\(divergence.ours.hex)"
                ])
        }
    }

    /// Persists and announces a checkpoint the tracker found, and serves it from now on.
    private func checkpointChanged() {
        guard let checkpoint = convergence.checkpoint, checkpoint != convergenceReport.checkpoint else { return }
        convergenceReport.checkpoint = checkpoint
        do { try store.saveCheckpoint(checkpoint) } catch {
            logger.error("the checkpoint could not be saved", metadata: ["reason": "\(error)"])
        }
        let views =
            registry.views.folded == checkpoint.vector
            ? registry.views
            : signedViews.flatMap { $0.vector == checkpoint.vector ? $0.views : nil }
        if let views { buildServedState(checkpoint, views: views) }
        logger.notice(
            "checkpoint at \(checkpoint.vector.total) entries: a node of every participant signed the same views",
            metadata: [
                "digest": "\(checkpoint.digest.hex)",
                "signed-by": "\(checkpoint.statements.map(\.statement.node.description).joined(separator: ","))"
            ])
    }
}
