import OpenSSLCrypto

/// "At vector V my view digest is D", as a node signs it (views.proto, "Convergence proofs").
public struct ViewStatement: Sendable, Hashable {
    public let node: NodeID
    /// The vector the node's views show.
    public let vector: VersionVector
    public let digest: SHA256Digest
    public let signedAtMillis: UInt64

    public init(node: NodeID, vector: VersionVector, digest: SHA256Digest, signedAtMillis: UInt64) {
        self.node = node
        self.vector = vector
        self.digest = digest
        self.signedAtMillis = signedAtMillis
    }
}
