internal import COpenSSL
import Foundation

/// A certificate authority in code: creates CA and node certificates and CRLs with the system
/// OpenSSL. Tests use it to build every good and bad certificate they need; operators use the
/// scripts in `Certs/` (or their own CA or HSM) instead.
public struct CertificateIssuer: Sendable {
    public let certificate: Certificate
    public let key: PrivateKey

    public init(certificate: Certificate, key: PrivateKey) {
        self.certificate = certificate
        self.key = key
    }

    /// A self-signed root authority.
    public static func selfSignedAuthority(
        commonName: String,
        key: PrivateKey,
        notBefore: Date = Date(timeIntervalSinceNow: -3600),
        notAfter: Date = Date(timeIntervalSinceNow: 10 * 365 * 86400),
        serial: UInt64 = 1
    ) throws(CryptoError) -> CertificateIssuer {
        let certificate = try selfSignedCertificate(
            commonName: commonName, key: key, isAuthority: true, notBefore: notBefore, notAfter: notAfter, serial: serial)
        return CertificateIssuer(certificate: certificate, key: key)
    }

    /// A certificate signed by its own key: a root when `isAuthority`, otherwise something no
    /// trust store should accept as a node (tests use it to play an impostor).
    public static func selfSignedCertificate(
        commonName: String,
        key: PrivateKey,
        uris: [String] = [],
        isAuthority: Bool,
        notBefore: Date = Date(timeIntervalSinceNow: -3600),
        notAfter: Date = Date(timeIntervalSinceNow: 365 * 86400),
        serial: UInt64 = 1
    ) throws(CryptoError) -> Certificate {
        try build(
            commonName: commonName, publicKey: key.publicKey, issuer: nil, signingKey: key,
            isAuthority: isAuthority, uris: uris, notBefore: notBefore, notAfter: notAfter, serial: serial)
    }

    /// A certificate signed by this authority. Node certificates carry their SPIFFE URI; a
    /// subordinate authority has `isAuthority` set and no URI.
    public func issue(
        commonName: String,
        publicKey: PublicKey,
        uris: [String] = [],
        isAuthority: Bool = false,
        notBefore: Date = Date(timeIntervalSinceNow: -3600),
        notAfter: Date = Date(timeIntervalSinceNow: 365 * 86400),
        serial: UInt64
    ) throws(CryptoError) -> Certificate {
        try Self.build(
            commonName: commonName, publicKey: publicKey, issuer: certificate, signingKey: key,
            isAuthority: isAuthority, uris: uris, notBefore: notBefore, notAfter: notAfter, serial: serial)
    }

    /// A CRL listing `serials` as revoked, valid from `lastUpdate` to `nextUpdate`.
    public func revocationList(
        revoking serials: [UInt64],
        lastUpdate: Date = Date(timeIntervalSinceNow: -60),
        nextUpdate: Date = Date(timeIntervalSinceNow: 30 * 86400)
    ) throws(CryptoError) -> CertificateRevocationList {
        let crl = X509_CRL_new()!
        var handedOver = false
        defer { if !handedOver { X509_CRL_free(crl) } }
        X509_CRL_set_version(crl, 1)
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(certificate.pointer))
        try Self.withTime(lastUpdate) { t throws(CryptoError) in try openSSLCheck("X509_CRL_set1_lastUpdate") { X509_CRL_set1_lastUpdate(crl, t) } }
        try Self.withTime(nextUpdate) { t throws(CryptoError) in try openSSLCheck("X509_CRL_set1_nextUpdate") { X509_CRL_set1_nextUpdate(crl, t) } }
        for serial in serials {
            let revoked = X509_REVOKED_new()!
            let number = ASN1_INTEGER_new()!
            ASN1_INTEGER_set_uint64(number, serial)
            X509_REVOKED_set_serialNumber(revoked, number)
            ASN1_INTEGER_free(number)
            try Self.withTime(lastUpdate) { t throws(CryptoError) in
                try openSSLCheck("X509_REVOKED_set_revocationDate") { X509_REVOKED_set_revocationDate(revoked, t) }
            }
            X509_CRL_add0_revoked(crl, revoked)
        }
        X509_CRL_sort(crl)
        let md: OpaquePointer? = key.algorithm == .ed25519 ? nil : SHA256.md
        _ = try openSSLCall("X509_CRL_sign", failed: { $0 <= 0 }) { X509_CRL_sign(crl, key.pointer, md) }
        handedOver = true
        return CertificateRevocationList(takingOwnership: crl)
    }

    private static func build(
        commonName: String, publicKey: PublicKey, issuer: Certificate?, signingKey: PrivateKey,
        isAuthority: Bool, uris: [String], notBefore: Date, notAfter: Date, serial: UInt64
    ) throws(CryptoError) -> Certificate {
        let x509 = X509_new()!
        var handedOver = false
        defer { if !handedOver { X509_free(x509) } }
        X509_set_version(x509, 2)
        ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), serial)
        try withTime(notBefore) { t throws(CryptoError) in try openSSLCheck("X509_set1_notBefore") { X509_set1_notBefore(x509, t) } }
        try withTime(notAfter) { t throws(CryptoError) in try openSSLCheck("X509_set1_notAfter") { X509_set1_notAfter(x509, t) } }
        try openSSLCheck("X509_set_pubkey") { X509_set_pubkey(x509, publicKey.pointer) }

        let name = X509_NAME_new()!
        defer { X509_NAME_free(name) }
        try openSSLCheck("X509_NAME_add_entry_by_txt") {
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, commonName, -1, -1, 0)
        }
        X509_set_subject_name(x509, name)
        X509_set_issuer_name(x509, issuer.map { X509_get_subject_name($0.pointer) } ?? name)

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.pointer ?? x509, x509, nil, nil, 0)
        var extensions: [(Int32, String)] = [(NID_subject_key_identifier, "hash")]
        if issuer != nil { extensions.append((NID_authority_key_identifier, "keyid:always")) }
        if isAuthority {
            extensions.append((NID_basic_constraints, "critical,CA:TRUE"))
            extensions.append((NID_key_usage, "critical,keyCertSign,cRLSign"))
        } else {
            extensions.append((NID_basic_constraints, "critical,CA:FALSE"))
            extensions.append((NID_key_usage, "critical,digitalSignature"))
            extensions.append((NID_ext_key_usage, "serverAuth,clientAuth"))
        }
        if !uris.isEmpty {
            extensions.append((NID_subject_alt_name, uris.map { "URI:\($0)" }.joined(separator: ",")))
        }
        for (nid, value) in extensions {
            let ext = try openSSLPointer("X509V3_EXT_conf_nid(\(nid))") { X509V3_EXT_conf_nid(nil, &context, nid, value) }
            defer { X509_EXTENSION_free(ext) }
            try openSSLCheck("X509_add_ext") { X509_add_ext(x509, ext, -1) }
        }
        let md: OpaquePointer? = signingKey.algorithm == .ed25519 ? nil : SHA256.md
        _ = try openSSLCall("X509_sign", failed: { $0 <= 0 }) { X509_sign(x509, signingKey.pointer, md) }
        handedOver = true
        return Certificate(takingOwnership: x509)
    }

    private static func withTime(_ date: Date, _ body: (UnsafeMutablePointer<ASN1_TIME>) throws(CryptoError) -> Void) throws(CryptoError) {
        guard let time = ASN1_TIME_set(nil, time_t(date.timeIntervalSince1970)) else { throw .openSSL(.capture("ASN1_TIME_set")) }
        defer { ASN1_TIME_free(time) }
        try body(time)
    }
}
