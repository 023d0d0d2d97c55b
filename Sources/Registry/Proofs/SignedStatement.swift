import Foundation
import MineralWire
import OpenSSLCrypto
import SwiftProtobuf

/// A `ViewStatement` with its encoding, exactly as signed, the certificate that signed it and
/// the signature. Decoded from a peer, it is checked for size and form here; its signature is
/// checked by whoever knows the node's certificates (`isSigned(by:)`).
public struct SignedStatement: Sendable, Hashable {
    public let statement: ViewStatement
    /// The encoded `ViewStatement` the signature covers.
    public let bytes: [UInt8]
    public let signer: SignerID
    public let signature: [UInt8]

    /// Domain separation: a statement signature is never an entry's, nor anything else's.
    static let context = Array("mineral-sync/statement/v1".utf8) + [0]
    /// Bounds on what a peer may send, checked before anything is decoded.
    public static let maximumBytes = 1 << 20
    public static let maximumSignatureBytes = 256
    public static let maximumFeeds = 10_000

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case tooLarge(String)
        case malformed(String)

        public var description: String {
            switch self {
            case .tooLarge(let what): "a view statement is too large: \(what)"
            case .malformed(let what): "a view statement is malformed: \(what)"
            }
        }
    }

    /// What the signer signs: the context, then the statement's bytes.
    public static func signedMessage(_ bytes: [UInt8]) -> [UInt8] { context + bytes }

    /// Encodes and signs `statement` with the key of the certificate `signer` names.
    public static func signing(_ statement: ViewStatement, key: PrivateKey, signer: SignerID) throws(CryptoError) -> SignedStatement {
        var wire = Mineralsync_V1_ViewStatement()
        wire.node = statement.node.wire
        wire.vector = statement.vector.wire
        wire.digest = Data(statement.digest.bytes)
        wire.signedAtMillis = statement.signedAtMillis
        // Encoding a message built here cannot fail.
        let bytes: [UInt8] = (try? wire.serializedBytes()) ?? []
        return SignedStatement(statement: statement, bytes: bytes, signer: signer, signature: try key.sign(signedMessage(bytes)))
    }

    private init(statement: ViewStatement, bytes: [UInt8], signer: SignerID, signature: [UInt8]) {
        self.statement = statement
        self.bytes = bytes
        self.signer = signer
        self.signature = signature
    }

    /// A statement as a peer sent it, checked for size and form (not for its signature).
    public init(wire: Mineralsync_V1_SignedStatement) throws(Problem) {
        guard wire.statement.count <= Self.maximumBytes else { throw .tooLarge("\(wire.statement.count) bytes") }
        guard wire.signature.count <= Self.maximumSignatureBytes else { throw .tooLarge("a signature of \(wire.signature.count) bytes") }
        guard let signer = SHA256Digest(bytes: wire.signer) else { throw .malformed("the signer is not 32 bytes") }
        let decoded: Mineralsync_V1_ViewStatement
        do { decoded = try Mineralsync_V1_ViewStatement(serializedBytes: wire.statement) } catch { throw .malformed("\(error)") }
        guard decoded.vector.heads.count <= Self.maximumFeeds else { throw .tooLarge("a vector of \(decoded.vector.heads.count) feeds") }
        let node: NodeID
        do { node = try NodeID(wire: decoded.node) } catch { throw .malformed("its node: \(error)") }
        guard node.segment == 0 else { throw .malformed("it names a segment (\(node)), not a node") }
        guard let digest = SHA256Digest(bytes: decoded.digest) else { throw .malformed("the digest is not 32 bytes") }
        var heads: [NodeID: UInt64] = [:]
        for head in decoded.vector.heads {
            let feed: NodeID
            do { feed = try NodeID(wire: head.node) } catch { throw .malformed("its vector: \(error)") }
            guard heads.updateValue(head.seq, forKey: feed) == nil, head.seq > 0 else { throw .malformed("its vector names \(feed) twice, or at 0") }
        }
        self.init(
            statement: ViewStatement(node: node, vector: VersionVector(heads), digest: digest, signedAtMillis: decoded.signedAtMillis),
            bytes: [UInt8](wire.statement), signer: signer, signature: [UInt8](wire.signature))
    }

    public var wire: Mineralsync_V1_SignedStatement {
        var wire = Mineralsync_V1_SignedStatement()
        wire.statement = Data(bytes)
        wire.signer = Data(signer.bytes)
        wire.signature = Data(signature)
        return wire
    }

    public func isSigned(by key: PublicKey) -> Bool {
        key.isValidSignature(signature, for: Self.signedMessage(bytes))
    }
}
