internal import COpenSSL
import Foundation

/// An X.509 certificate (an `X509` this object holds one reference to).
public final class Certificate: @unchecked Sendable, Hashable, CustomStringConvertible {
    package let pointer: OpaquePointer
    /// The DER encoding: what the certificate *is*; equality and hashing use it.
    public let der: [UInt8]

    package init(takingOwnership pointer: OpaquePointer) {
        self.pointer = pointer
        der = derEncoding(of: pointer, i2d_X509)
    }

    package convenience init(retaining pointer: OpaquePointer) {
        X509_up_ref(pointer)
        self.init(takingOwnership: pointer)
    }

    deinit { X509_free(pointer) }

    public convenience init(der: [UInt8]) throws(CryptoError) {
        guard let pointer = decodingDER(der, d2i_X509) else { throw .malformedPEM(source: "DER certificate", expected: "certificate") }
        self.init(takingOwnership: pointer)
    }

    /// Every certificate in a PEM file, in file order (leaf first for a chain file).
    public static func chain(pemFile path: String) throws(CryptoError) -> [Certificate] {
        try chain(pem: try PEMSource.readFile(path), source: path)
    }

    /// Every certificate in PEM text. Text that holds no certificate, or a certificate block
    /// that does not decode, is refused as a whole: a half-read chain is worse than none.
    public static func chain(pem: [UInt8], source: String = "certificate") throws(CryptoError) -> [Certificate] {
        try withMemoryBIO(pem) { (bio) throws(CryptoError) -> [Certificate] in
            var certificates: [Certificate] = []
            while true {
                ERR_clear_error()
                guard let pointer = PEM_read_bio_X509(bio, nil, nil, nil) else {
                    let last = ERR_peek_last_error()
                    _ = OpenSSLErrorQueue.drain()
                    let endOfInput = mshim_ERR_GET_LIB(last) == ERR_LIB_PEM && mshim_ERR_GET_REASON(last) == PEM_R_NO_START_LINE
                    if endOfInput {
                        if certificates.isEmpty {
                            let text = String(decoding: pem, as: UTF8.self)
                            if text.contains("-----BEGIN") { throw .malformedPEM(source: source, expected: "certificate") }
                            throw .noCertificate(source: source)
                        }
                        return certificates
                    }
                    throw .malformedPEM(source: source, expected: "certificate")
                }
                certificates.append(Certificate(takingOwnership: pointer))
            }
        }
    }

    public var pemRepresentation: String {
        let bytes = (try? collectingMemoryBIO { PEM_write_bio_X509($0, pointer) }) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    public var subject: String { Self.text(of: X509_get_subject_name(pointer)) }
    public var issuer: String { Self.text(of: X509_get_issuer_name(pointer)) }

    /// The serial number in upper-case hex, as `openssl x509 -serial` prints it.
    public var serialNumber: String {
        guard let number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(pointer), nil) else { return "?" }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { return "?" }
        defer { mshim_OPENSSL_free(hex) }
        return String(cString: hex)
    }

    public var notBefore: Date { Self.date(X509_get0_notBefore(pointer)) }
    public var notAfter: Date { Self.date(X509_get0_notAfter(pointer)) }

    /// True for a CA certificate (basicConstraints CA:TRUE, or a v1 self-signed root).
    public var isCertificateAuthority: Bool { X509_check_ca(pointer) != 0 }

    public var publicKey: PublicKey {
        get throws(CryptoError) {
            guard let key = X509_get0_pubkey(pointer) else { throw .openSSL(.capture("X509_get0_pubkey")) }
            EVP_PKEY_up_ref(key)
            let algorithm: KeyAlgorithm
            do { algorithm = try keyAlgorithm(of: key) } catch {
                EVP_PKEY_free(key)
                throw error
            }
            return PublicKey(retaining: key, algorithm: algorithm)
        }
    }

    /// True when `key` is the private half of this certificate's public key.
    public func matches(_ key: PrivateKey) -> Bool {
        X509_check_private_key(pointer, key.pointer) == 1
            || {
                ERR_clear_error()
                return false
            }()
    }

    /// The URI entries of the subjectAltName extension, in order.
    public var uniformResourceIdentifiers: [String] {
        guard let names = mshim_X509_get_subject_alt_names(pointer) else { return [] }
        defer { mshim_GENERAL_NAMES_free(names) }
        var uris: [String] = []
        for index in 0..<mshim_sk_GENERAL_NAME_num(names) {
            guard let name = mshim_sk_GENERAL_NAME_value(names, index), mshim_GENERAL_NAME_type(name) == GEN_URI else { continue }
            var length: Int32 = 0
            guard let data = mshim_GENERAL_NAME_ia5_data(name, &length) else { continue }
            uris.append(String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self))
        }
        return uris
    }

    public var fingerprint: SHA256Digest { SHA256.hash(der) }

    public var description: String { "\(subject) (serial \(serialNumber))" }

    public static func == (a: Certificate, b: Certificate) -> Bool { a.der == b.der }
    public func hash(into hasher: inout Hasher) { hasher.combine(der) }

    static func text(of name: OpaquePointer?) -> String {
        guard let name else { return "" }
        let bytes =
            (try? collectingMemoryBIO { bio in
                X509_NAME_print_ex(bio, name, 0, mshim_XN_FLAG_RFC2253()) >= 0 ? 1 : 0
            }) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date {
        guard let time else { return .distantPast }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return .distantPast }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
