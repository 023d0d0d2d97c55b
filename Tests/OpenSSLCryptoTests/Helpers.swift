import COpenSSL
import Foundation

/// Builds the high-S twin (r, n − s) of a low-S P-256 signature, as an attacker would.
enum ECDSATwin {
    struct Failure: Error {}

    static func highS(of der: [UInt8]) throws -> [UInt8] {
        let signature = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }
        guard let signature else { throw Failure() }
        defer { ECDSA_SIG_free(signature) }
        let group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)!
        defer { EC_GROUP_free(group) }
        let r = BN_dup(ECDSA_SIG_get0_r(signature))
        let s = BN_new()
        BN_sub(s, EC_GROUP_get0_order(group), ECDSA_SIG_get0_s(signature))
        ECDSA_SIG_set0(signature, r, s)
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_ECDSA_SIG(signature, &out)
        guard length > 0, let out else { throw Failure() }
        defer { mshim_OPENSSL_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }
}
