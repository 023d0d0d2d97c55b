internal import COpenSSL
import Foundation

/// Who a verified certificate chain belongs to.
public struct VerifiedPeer: Sendable, Hashable, CustomStringConvertible {
    public let identity: SPIFFEIdentity
    public let leaf: Certificate
    /// The chain as presented, leaf first (with any intermediates), as verified: what to
    /// verify again after a reload, and what to relay so third nodes can verify this origin.
    public let chain: [Certificate]
    public var description: String { identity.description }

    public init(identity: SPIFFEIdentity, leaf: Certificate, chain: [Certificate]) {
        self.identity = identity
        self.leaf = leaf
        self.chain = chain
    }
}

/// The trust anchors of every partner, one set per participant, plus their CRLs.
///
/// A chain is trusted only when it ends at an anchor configured for *the participant its leaf
/// names*: a certificate issued by the US authority that names an EU node is refused, even
/// though the US authority is trusted for US nodes. Each participant therefore gets its own
/// `X509_STORE`, holding only its anchors and the CRLs those anchors signed.
public final class TrustStore: @unchecked Sendable {
    // X509_STORE is safe for concurrent verification once built; nothing mutates it afterwards.
    public let trustDomain: String
    public let anchors: [String: [Certificate]]
    private let stores: [String: OpaquePointer]
    /// Each participant's CRLs, as assigned to its store.
    private let revocationLists: [String: [CertificateRevocationList]]
    private var participantsWithCRLs: Set<String> { Set(revocationLists.keys) }
    /// Every CRL in force, each once (a CRL of an authority two participants share counts once).
    public let crls: [CertificateRevocationList]

    /// - Parameters:
    ///   - anchors: participant id → the CA certificate(s) that may issue that participant's nodes.
    ///   - revocationLists: CRLs; each must be signed by one of the anchors.
    public init(
        trustDomain: String,
        anchors: [String: [Certificate]],
        revocationLists: [CertificateRevocationList] = []
    ) throws(TrustStoreError) {
        guard SPIFFEIdentity.isValidTrustDomain(trustDomain) else { throw .invalidConfiguration("trust domain \"\(trustDomain)\" is not valid") }
        for (participant, certificates) in anchors {
            guard SPIFFEIdentity.isValidParticipant(participant) else {
                throw .invalidConfiguration("trust anchor key \"\(participant)\" is not a participant id (2–8 of A–Z, 0–9)")
            }
            guard !certificates.isEmpty else { throw .invalidConfiguration("participant \(participant) has no trust anchor certificate") }
            for certificate in certificates where !certificate.isCertificateAuthority {
                throw .invalidConfiguration("trust anchor \(certificate.subject) for \(participant) is not a CA certificate")
            }
        }
        var assigned: [String: [CertificateRevocationList]] = [:]
        for crl in revocationLists {
            let owners = anchors.filter { $0.value.contains(where: crl.isIssued(by:)) }.map(\.key)
            guard !owners.isEmpty else {
                throw .invalidConfiguration("\(crl) is signed by none of the configured trust anchors")
            }
            for owner in owners { assigned[owner, default: []].append(crl) }
        }
        var stores: [String: OpaquePointer] = [:]
        for (participant, certificates) in anchors {
            let store = X509_STORE_new()!
            for certificate in certificates { X509_STORE_add_cert(store, certificate.pointer) }
            for crl in assigned[participant] ?? [] { X509_STORE_add_crl(store, crl.pointer) }
            stores[participant] = store
        }
        ERR_clear_error()
        self.trustDomain = trustDomain
        self.anchors = anchors
        self.stores = stores
        self.revocationLists = assigned
        self.crls = revocationLists
    }

    /// The participants whose anchors issued `crl` (empty: none of the configured anchors did).
    public func participants(issuing crl: CertificateRevocationList) -> [String] {
        anchors.filter { $0.value.contains(where: crl.isIssued(by:)) }.map(\.key).sorted()
    }

    /// Why a CRL offered to this trust store (by a peer, relayed) is not taken.
    public enum RevocationRefusal: Error, Sendable, Hashable, CustomStringConvertible {
        case notIssuedByAnAnchor(issuer: String)
        case notNewer(issuer: String, held: Date)
        case expired(issuer: String, nextUpdate: Date)

        public var description: String {
            switch self {
            case .notIssuedByAnAnchor(let issuer): "the CRL of \(issuer) is signed by none of the configured trust anchors"
            case .notNewer(let issuer, let held): "the CRL of \(issuer) is not newer than the one in force (issued \(held))"
            case .expired(let issuer, let next): "the CRL of \(issuer) expired at \(next) (its next-update)"
            }
        }
    }

    /// This trust store with `crl` in force in place of any older CRL of the same authority.
    /// Only a CRL one of the anchors signed, newer than the one it replaces and not expired at
    /// `now`, is taken: an old CRL cannot undo a newer one, and an expired one would refuse every
    /// node of its participant.
    public func replacing(with crl: CertificateRevocationList, now: Date = Date()) throws -> TrustStore {
        guard !participants(issuing: crl).isEmpty else { throw RevocationRefusal.notIssuedByAnAnchor(issuer: crl.issuer) }
        if let next = crl.nextUpdate, next < now { throw RevocationRefusal.expired(issuer: crl.issuer, nextUpdate: next) }
        let sameAuthority = crls.filter { $0.issuer == crl.issuer && participants(issuing: $0) == participants(issuing: crl) }
        if let held = sameAuthority.map(\.lastUpdate).max(), held >= crl.lastUpdate {
            throw RevocationRefusal.notNewer(issuer: crl.issuer, held: held)
        }
        let kept = crls.filter { held in !sameAuthority.contains { $0 === held } }
        return try TrustStore(trustDomain: trustDomain, anchors: anchors, revocationLists: kept + [crl])
    }

    deinit { for store in stores.values { X509_STORE_free(store) } }

    /// The single node identity a leaf certificate names in its URI SAN.
    public func identity(of leaf: Certificate) throws(TrustStoreError) -> SPIFFEIdentity {
        let uris = leaf.uniformResourceIdentifiers.filter { $0.hasPrefix("spiffe://") }
        guard let uri = uris.first else { throw .missingIdentity(subject: leaf.subject) }
        guard uris.count == 1 else { throw .ambiguousIdentity(uris) }
        let identity: SPIFFEIdentity
        do { identity = try SPIFFEIdentity(uri: uri) } catch { throw .malformedIdentity(uri: uri, reason: error.description) }
        guard identity.trustDomain == trustDomain else { throw .foreignTrustDomain(found: identity.trustDomain, expected: trustDomain) }
        return identity
    }

    /// Verifies `chain` (leaf first, then any intermediates) against the anchors of the participant
    /// the leaf names, honouring that participant's CRLs, at `time` (now when nil).
    /// - Parameter checkingTime: false to judge the chain regardless of any clock (an origin's
    ///   certificate that signed entries in the past: each entry is judged by its own clock).
    /// - Parameter checkingRevocation: false to ignore CRLs (whether a revoked certificate did
    ///   sign something is still a question its key answers).
    public func verify(
        _ chain: [Certificate], at time: Date? = nil, checkingTime: Bool = true,
        checkingRevocation: Bool = true
    ) throws(TrustStoreError) -> VerifiedPeer {
        guard let leaf = chain.first else { throw .noCertificate }
        let identity = try identity(of: leaf)
        guard let store = stores[identity.participant] else { throw .unknownParticipant(identity.participant) }
        if leaf.isCertificateAuthority { throw .leafIsAuthority(subject: leaf.subject) }

        let untrusted = mshim_sk_X509_new_null()!
        defer { mshim_sk_X509_free(untrusted) }
        for certificate in chain.dropFirst() { _ = mshim_sk_X509_push(untrusted, certificate.pointer) }

        let context = X509_STORE_CTX_new()!
        defer { X509_STORE_CTX_free(context) }
        ERR_clear_error()
        defer { ERR_clear_error() }
        guard X509_STORE_CTX_init(context, store, leaf.pointer, untrusted) == 1 else {
            throw .chainRejected(code: -1, reason: OpenSSLError.capture("X509_STORE_CTX_init").description)
        }
        // An anchor may be a partner's issuing CA under its national root: the chain ends there.
        var flags = UInt(X509_V_FLAG_PARTIAL_CHAIN)
        if checkingRevocation, participantsWithCRLs.contains(identity.participant) { flags |= UInt(X509_V_FLAG_CRL_CHECK) }
        if !checkingTime { flags |= UInt(X509_V_FLAG_NO_CHECK_TIME) }
        X509_STORE_CTX_set_flags(context, flags)
        if let time { X509_STORE_CTX_set_time(context, 0, time_t(time.timeIntervalSince1970)) }

        if X509_verify_cert(context) == 1 { return VerifiedPeer(identity: identity, leaf: leaf, chain: chain) }
        throw classify(
            X509_STORE_CTX_get_error(context), leaf: leaf, identity: identity,
            failing: X509_STORE_CTX_get_current_cert(context).map(Certificate.init(retaining:)), at: time ?? Date())
    }

    private func classify(_ code: Int32, leaf: Certificate, identity: SPIFFEIdentity, failing: Certificate?, at time: Date) -> TrustStoreError {
        let subject = (failing ?? leaf).subject
        switch code {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return .expired(subject: subject, notAfter: (failing ?? leaf).notAfter)
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return .notYetValid(subject: subject, notBefore: (failing ?? leaf).notBefore)
        case X509_V_ERR_CERT_REVOKED:
            return .revoked(subject: subject, serial: (failing ?? leaf).serialNumber)
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
            return .selfSigned(subject: leaf.subject)
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
            return .badSignature(subject: subject)
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
            X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            // Name the authority that did issue it when it is another partner's: the most
            // likely misconfiguration (or attack) in an alliance, and worth saying plainly.
            if let other = anchors.first(where: { participant, certificates in
                participant != identity.participant && certificates.contains { X509_check_issued($0.pointer, leaf.pointer) == X509_V_OK }
            }) {
                return .issuedByAnotherParticipant(claimed: identity.participant, issuer: other.key)
            }
            // Names a configured anchor as its issuer, yet no anchor's key signed it: a forgery.
            if anchors.values.joined().contains(where: { $0.subject == leaf.issuer }) {
                return .badSignature(subject: leaf.subject)
            }
            return .unknownAuthority(issuer: leaf.issuer)
        case X509_V_ERR_UNABLE_TO_GET_CRL:
            return .crlUnavailable(issuer: leaf.issuer)
        case X509_V_ERR_CRL_HAS_EXPIRED:
            // OpenSSL forgets which CRL it was checking once verification ends: name the stale one
            // of this participant's, for the certificate whose check failed.
            let issuer = (failing ?? leaf).issuer
            let stale = revocationLists[identity.participant, default: []].first { crl in
                crl.issuer == issuer && (crl.nextUpdate.map { $0 < time } ?? false)
            }
            return .crlExpired(issuer: stale?.issuer ?? issuer, nextUpdate: stale?.nextUpdate ?? time)
        default:
            let reason = X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "error \(code)"
            return .chainRejected(code: Int(code), reason: reason)
        }
    }
}

/// Why a certificate chain was not trusted. Each case is distinct so that logs, peer health and
/// tests can tell an expired certificate from a revoked one from a foreign one.
public enum TrustStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidConfiguration(String)
    case noCertificate
    case missingIdentity(subject: String)
    case ambiguousIdentity([String])
    case malformedIdentity(uri: String, reason: String)
    case foreignTrustDomain(found: String, expected: String)
    case unknownParticipant(String)
    case leafIsAuthority(subject: String)
    case issuedByAnotherParticipant(claimed: String, issuer: String)
    case unknownAuthority(issuer: String)
    case selfSigned(subject: String)
    case badSignature(subject: String)
    case expired(subject: String, notAfter: Date)
    case notYetValid(subject: String, notBefore: Date)
    case revoked(subject: String, serial: String)
    case crlUnavailable(issuer: String)
    case crlExpired(issuer: String, nextUpdate: Date)
    case chainRejected(code: Int, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let text): "trust configuration: \(text)"
        case .noCertificate: "the peer presented no certificate"
        case .missingIdentity(let subject): "certificate \(subject) has no spiffe:// URI SAN naming a node"
        case .ambiguousIdentity(let uris): "certificate names more than one node: \(uris.joined(separator: ", "))"
        case .malformedIdentity(let uri, let reason): "certificate identity \(uri) is malformed: \(reason)"
        case .foreignTrustDomain(let found, let expected): "certificate is for trust domain \(found), expected \(expected)"
        case .unknownParticipant(let id): "certificate names participant \(id), which has no configured trust anchor"
        case .leafIsAuthority(let subject): "certificate \(subject) is a CA certificate, not a node certificate"
        case .issuedByAnotherParticipant(let claimed, let issuer):
            "certificate names a node of \(claimed) but was issued by the \(issuer) authority"
        case .unknownAuthority(let issuer): "certificate was issued by \(issuer), which is no configured trust anchor"
        case .selfSigned(let subject): "certificate \(subject) is self-signed"
        case .badSignature(let subject): "the signature on certificate \(subject) does not verify"
        case .expired(let subject, let notAfter): "certificate \(subject) expired at \(notAfter)"
        case .notYetValid(let subject, let notBefore): "certificate \(subject) is not valid before \(notBefore)"
        case .revoked(let subject, let serial): "certificate \(subject) (serial \(serial)) is revoked"
        case .crlUnavailable(let issuer): "no CRL from \(issuer) is loaded"
        case .crlExpired(let issuer, let nextUpdate):
            "the CRL of \(issuer) expired at \(nextUpdate) (its next-update): install a current CRL from that participant; until then its nodes are refused"
        case .chainRejected(let code, let reason): "certificate chain rejected: \(reason) (X509 error \(code))"
        }
    }
}
