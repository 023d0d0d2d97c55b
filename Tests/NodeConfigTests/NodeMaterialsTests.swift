import Foundation
import NodeConfig
import OpenSSLCrypto
import Registry
import TestSupport
import Testing

/// The checks `check-config` and the daemon run on the files a config names, against a PKI
/// written to disk in the test.
@Suite("Config materials: keys, certificates, anchors, CRLs, directories")
struct NodeMaterialsTests {
    let directory: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws {
        directory = try TemporaryDirectory(prefix: "materials")
        pki = try TestPKI()
        files = try PKIFiles(pki: pki, directory: directory.path("pki"))
        try files.write(try pki.node("EU", "eu-1"))
    }

    func config(_ edit: (String) -> String = { $0 }) -> String {
        edit(
            """
            node: {participant: EU, name: eu-1, data-dir: ./data}
            listen: 127.0.0.1:7701
            admin: {socket: ./data/admin.sock}
            tls:
              trust-domain: critical-minerals
              certificate: pki/eu-1.pem
              private-key: pki/eu-1.key
              trust-anchors: {EU: pki/eu-ca.pem, US: pki/us-ca.pem, JP: pki/jp-ca.pem}
              crls: [CRLS]
            """
        ).replacingOccurrences(of: "CRLS", with: "")
    }

    func load(_ text: String) throws -> NodeMaterials {
        try NodeMaterials.load(try ConfigurationParser.parse(text, file: "eu-1.yaml", baseDirectory: directory.url.path))
    }

    func problems(_ text: String) throws -> [String] {
        let error = try #require(throws: ConfigurationError.self) { try load(text) }
        return error.problems.map(\.description)
    }

    @Test func loadsAGoodNode() throws {
        let materials = try load(config())
        #expect(materials.certificateChain.count == 1)
        #expect(materials.trustStore.anchors.keys.sorted() == ["EU", "JP", "US"])
        #expect(materials.catalogue == .standard)
    }

    @Test func refusesMissingAndUnreadableFilesNamingTheKeyAndLine() throws {
        let found = try problems(config { $0.replacingOccurrences(of: "pki/eu-1.pem", with: "pki/nope.pem") })
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("eu-1.yaml:6: tls.certificate:"))
        #expect(found[0].contains("nope.pem"))
    }

    @Test func refusesAPrivateKeyOthersCanRead() throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: files.path("eu-1.key"))
        let found = try problems(config())
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("eu-1.yaml:7: tls.private-key:"))
        #expect(found[0].contains("chmod 600"))
    }

    @Test func refusesAKeyThatIsNotTheCertificates() throws {
        try files.write(try pki.node("EU", "eu-1"), as: "other")
        let found = try problems(config { $0.replacingOccurrences(of: "pki/eu-1.key", with: "pki/other.key") })
        #expect(found == ["eu-1.yaml:7: tls.private-key: does not belong to the certificate CN=EU eu-1 in \(files.path("eu-1.pem"))"])
    }

    @Test func refusesACertificateForAnotherNode() throws {
        try files.write(try pki.node("EU", "eu-2"))
        let found = try problems(config { $0.replacingOccurrences(of: "eu-1.pem", with: "eu-2.pem").replacingOccurrences(of: "eu-1.key", with: "eu-2.key") })
        #expect(found == ["eu-1.yaml:6: tls.certificate: is for node EU/eu-2, but this config is for node EU/eu-1 (node.participant and node.name)"])
    }

    @Test func refusesACertificateIssuedByAnotherParticipantsAuthority() throws {
        try files.write(try pki.node("EU", "eu-1", issuedBy: "US"))
        let found = try problems(config())
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("eu-1.yaml:6: tls.certificate: would be refused by partners:"))
    }

    @Test func refusesAnExpiredCertificate() throws {
        try files.write(try pki.node("EU", "eu-1", notBefore: Date(timeIntervalSinceNow: -7200), notAfter: Date(timeIntervalSinceNow: -3600)))
        let found = try problems(config())
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("eu-1.yaml:6: tls.certificate: expired on"))
    }

    @Test func refusesARevokedCertificateAndACRLNoAnchorSigned() throws {
        let node = try pki.node("EU", "eu-1")
        try files.write(node)
        try files.write("eu.crl", try pki.authority("EU").revocationList(revoking: [node.serial]).pemRepresentation, mode: 0o644)
        let revoked = try problems(config { $0.replacingOccurrences(of: "[CRLS]", with: "[pki/eu.crl]") })
        #expect(revoked.count == 1)
        #expect(revoked[0].hasPrefix("eu-1.yaml:6: tls.certificate: would be refused by partners:"))
        #expect(revoked[0].contains("revoked"))

        let stranger = try TestPKI(participants: ["EU"], authorityName: { "Stranger \($0) CA" })
        try files.write("stranger.crl", try stranger.authority("EU").revocationList(revoking: [1]).pemRepresentation, mode: 0o644)
        let unsigned = try problems(config { $0.replacingOccurrences(of: "[CRLS]", with: "[pki/stranger.crl]") })
        #expect(unsigned.count == 1)
        #expect(unsigned[0].contains("signed by none of the configured trust anchors"))
    }

    @Test func refusesAnAnchorThatIsNotACertificate() throws {
        try files.write("garbage.pem", "not a certificate\n", mode: 0o644)
        let found = try problems(config { $0.replacingOccurrences(of: "JP: pki/jp-ca.pem", with: "JP: pki/garbage.pem") })
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("eu-1.yaml:8: tls.trust-anchors.JP:"))
    }

    @Test func refusesADataDirectoryThatIsAFile() throws {
        try directory.write("data", "x")
        let found = try problems(config())
        #expect(found.contains("eu-1.yaml:1: node.data-dir: \(directory.path("data")) is a file, not a directory"))
    }
}
