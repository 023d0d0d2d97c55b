import Foundation
import Logging
import OpenSSLCrypto
import Registry
import SyncProtocol

/// What a node trusts about origins: the anchors and CRLs in force (the configured ones, and
/// newer ones received from peers), every origin's verified certificates (its key history, the
/// node's own included), and what was refused already, so that a peer repeating it costs a hash.
///
/// Owned by the sync engine. No I/O: the engine stores, logs and announces what these methods
/// return. Certificates are judged without a clock (`checkingTime: false`): each entry is judged
/// by its own clock against its certificate's validity (`SignerKey`).
struct OriginTrust {
    private(set) var trustStore: TrustStore
    private(set) var keys = OriginKeys()
    /// The chains behind `keys`, each origin's in the order met: what sessions send.
    private(set) var chains: [NodeID: [[[UInt8]]]] = [:]
    /// The held certificates a CRL in force revokes. They stay in `keys`: entries they signed
    /// are shown only where something still trusted vouches for them (`FeedLedger.revokedSigners`).
    private(set) var revokedSigners: Set<SignerID> = []
    /// Nodes with a certificate a CRL in force revokes.
    var revokedOrigins: Set<NodeID> {
        guard !revokedSigners.isEmpty else { return [] }
        return Set(keys.origins.filter { origin in keys.history(of: origin).contains { revokedSigners.contains($0.id) } })
    }
    /// Relayed chains verified so far (tests: each distinct chain is verified once).
    private(set) var chainVerifications = 0
    private var refusedChains: Set<SHA256Digest> = []
    private var consideredRevocations: Set<SHA256Digest> = []
    /// How many refused chains and considered CRLs are remembered (then forgotten at once).
    static let memory = 1_024

    /// - Parameters:
    ///   - received: CRLs received from peers earlier (DER), put in force where newer than the
    ///     configured ones of their authority.
    ///   - chains: every origin's chains held (from the store).
    init(configured: TrustStore, received: [[UInt8]], chains held: [NodeID: [[[UInt8]]]], logger: Logger) {
        trustStore = Self.merging(configured, received: received, logger: logger)
        _ = adopt(held, logger: logger)
    }

    /// A reload's anchors and CRLs: every held chain checked again. Returns the origins whose
    /// chains changed (one now refused, revoked say, verifies nothing more).
    mutating func replace(configured: TrustStore, received: [[UInt8]], logger: Logger) -> [NodeID] {
        trustStore = Self.merging(configured, received: received, logger: logger)
        refusedChains.removeAll()
        consideredRevocations.removeAll()
        return adopt(chains, logger: logger)
    }

    /// What `replace` would put in force.
    static func merging(_ configured: TrustStore, received: [[UInt8]], logger: Logger) -> TrustStore {
        var trust = configured
        for der in received {
            guard let crl = try? CertificateRevocationList(der: der) else { continue }
            // A CRL received earlier stays in force after it expires, like a configured one:
            // a revocation must stick.
            do { trust = try trust.replacing(with: crl, now: .distantPast) } catch TrustStore.RevocationRefusal.notNewer {} catch {
                logger.warning("a revocation list received earlier is no longer taken", metadata: ["issuer": "\(crl.issuer)", "reason": "\(error)"])
            }
        }
        return trust
    }

    /// Keeps the chains the trust store accepts; returns the origins whose chains changed.
    private mutating func adopt(_ held: [NodeID: [[[UInt8]]]], logger: Logger) -> [NodeID] {
        keys = OriginKeys()
        chains = [:]
        let revokedBefore = revokedSigners
        revokedSigners = []
        var changed: Set<NodeID> = []
        for (origin, list) in held {
            for chain in list {
                do {
                    let (key, revoked) = try Self.verifiedSignerKey(chain, of: origin, by: trustStore)
                    if keys.add(key, for: origin) == .added { chains[origin, default: []].append(chain) }
                    guard revoked else { continue }
                    revokedSigners.insert(key.id)
                    if !revokedBefore.contains(key.id) {
                        changed.insert(origin)
                        logger.warning(
                            "a held certificate of an origin is revoked: what it signs is shown only up to a later entry of a certificate in force, or a cut",
                            metadata: ["origin": "\(origin)", "certificate": "\(key.id.hex.prefix(16))"])
                    }
                } catch {
                    logger.warning(
                        "a held certificate of an origin is no longer trusted: the entries it signs are refused from now on",
                        metadata: ["origin": "\(origin)", "reason": "\(error)"])
                }
            }
        }
        return Array(changed.union(held.keys.filter { (chains[$0]?.count ?? 0) != held[$0]!.count }))
    }

    // MARK: certificates

    enum Admission: Equatable {
        /// New in the origin's key history: store it, and tell sessions.
        case added
        /// Held already, or refused before: nothing to do.
        case known
        case refused(String)
    }

    /// A certificate verified elsewhere (this node's own, a TLS peer's) joins its node's history.
    mutating func add(_ key: SignerKey, chain: [[UInt8]], of origin: NodeID) -> Admission {
        switch keys.add(key, for: origin) {
        case .known: return .known
        case .full: return .refused("the origin has more certificates than this node keeps (\(OriginKeys.maximumPerOrigin))")
        case .added:
            chains[origin, default: []].append(chain)
            return .added
        }
    }

    /// A chain a peer relayed for an origin: verified once. A chain held already is neither
    /// verified nor stored again; a chain refused before is refused from memory.
    mutating func admit(_ certificate: OriginCertificate) -> Admission {
        guard let leaf = certificate.chain.first else { return .known }
        let signer = SHA256.hash(leaf)
        if keys.history(of: certificate.node).contains(where: { $0.id == signer }) { return .known }
        let fingerprint = SHA256.hash(certificate.chain.flatMap { SHA256.hash($0).bytes })
        if refusedChains.contains(fingerprint) { return .known }
        chainVerifications += 1
        let outcome: Admission
        do {
            let (key, revoked) = try Self.verifiedSignerKey(certificate.chain, of: certificate.node, by: trustStore)
            outcome = add(key, chain: certificate.chain, of: certificate.node)
            if revoked, outcome == .added { revokedSigners.insert(key.id) }
        } catch {
            outcome = .refused("\(error)")
        }
        if case .refused = outcome {
            if refusedChains.count >= Self.memory { refusedChains.removeAll() }
            refusedChains.insert(fingerprint)
        }
        return outcome
    }

    /// The key an entry signed under `chain` is checked with, and the clocks it may sign for:
    /// the validity every certificate of the chain shares.
    static func signerKey(of chain: [Certificate]) throws -> SignerKey {
        guard let leaf = chain.first else { throw TrustStoreError.noCertificate }
        let millis = { (date: Date) in UInt64(max(0, date.timeIntervalSince1970 * 1000)) }
        let from = chain.map { millis($0.notBefore) }.max()!
        let until = chain.map { millis($0.notAfter) }.min()!
        guard from <= until else { throw TrustStoreError.chainRejected(code: 0, reason: "the certificates of the chain are never valid at the same time") }
        return SignerKey(id: leaf.fingerprint, key: try leaf.publicKey, validFrom: from, validUntil: until)
    }

    /// Checks `chain` as a certificate of `origin`, against its participant's anchors, regardless
    /// of the time; `revoked` when a CRL in force revokes it (it chains otherwise).
    static func verifiedSignerKey(_ chain: [[UInt8]], of origin: NodeID, by trustStore: TrustStore) throws -> (key: SignerKey, revoked: Bool) {
        let certificates = try chain.map { (der) throws(CryptoError) in try Certificate(der: der) }
        var revoked = false
        let verified: VerifiedPeer
        do {
            verified = try trustStore.verify(certificates, checkingTime: false)
        } catch .revoked {
            verified = try trustStore.verify(certificates, checkingTime: false, checkingRevocation: false)
            revoked = true
        }
        let named = try NodeID(verified.identity)
        guard named == origin else { throw TrustStoreError.chainRejected(code: 0, reason: "the certificate names \(named), not \(origin)") }
        return (try signerKey(of: certificates), revoked)
    }

    // MARK: revocation lists

    enum RevocationOutcome {
        /// In force from now on: store it, send it on, renew TLS and re-check sessions.
        case taken(CertificateRevocationList)
        /// Considered before, or not newer than the one in force: nothing to say.
        case known
        case refused(String)
    }

    /// CRLs a peer sent: each is put in force when one of the anchors signed it, it is newer
    /// than the CRL of its authority in force and not expired. Held chains are checked again
    /// once, after the lot, when any was taken; returns the origins whose chains changed.
    mutating func take(_ crls: [[UInt8]], logger: Logger) -> (outcomes: [(der: [UInt8], outcome: RevocationOutcome)], changedOrigins: [NodeID]) {
        var outcomes: [(der: [UInt8], outcome: RevocationOutcome)] = []
        for der in crls {
            if consideredRevocations.count >= Self.memory { consideredRevocations.removeAll() }
            guard consideredRevocations.insert(SHA256.hash(der)).inserted else {
                outcomes.append((der, .known))
                continue
            }
            do {
                let crl = try CertificateRevocationList(der: der)
                trustStore = try trustStore.replacing(with: crl)
                outcomes.append((der, .taken(crl)))
            } catch TrustStore.RevocationRefusal.notNewer {
                outcomes.append((der, .known))
            } catch {
                outcomes.append((der, .refused("\(error)")))
            }
        }
        let anyTaken = outcomes.contains { if case .taken = $0.outcome { true } else { false } }
        return (outcomes, anyTaken ? adopt(chains, logger: logger) : [])
    }
}
