internal import COpenSSL
import Foundation

/// An X.509 CRL (an `X509_CRL` this object holds one reference to).
public final class CertificateRevocationList: @unchecked Sendable, CustomStringConvertible {
    package let pointer: OpaquePointer
    /// The DER encoding: what travels between nodes and is stored.
    public let der: [UInt8]

    init(takingOwnership pointer: OpaquePointer) {
        self.pointer = pointer
        der = derEncoding(of: pointer, i2d_X509_CRL)
    }
    deinit { X509_CRL_free(pointer) }

    public convenience init(der: [UInt8]) throws(CryptoError) {
        guard let pointer = decodingDER(der, d2i_X509_CRL) else { throw .malformedPEM(source: "DER CRL", expected: "certificate revocation list") }
        self.init(takingOwnership: pointer)
    }

    public static func load(pemFile path: String) throws(CryptoError) -> CertificateRevocationList {
        try CertificateRevocationList(pem: try PEMSource.readFile(path), source: path)
    }

    public convenience init(pem: [UInt8], source: String = "CRL") throws(CryptoError) {
        let pointer = try withMemoryBIO(pem) { (bio) throws(CryptoError) -> OpaquePointer in
            ERR_clear_error()
            guard let crl = PEM_read_bio_X509_CRL(bio, nil, nil, nil) else {
                _ = OpenSSLErrorQueue.drain()
                throw .malformedPEM(source: source, expected: "certificate revocation list")
            }
            return crl
        }
        self.init(takingOwnership: pointer)
    }

    public var issuer: String { Certificate.text(of: X509_CRL_get_issuer(pointer)) }
    public var lastUpdate: Date { Certificate.date(X509_CRL_get0_lastUpdate(pointer)) }
    public var nextUpdate: Date? {
        guard let time = X509_CRL_get0_nextUpdate(pointer) else { return nil }
        return Certificate.date(time)
    }

    public var pemRepresentation: String {
        let bytes = (try? collectingMemoryBIO { PEM_write_bio_X509_CRL($0, pointer) }) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True when `authority` issued this CRL: same name and a signature its key verifies.
    func isIssued(by authority: Certificate) -> Bool {
        guard X509_NAME_cmp(X509_CRL_get_issuer(pointer), X509_get_subject_name(authority.pointer)) == 0,
            let key = X509_get0_pubkey(authority.pointer)
        else { return false }
        defer { ERR_clear_error() }
        return X509_CRL_verify(pointer, key) == 1
    }

    public var description: String { "CRL of \(issuer)" }
}
