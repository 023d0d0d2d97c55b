internal import COpenSSL

/// A verification key (an `EVP_PKEY` this object holds one reference to).
public final class PublicKey: @unchecked Sendable, Hashable {
    package let pointer: OpaquePointer
    public let algorithm: KeyAlgorithm
    /// The DER SubjectPublicKeyInfo: what identifies the key, compares and hashes it.
    public let subjectPublicKeyInfo: [UInt8]

    init(retaining pointer: OpaquePointer, algorithm: KeyAlgorithm) {
        self.pointer = pointer
        self.algorithm = algorithm
        subjectPublicKeyInfo = derEncoding(of: pointer, i2d_PUBKEY)
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Reads a DER SubjectPublicKeyInfo.
    public convenience init(subjectPublicKeyInfo der: [UInt8]) throws(CryptoError) {
        let key = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let key else { throw .openSSL(.capture("d2i_PUBKEY")) }
        let algorithm: KeyAlgorithm
        do { algorithm = try keyAlgorithm(of: key) } catch {
            EVP_PKEY_free(key)
            throw error
        }
        self.init(retaining: key, algorithm: algorithm)
    }

    /// True when `signature` is a valid signature of `message` by this key. P-256 signatures
    /// must be low-S: the high-S twin of a valid signature is refused, so that no relay can
    /// change an entry's bytes without invalidating it.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        if algorithm == .p256, !ECDSASignature.isLowS(signature) { return false }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        let md: OpaquePointer? = algorithm == .ed25519 ? nil : SHA256.md
        ERR_clear_error()
        defer { ERR_clear_error() }
        guard EVP_DigestVerifyInit(context, nil, md, nil, pointer) == 1 else { return false }
        return signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, msg.baseAddress, msg.count) == 1
            }
        }
    }

    public static func == (a: PublicKey, b: PublicKey) -> Bool {
        a.subjectPublicKeyInfo == b.subjectPublicKeyInfo
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(subjectPublicKeyInfo)
    }
}
