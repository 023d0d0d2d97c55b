internal import COpenSSL

/// A node's signing key (an `EVP_PKEY` this object owns). Signing is safe from several threads:
/// each call uses its own digest context.
public final class PrivateKey: @unchecked Sendable {
    package let pointer: OpaquePointer
    public let algorithm: KeyAlgorithm

    init(takingOwnership pointer: OpaquePointer) throws(CryptoError) {
        self.pointer = pointer
        do {
            self.algorithm = try keyAlgorithm(of: pointer)
        } catch {
            EVP_PKEY_free(pointer)
            throw error
        }
    }

    deinit { EVP_PKEY_free(pointer) }

    /// A fresh key from OpenSSL's default random source.
    public static func generate(_ algorithm: KeyAlgorithm = .ed25519) throws(CryptoError) -> PrivateKey {
        let name = algorithm == .ed25519 ? "ED25519" : "EC"
        guard let context = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw .openSSL(.capture("EVP_PKEY_CTX_new_from_name(\(name))"))
        }
        defer { EVP_PKEY_CTX_free(context) }
        try openSSLCheck("EVP_PKEY_keygen_init") { EVP_PKEY_keygen_init(context) }
        if algorithm == .p256 {
            try openSSLCheck("EVP_PKEY_CTX_set_group_name") { EVP_PKEY_CTX_set_group_name(context, "P-256") }
        }
        var key: OpaquePointer? = nil
        try openSSLCheck("EVP_PKEY_generate") { EVP_PKEY_generate(context, &key) }
        return try PrivateKey(takingOwnership: key!)
    }

    /// An Ed25519 key from its 32-byte seed (RFC 8032). For test vectors; node keys come from
    /// `generate` or a PEM file.
    public convenience init(ed25519Seed seed: [UInt8]) throws(CryptoError) {
        guard seed.count == 32 else { throw .unsupportedKeyAlgorithm("Ed25519 seed of \(seed.count) bytes") }
        let key = try openSSLPointer("EVP_PKEY_new_raw_private_key") {
            seed.withUnsafeBufferPointer { EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) }
        }
        try self.init(takingOwnership: key)
    }

    /// Reads a PEM private key (PKCS#8 or traditional), refusing a file group or others can read.
    public convenience init(pemFile path: String) throws(CryptoError) {
        try PEMSource.checkPrivateKeyPermissions(path)
        try self.init(pem: try PEMSource.readFile(path), source: path)
    }

    public convenience init(pem: [UInt8], source: String = "private key") throws(CryptoError) {
        let key = try withMemoryBIO(pem) { (bio) throws(CryptoError) -> OpaquePointer in
            ERR_clear_error()
            guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
                _ = OpenSSLErrorQueue.drain()
                throw .malformedPEM(source: source, expected: "private key")
            }
            return key
        }
        try self.init(takingOwnership: key)
    }

    /// PKCS#8 PEM, unencrypted: the caller decides where it may be written (with mode 0600).
    public func pemRepresentation() throws(CryptoError) -> String {
        let bytes = try collectingMemoryBIO { PEM_write_bio_PrivateKey($0, pointer, nil, nil, 0, nil, nil) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public var publicKey: PublicKey {
        // EVP_PKEY carries both halves; the public wrapper takes its own reference.
        EVP_PKEY_up_ref(pointer)
        return PublicKey(retaining: pointer, algorithm: algorithm)
    }

    /// Signs `message`. Ed25519 signs the message itself (PureEdDSA); P-256 signs its SHA-256 and
    /// returns a DER signature normalised to low-S.
    public func sign(_ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw .openSSL(.capture("EVP_MD_CTX_new")) }
        defer { EVP_MD_CTX_free(context) }
        let md: OpaquePointer? = algorithm == .ed25519 ? nil : SHA256.md
        try openSSLCheck("EVP_DigestSignInit") { EVP_DigestSignInit(context, nil, md, nil, pointer) }
        var length = 0
        try openSSLCheck("EVP_DigestSign(length)") {
            message.withUnsafeBufferPointer { EVP_DigestSign(context, nil, &length, $0.baseAddress, $0.count) }
        }
        var signature = [UInt8](repeating: 0, count: length)
        try openSSLCheck("EVP_DigestSign") {
            signature.withUnsafeMutableBufferPointer { out in
                message.withUnsafeBufferPointer { EVP_DigestSign(context, out.baseAddress, &length, $0.baseAddress, $0.count) }
            }
        }
        signature.removeSubrange(length...)
        if algorithm == .p256 { signature = try ECDSASignature.normalisedToLowS(signature) }
        return signature
    }
}

func keyAlgorithm(of key: OpaquePointer) throws(CryptoError) -> KeyAlgorithm {
    if EVP_PKEY_is_a(key, "ED25519") == 1 { return .ed25519 }
    if EVP_PKEY_is_a(key, "EC") == 1 {
        var name = [CChar](repeating: 0, count: 64)
        var length = 0
        if EVP_PKEY_get_group_name(key, &name, name.count, &length) == 1 {
            let group = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if group == "prime256v1" || group == "P-256" { return .p256 }
            throw .unsupportedKeyAlgorithm("EC \(group)")
        }
    }
    let type = EVP_PKEY_get0_type_name(key).map { String(cString: $0) } ?? "unknown"
    throw .unsupportedKeyAlgorithm(type)
}
