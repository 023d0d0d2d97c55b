internal import COpenSSL

/// ECDSA signatures over P-256 are malleable: if (r, s) verifies, so does (r, n − s). Entries are
/// chained by a hash that covers their signature, so a relay that swapped one for the other would
/// break the chain for everyone behind it. We therefore sign with, and accept only, the low-S form.
enum ECDSASignature {
    private final class GroupOrder: @unchecked Sendable {
        /// n and n/2 of P-256; BIGNUMs only read after creation.
        let order: OpaquePointer
        let halfOrder: OpaquePointer
        init() {
            let group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)!
            defer { EC_GROUP_free(group) }
            order = BN_dup(EC_GROUP_get0_order(group))!
            halfOrder = BN_new()!
            BN_rshift1(halfOrder, order)
        }
    }
    private static let p256 = GroupOrder()

    static func isLowS(_ der: [UInt8]) -> Bool {
        guard let signature = decode(der) else { return false }
        defer { ECDSA_SIG_free(signature) }
        return BN_cmp(ECDSA_SIG_get0_s(signature), p256.halfOrder) <= 0
    }

    static func normalisedToLowS(_ der: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let signature = decode(der) else { throw .invalidSignatureEncoding }
        defer { ECDSA_SIG_free(signature) }
        let s = ECDSA_SIG_get0_s(signature)
        guard BN_cmp(s, p256.halfOrder) > 0 else { return der }
        let r = BN_dup(ECDSA_SIG_get0_r(signature))
        let lowS = BN_new()
        BN_sub(lowS, p256.order, s)
        // ECDSA_SIG_set0 takes ownership of both numbers.
        ECDSA_SIG_set0(signature, r, lowS)
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_ECDSA_SIG(signature, &out)
        guard length > 0, let out else { throw .openSSL(.capture("i2d_ECDSA_SIG")) }
        defer { mshim_OPENSSL_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    private static func decode(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let signature = d2i_ECDSA_SIG(nil, &cursor, buffer.count)
            // Trailing bytes after the DER structure would be a second encoding of one signature.
            if let signature, cursor != buffer.baseAddress! + buffer.count {
                ECDSA_SIG_free(signature)
                return nil
            }
            return signature
        }
    }
}
