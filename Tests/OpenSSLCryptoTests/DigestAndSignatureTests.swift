import Foundation
import OpenSSLCrypto
import TestSupport
import Testing

@Suite struct DigestAndSignatureTests {
    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash([]).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var hasher = SHA256Hasher()
        hasher.update(Array("a".utf8))
        hasher.update("bc")
        #expect(hasher.finalize() == SHA256.hash(Array("abc".utf8)))
    }

    @Test func digestHexRoundTrips() throws {
        let digest = SHA256.hash(Array("mineral".utf8))
        #expect(SHA256Digest(hex: digest.hex) == digest)
        #expect(SHA256Digest(bytes: digest.bytes) == digest)
        #expect(SHA256Digest(hex: "zz") == nil)
        #expect(SHA256Digest(bytes: [1, 2, 3]) == nil)
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func signaturesVerifyAndTamperingIsDetected(algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let message = Array("gallium 120 t".utf8)
        let signature = try key.sign(message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: Array("gallium 121 t".utf8)))
        var flipped = signature
        flipped[flipped.count / 2] ^= 0x01
        #expect(!key.publicKey.isValidSignature(flipped, for: message))
        let other = try PrivateKey.generate(algorithm)
        #expect(!other.publicKey.isValidSignature(signature, for: message))
    }

    @Test func ed25519IsDeterministicAnd64Bytes() throws {
        let key = try PrivateKey.generate(.ed25519)
        let a = try key.sign([1, 2, 3])
        #expect(a.count == 64)
        #expect(try key.sign([1, 2, 3]) == a)
    }

    /// A P-256 signature (r, s) has a twin (r, n − s) that plain ECDSA accepts. We sign low-S
    /// and refuse the twin, so no relay can alter an entry's signature bytes.
    @Test func p256HighSTwinIsRefused() throws {
        let key = try PrivateKey.generate(.p256)
        let message = Array("tungsten".utf8)
        for _ in 0..<8 {
            let signature = try key.sign(message)
            #expect(key.publicKey.isValidSignature(signature, for: message))
            let twin = try ECDSATwin.highS(of: signature)
            #expect(twin != signature)
            #expect(!key.publicKey.isValidSignature(twin, for: message))
        }
    }

    @Test func privateKeyRoundTripsThroughPEM() throws {
        for algorithm in KeyAlgorithm.allCases {
            let key = try PrivateKey.generate(algorithm)
            let pem = try key.pemRepresentation()
            let again = try PrivateKey(pem: Array(pem.utf8))
            #expect(again.algorithm == algorithm)
            #expect(again.publicKey == key.publicKey)
            let spki = key.publicKey.subjectPublicKeyInfo
            #expect(try PublicKey(subjectPublicKeyInfo: spki) == key.publicKey)
        }
    }

    @Test func privateKeyReadableByOthersIsRefusedLikeSSHDoes() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("node.key")
        let pem = try PrivateKey.generate().pemRepresentation()
        try pem.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        #expect(throws: CryptoError.privateKeyTooOpen(path: path, mode: 0o644)) { try PrivateKey(pemFile: path) }
        do {
            _ = try PrivateKey(pemFile: path)
        } catch {
            #expect(error.description.contains(path))
            #expect(error.description.contains("chmod 600"))
        }
        chmod(path, 0o600)
        #expect(try PrivateKey(pemFile: path).algorithm == .ed25519)
        #expect(throws: CryptoError.self) { try PrivateKey(pemFile: directory.path("missing.key")) }
    }

    @Test func malformedKeyPEMIsRefused() {
        #expect(throws: CryptoError.malformedPEM(source: "private key", expected: "private key")) {
            try PrivateKey(pem: Array("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n".utf8))
        }
    }

    @Test func openSSLFailuresCarryTheWholeErrorQueue() {
        do {
            _ = try PublicKey(subjectPublicKeyInfo: [0x30, 0x03, 0x02, 0x01, 0x00])
            Issue.record("garbage was accepted as a public key")
        } catch let CryptoError.openSSL(error) {
            #expect(error.operation == "d2i_PUBKEY")
            #expect(!error.queue.isEmpty)
            #expect(error.description.contains("d2i_PUBKEY failed:"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
