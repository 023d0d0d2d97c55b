import OpenSSLCrypto

/// An entry as it travels and is stored: the author's body bytes and its signature over them.
/// The body is never re-encoded; everything that identifies or authenticates an entry is
/// computed over these exact bytes.
public struct SignedEntry: Sendable, Hashable {
    public let body: [UInt8]
    public let signature: [UInt8]

    public init(body: [UInt8], signature: [UInt8]) {
        self.body = body
        self.signature = signature
    }

    /// Domain separation: an entry signature can never be mistaken for a signature on anything else.
    static let signatureContext = Array("mineral-sync/entry/v1".utf8) + [0]
    static let linkContext = Array("mineral-sync/link/v1".utf8) + [0]

    /// What the author signs.
    public static func signedMessage(body: [UInt8]) -> [UInt8] {
        signatureContext + body
    }

    /// The signed bytes: body and signature (what a feed's storage quota and frame sizes count).
    public var byteCount: Int { body.count + signature.count }

    /// SHA-256 of the body: the entry's id.
    public var id: EntryID { SHA256.hash(body) }

    /// The hash the next entry of the feed carries in `previous`: it covers body *and*
    /// signature, so a run of entries is authenticated by the signature of its newest entry.
    public var link: SHA256Digest {
        var hasher = SHA256Hasher()
        hasher.update(Self.linkContext)
        hasher.update(bigEndian: UInt64(body.count))
        hasher.update(body)
        hasher.update(signature)
        return hasher.finalize()
    }

    public func isSigned(by key: PublicKey) -> Bool {
        key.isValidSignature(signature, for: Self.signedMessage(body: body))
    }
}
