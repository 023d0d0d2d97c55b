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
            return ProofStatement(participant: statement.node.participant.rawValue, node: statement.node.description,
                                  signedAt: AdminJSON.timestamp(Date(timeIntervalSince1970: Double(statement.signedAtMillis) / 1000)),
                                  statement: Data(signed.bytes).base64EncodedString(), signature: Data(signed.signature).base64EncodedString(),
                                  certificateChain: certificates.map(\.pemRepresentation).joined(), algorithm: algorithm)
        }
        return ProofResponse(versionVector: AdminPresenter.vector(checkpoint.vector), entries: checkpoint.vector.total,
                             digest: checkpoint.digest.hex, signatureContext: "mineral-sync/statement/v1", statements: statements)
    }
}
