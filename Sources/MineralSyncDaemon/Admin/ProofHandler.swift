import AdminAPI
import Foundation
import OpenSSLCrypto
import Registry
import SyncNode

/// `proof`: the latest checkpoint with every participant's signed statement and the
/// certificate chain that signed it, so that an auditor verifies it with the openssl CLI alone.
struct ProofHandler: Sendable {
    let engine: SyncEngine

    func register(in router: inout AdminRouter) {
        router.on(AdminAPI.proof) { _, _ in try proof() }
        router.on(AdminAPI.exportArchive) { _, request in try await archive(to: request.path) }
        router.on(AdminAPI.dropArchivedHistory) { _, request in try await drop(verifiedBy: request.path) }
    }

    /// `archive drop`: the history below the latest checkpoint leaves the store, once the
    /// archive at `path` checks out and covers it.
    private func drop(verifiedBy path: String) async throws(AdminFailure) -> ArchiveDropResponse {
        guard path.hasPrefix("/") else { throw .validation("path: \"\(path)\" must be an absolute path to an archive") }
        do {
            let (dropped, checkpoint) = try await engine.dropArchivedHistory(verifiedBy: path)
            return ArchiveDropResponse(path: path, dropped: dropped, checkpoint: checkpoint)
        } catch .noCheckpoint {
            throw .notFound(SyncEngine.ArchiveRefusal.noCheckpoint.description)
        } catch {
            throw AdminFailure(.conflict, "refused", error.description)
        }
    }

    /// `archive export`: the history below the latest checkpoint, written by the daemon (it
    /// reads its store) off the event loop.
    private func archive(to path: String) async throws(AdminFailure) -> ArchiveResponse {
        guard path.hasPrefix("/"), !path.hasSuffix("/"), !path.contains("\0") else {
            throw .validation("path: \"\(path)\" must be an absolute path to a file")
        }
        let engine = engine
        let outcome = await Task.detached(priority: .utility) { () -> Result<HistoryArchive.Summary, SyncEngine.ArchiveRefusal> in
            Result { () throws(SyncEngine.ArchiveRefusal) in try engine.exportArchive(to: path) }
        }.value
        switch outcome {
        case .success(let summary):
            return ArchiveResponse(
                path: path, entries: summary.entries, bytes: summary.bytes, versionVector: AdminPresenter.vector(summary.vector),
                digest: summary.digest.hex, signedBy: summary.signedBy.map(\.description))
        case .failure(.noCheckpoint): throw .notFound(SyncEngine.ArchiveRefusal.noCheckpoint.description)
        case .failure(.joined): throw AdminFailure(.conflict, "joined", SyncEngine.ArchiveRefusal.joined.description)
        case .failure(let refusal): throw AdminFailure(.internalServerError, "internal", refusal.description)
        }
    }

    private func proof() throws(AdminFailure) -> ProofResponse {
        let state = engine.snapshot
        guard let checkpoint = state.convergence.checkpoint else {
            throw .notFound("no checkpoint yet: a node of every participant of the quorum must sign the same views (statements go out every proofs.interval)")
        }
        let statements = checkpoint.statements.map { signed in
            let statement = signed.statement
            let chain = state.chains[statement.node]?.first { chain in chain.first.map(SHA256.hash) == signed.signer } ?? []
            let certificates = chain.compactMap { try? Certificate(der: $0) }
            let algorithm = (try? certificates.first?.publicKey.algorithm).map { $0 == .ed25519 ? "ed25519" : "ecdsa-p256-sha256" } ?? "unknown"
            return ProofStatement(
                participant: statement.node.participant.rawValue, node: statement.node.description,
                signedAt: AdminJSON.timestamp(Date(timeIntervalSince1970: Double(statement.signedAtMillis) / 1000)),
                statement: Data(signed.bytes).base64EncodedString(), signature: Data(signed.signature).base64EncodedString(),
                certificateChain: certificates.map(\.pemRepresentation).joined(), algorithm: algorithm)
        }
        return ProofResponse(
            versionVector: AdminPresenter.vector(checkpoint.vector), entries: checkpoint.vector.total,
            digest: checkpoint.digest.hex, signatureContext: "mineral-sync/statement/v1", statements: statements)
    }
}
