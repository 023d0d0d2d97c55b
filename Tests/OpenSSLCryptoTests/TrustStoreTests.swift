import Foundation
import OpenSSLCrypto
import TestSupport
import Testing

/// Certificate chains against per-participant trust anchors, with every certificate generated here.
@Suite struct TrustStoreTests {
    let pki: TestPKI

    init() throws { pki = try TestPKI() }

    @Test func validChainIsAcceptedAndNamesTheNode() throws {
        let node = try pki.node("EU", "brussels-1")
        let peer = try pki.trustStore().verify([node.certificate])
        #expect(peer.identity.participant == "EU")
        #expect(peer.identity.node == "brussels-1")
        #expect(peer.identity.uri == "spiffe://critical-minerals/participant/EU/node/brussels-1")
    }

    @Test func certificateIssuedByAnotherParticipantsAuthorityIsRefused() throws {
        // The US CA is trusted, but only for US nodes: it cannot vouch for an EU node.
        let forged = try pki.node("EU", "brussels-1", issuedBy: "US")
        #expect(throws: TrustStoreError.issuedByAnotherParticipant(claimed: "EU", issuer: "US")) {
            try pki.trustStore().verify([forged.certificate])
        }
    }

    @Test func expiredCertificateIsRefused() throws {
        let node = try pki.node("JP", "tokyo-1", notBefore: Date(timeIntervalSinceNow: -7200), notAfter: Date(timeIntervalSinceNow: -3600))
        do {
            _ = try pki.trustStore().verify([node.certificate])
            Issue.record("expired certificate accepted")
        } catch let TrustStoreError.expired(subject, notAfter) {
            #expect(subject.contains("tokyo-1"))
            #expect(notAfter < Date())
        }
    }

    /// Verification at a given moment (what a certificate was valid for then), not only now.
    @Test func aChainIsJudgedAtTheMomentAsked() throws {
        // (The test CAs are valid from an hour ago.)
        let expired = try pki.node("JP", "tokyo-1", notBefore: Date(timeIntervalSinceNow: -3000), notAfter: Date(timeIntervalSinceNow: -600))
        #expect(try pki.trustStore().verify([expired.certificate], at: Date(timeIntervalSinceNow: -1800)).identity.node == "tokyo-1")
        #expect(throws: TrustStoreError.self) { try pki.trustStore().verify([expired.certificate]) }
        let future = try pki.node("JP", "tokyo-2", notBefore: Date(timeIntervalSinceNow: 3600), notAfter: Date(timeIntervalSinceNow: 7200))
        #expect(try pki.trustStore().verify([future.certificate], at: Date(timeIntervalSinceNow: 5400)).identity.node == "tokyo-2")
        #expect(throws: TrustStoreError.self) { try pki.trustStore().verify([future.certificate], at: Date()) }
    }

    @Test func notYetValidCertificateIsRefused() throws {
        let node = try pki.node("JP", "tokyo-1", notBefore: Date(timeIntervalSinceNow: 3600), notAfter: Date(timeIntervalSinceNow: 7200))
        do {
            _ = try pki.trustStore().verify([node.certificate])
            Issue.record("not-yet-valid certificate accepted")
        } catch let error as TrustStoreError {
            guard case .notYetValid = error else {
                Issue.record("wrong error \(error)")
                return
            }
        }
    }

    @Test func revokedCertificateIsRefusedAndOthersStillPass() throws {
        let revoked = try pki.node("US", "washington-1")
        let good = try pki.node("US", "denver-1")
        let store = try pki.trustStore(revoked: ["US": [revoked.serial]])
        #expect(throws: TrustStoreError.revoked(subject: revoked.certificate.subject, serial: revoked.certificate.serialNumber)) {
            try store.verify([revoked.certificate])
        }
        #expect(try store.verify([good.certificate]).identity.node == "denver-1")
        // A CRL of one participant does not affect another's nodes.
        #expect(try store.verify([try pki.node("EU", "eu-1").certificate]).identity.participant == "EU")
    }

    @Test func selfSignedCopyOfARealIdentityIsRefused() throws {
        let key = try PrivateKey.generate()
        let impostor = try CertificateIssuer.selfSignedAuthority(commonName: "EU brussels-1", key: key)
        // Self-signed, not a CA, same SPIFFE name as the real node.
        let selfIssuer = CertificateIssuer(certificate: impostor.certificate, key: key)
        let leafKey = try PrivateKey.generate()
        let selfSigned = try CertificateIssuer.selfSignedCertificate(
            commonName: "EU brussels-1", key: leafKey, uris: ["spiffe://critical-minerals/participant/EU/node/brussels-1"], isAuthority: false)
        #expect(throws: TrustStoreError.selfSigned(subject: selfSigned.subject)) { try pki.trustStore().verify([selfSigned]) }
        // The same SAN under an unknown CA.
        let other = try selfIssuer.issue(
            commonName: "EU brussels-1", publicKey: leafKey.publicKey,
            uris: ["spiffe://critical-minerals/participant/EU/node/brussels-1"], serial: 7)
        #expect(throws: TrustStoreError.unknownAuthority(issuer: other.issuer)) { try pki.trustStore().verify([other]) }
    }

    @Test func authorityImpersonatingTheRealCANameFailsOnSignature() throws {
        let fakeCA = try CertificateIssuer.selfSignedAuthority(commonName: "EU MineralSync CA", key: try PrivateKey.generate())
        let key = try PrivateKey.generate()
        let forged = try fakeCA.issue(
            commonName: "EU eu-1", publicKey: key.publicKey,
            uris: ["spiffe://critical-minerals/participant/EU/node/eu-1"], serial: 9)
        #expect(throws: TrustStoreError.badSignature(subject: forged.subject)) { try pki.trustStore().verify([forged]) }
    }

    /// A CA certificate is never a node, even one that carries a node's name and chains to the
    /// participant's anchor (an intermediate the partner issued for its own use).
    @Test func aCACertificateNamingANodeIsRefusedAsANode() throws {
        let key = try PrivateKey.generate()
        let authority = try pki.authority("EU").issue(
            commonName: "EU eu-1", publicKey: key.publicKey,
            uris: ["spiffe://critical-minerals/participant/EU/node/eu-1"], isAuthority: true, serial: pki.serial())
        #expect(throws: TrustStoreError.leafIsAuthority(subject: authority.subject)) { try pki.trustStore().verify([authority]) }
    }

    @Test func malformedPEMIsRefused() {
        let text = "-----BEGIN CERTIFICATE-----\nMIIB!!!!notbase64\n-----END CERTIFICATE-----\n"
        #expect(throws: CryptoError.malformedPEM(source: "eu.pem", expected: "certificate")) {
            try Certificate.chain(pem: Array(text.utf8), source: "eu.pem")
        }
        #expect(throws: CryptoError.noCertificate(source: "empty.pem")) {
            try Certificate.chain(pem: Array("hello\n".utf8), source: "empty.pem")
        }
    }

    @Test func identityRulesAreEnforced() throws {
        let store = try pki.trustStore()
        let key = try PrivateKey.generate()
        let ca = pki.authority("EU")
        let noSAN = try ca.issue(commonName: "EU eu-1", publicKey: key.publicKey, serial: 11)
        #expect(throws: TrustStoreError.missingIdentity(subject: noSAN.subject)) { try store.verify([noSAN]) }
        let two = try ca.issue(
            commonName: "EU eu-1", publicKey: key.publicKey,
            uris: ["spiffe://critical-minerals/participant/EU/node/a", "spiffe://critical-minerals/participant/EU/node/b"], serial: 12)
        #expect(
            throws: TrustStoreError.ambiguousIdentity(["spiffe://critical-minerals/participant/EU/node/a", "spiffe://critical-minerals/participant/EU/node/b"])
        ) {
            try store.verify([two])
        }
        let foreign = try ca.issue(
            commonName: "EU eu-1", publicKey: key.publicKey,
            uris: ["spiffe://other-domain/participant/EU/node/eu-1"], serial: 13)
        #expect(throws: TrustStoreError.foreignTrustDomain(found: "other-domain", expected: "critical-minerals")) { try store.verify([foreign]) }
        let unknown = try ca.issue(
            commonName: "KR", publicKey: key.publicKey,
            uris: ["spiffe://critical-minerals/participant/KR/node/seoul-1"], serial: 14)
        #expect(throws: TrustStoreError.unknownParticipant("KR")) { try store.verify([unknown]) }
        let badName = try ca.issue(
            commonName: "EU", publicKey: key.publicKey,
            uris: ["spiffe://critical-minerals/participant/eu/node/x"], serial: 15)
        #expect(
            throws: TrustStoreError.malformedIdentity(
                uri: "spiffe://critical-minerals/participant/eu/node/x",
                reason: "participant id \"eu\" must be 2–8 characters of A–Z and 0–9")
        ) {
            try store.verify([badName])
        }
    }

    /// The URI SAN is parsed strictly: only spiffe:// URIs count, exactly one may name a node,
    /// and an admin (person) identity is not a node.
    @Test(arguments: [
        (["https://eu.example/node", "spiffe://critical-minerals/participant/EU/node/eu-1"], "eu-1"),
        (["mailto:ops@eu.example", "spiffe://critical-minerals/participant/EU/node/eu-2"], "eu-2")
    ])
    func otherURIsBesideTheNodeIdentityAreIgnored(_ uris: [String], _ node: String) throws {
        let key = try PrivateKey.generate()
        let certificate = try pki.authority("EU").issue(commonName: "EU node", publicKey: key.publicKey, uris: uris, serial: pki.serial())
        #expect(try pki.trustStore().verify([certificate]).identity.node == node)
    }

    @Test(arguments: [
        ("spiffe://critical-minerals/participant/EU/admin/alice", "is not of the form"),
        ("spiffe://critical-minerals/participant/EU/node/eu-1/", "is not of the form"),
        ("spiffe://critical-minerals/participant/EU/node/eu-1/extra", "is not of the form"),
        ("spiffe://critical-minerals/participant/EU/node/", "node name \"\" must be"),
        ("spiffe://critical-minerals/participant/EU/node/-eu", "node name \"-eu\" must be"),
        ("spiffe://critical-minerals/participant/EU/node/EU-1", "node name \"EU-1\" must be"),
        ("spiffe://Critical-Minerals/participant/EU/node/eu-1", "trust domain \"Critical-Minerals\" must be"),
        ("spiffe://critical-minerals/participant/EUROPEANU/node/eu-1", "participant id \"EUROPEANU\" must be"),
        ("spiffe:///participant/EU/node/eu-1", "trust domain \"\" must be")
    ])
    func malformedNodeIdentitiesAreRefusedNamingTheRule(_ uri: String, _ reason: String) throws {
        let key = try PrivateKey.generate()
        let certificate = try pki.authority("EU").issue(commonName: "EU node", publicKey: key.publicKey, uris: [uri], serial: pki.serial())
        let store = try pki.trustStore()
        do {
            _ = try store.verify([certificate])
            Issue.record("\(uri) accepted")
        } catch {
            guard case .malformedIdentity(let found, let why) = error else {
                Issue.record("\(uri): wrong error \(error)")
                return
            }
            #expect(found == uri)
            #expect(why.contains(reason), "\(why)")
        }
    }

    /// A participant's CRL past its next-update is stale revocation data: its nodes are refused
    /// (fail closed), and the error says which CRL to renew rather than "chain rejected".
    @Test func anExpiredCRLRefusesTheParticipantsNodesNamingTheCRL() throws {
        let node = try pki.node("US", "us-1")
        let expiredAt = Date(timeIntervalSinceNow: -3600)
        let stale = try pki.authority("US").revocationList(revoking: [9_999], lastUpdate: Date(timeIntervalSinceNow: -7200), nextUpdate: expiredAt)
        let store = try TrustStore(trustDomain: "critical-minerals", anchors: pki.authorities.mapValues { [$0.certificate] }, revocationLists: [stale])
        do {
            _ = try store.verify([node.certificate])
            Issue.record("a node verified against an expired CRL")
        } catch {
            guard case .crlExpired(let issuer, let nextUpdate) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(issuer == "CN=US MineralSync CA")
            #expect(abs(nextUpdate.timeIntervalSince(expiredAt)) < 1, "the CRL's own next-update, \(expiredAt), not \(nextUpdate)")
            #expect(error.description.contains("install a current CRL"))
        }
        // Other participants are unaffected.
        #expect(try store.verify([try pki.node("EU", "eu-1").certificate]).identity.node == "eu-1")
    }

    @Test func chainThroughAnIntermediateEndsAtTheParticipantsAnchor() throws {
        let root = pki.authority("JP")
        let intermediateKey = try PrivateKey.generate()
        let intermediate = CertificateIssuer(
            certificate: try root.issue(commonName: "JP issuing CA", publicKey: intermediateKey.publicKey, isAuthority: true, serial: 50),
            key: intermediateKey)
        let leafKey = try PrivateKey.generate()
        let leaf = try intermediate.issue(
            commonName: "JP tokyo-2", publicKey: leafKey.publicKey,
            uris: ["spiffe://critical-minerals/participant/JP/node/tokyo-2"], serial: 51)
        let store = try pki.trustStore()
        #expect(try store.verify([leaf, intermediate.certificate]).identity.node == "tokyo-2")
        // Without the intermediate the chain cannot reach the anchor.
        #expect(throws: TrustStoreError.unknownAuthority(issuer: "CN=JP issuing CA")) { try store.verify([leaf]) }
        // Anchoring at the intermediate alone (a partner's issuing CA) also works.
        let narrow = try TrustStore(trustDomain: "critical-minerals", anchors: ["JP": [intermediate.certificate]])
        #expect(try narrow.verify([leaf]).identity.node == "tokyo-2")
    }

    @Test func badTrustConfigurationIsRefused() throws {
        let leaf = try pki.node("EU", "eu-1").certificate
        #expect(throws: TrustStoreError.invalidConfiguration("trust anchor CN=EU eu-1 for EU is not a CA certificate")) {
            try TrustStore(trustDomain: "critical-minerals", anchors: ["EU": [leaf]])
        }
        #expect(throws: TrustStoreError.invalidConfiguration("trust anchor key \"eu\" is not a participant id (2–8 of A–Z, 0–9)")) {
            try TrustStore(trustDomain: "critical-minerals", anchors: ["eu": [pki.authority("EU").certificate]])
        }
        #expect(throws: TrustStoreError.invalidConfiguration("participant EU has no trust anchor certificate")) {
            try TrustStore(trustDomain: "critical-minerals", anchors: ["EU": []])
        }
        #expect(throws: TrustStoreError.invalidConfiguration("trust domain \"Critical Minerals\" is not valid")) {
            try TrustStore(trustDomain: "Critical Minerals", anchors: ["EU": [pki.authority("EU").certificate]])
        }
        let strangerCRL = try CertificateIssuer.selfSignedAuthority(commonName: "stranger", key: try PrivateKey.generate()).revocationList(revoking: [1])
        #expect(throws: TrustStoreError.invalidConfiguration("CRL of CN=stranger is signed by none of the configured trust anchors")) {
            try TrustStore(trustDomain: "critical-minerals", anchors: ["EU": [pki.authority("EU").certificate]], revocationLists: [strangerCRL])
        }
        // A CRL signed with the EU anchor's key but naming another issuer is no CRL of the anchor.
        let stranger = try CertificateIssuer.selfSignedAuthority(commonName: "stranger", key: try PrivateKey.generate())
        let misnamed = try CertificateIssuer(certificate: stranger.certificate, key: pki.authority("EU").key).revocationList(revoking: [1])
        #expect(throws: TrustStoreError.invalidConfiguration("CRL of CN=stranger is signed by none of the configured trust anchors")) {
            try TrustStore(trustDomain: "critical-minerals", anchors: ["EU": [pki.authority("EU").certificate]], revocationLists: [misnamed])
        }
        // A CRL that names a configured anchor but was signed by another key is no CRL of it.
        let forgedCRL = try CertificateIssuer.selfSignedAuthority(commonName: "EU MineralSync CA", key: try PrivateKey.generate()).revocationList(revoking: [1])
        #expect(throws: TrustStoreError.invalidConfiguration("CRL of CN=EU MineralSync CA is signed by none of the configured trust anchors")) {
            try TrustStore(trustDomain: "critical-minerals", anchors: ["EU": [pki.authority("EU").certificate]], revocationLists: [forgedCRL])
        }
    }

    @Test func pemRoundTripsForCertificatesAndCRLs() throws {
        let node = try pki.node("EU", "eu-1")
        let chain = try Certificate.chain(pem: Array((node.certificate.pemRepresentation + pki.authority("EU").certificate.pemRepresentation).utf8))
        #expect(chain == [node.certificate, pki.authority("EU").certificate])
        let crl = try pki.authority("EU").revocationList(revoking: [node.serial])
        let again = try CertificateRevocationList(pem: Array(crl.pemRepresentation.utf8))
        #expect(again.issuer == crl.issuer)
        #expect(node.certificate.matches(node.key))
        #expect(!node.certificate.matches(try PrivateKey.generate()))
    }

    /// A CRL offered by a peer is put in force only when an anchor signed it, it is newer than
    /// the one of its authority in force, and it has not expired: an old CRL cannot undo a newer
    /// one, and a stale one cannot refuse a whole participant.
    @Test func aCRLFromAPeerReplacesOnlyAnOlderOneOfTheSameAuthority() throws {
        let node = try pki.node("US", "us-2")
        let base = try pki.trustStore()
        let older = try pki.authority("US").revocationList(revoking: [], lastUpdate: Date(timeIntervalSinceNow: -7200))
        let newer = try pki.authority("US").revocationList(revoking: [node.serial], lastUpdate: Date(timeIntervalSinceNow: -60))
        let withOlder = try base.replacing(with: older)
        #expect(try withOlder.verify([node.certificate]).identity.node == "us-2")
        let withNewer = try withOlder.replacing(with: newer)
        #expect(withNewer.crls.count == 1)
        #expect(withNewer.participants(issuing: newer) == ["US"])
        #expect(throws: TrustStoreError.revoked(subject: node.certificate.subject, serial: node.certificate.serialNumber)) {
            try withNewer.verify([node.certificate])
        }
        // Revoked whatever the time: what its key signed is judged without a clock, too.
        #expect(throws: TrustStoreError.self) { try withNewer.verify([node.certificate], checkingTime: false) }
        #expect(throws: TrustStore.RevocationRefusal.notNewer(issuer: older.issuer, held: newer.lastUpdate)) { try withNewer.replacing(with: older) }
        let stale = try pki.authority("JP").revocationList(
            revoking: [], lastUpdate: Date(timeIntervalSinceNow: -7200), nextUpdate: Date(timeIntervalSinceNow: -3600))
        #expect(throws: TrustStore.RevocationRefusal.expired(issuer: stale.issuer, nextUpdate: stale.nextUpdate!)) { try base.replacing(with: stale) }
        let stranger = try TestPKI(participants: ["US"], authorityName: { _ in "Someone else's CA" })
        let foreign = try stranger.authority("US").revocationList(revoking: [node.serial])
        #expect(throws: TrustStore.RevocationRefusal.notIssuedByAnAnchor(issuer: foreign.issuer)) { try base.replacing(with: foreign) }
        // DER round trip: what travels between nodes.
        #expect(try CertificateRevocationList(der: newer.der).der == newer.der)
    }
}
