import Foundation
import OpenSSLCrypto
import Registry

/// A test PKI written to disk the way an operator's would be: one CA file per participant and a
/// certificate and 0600 key per node, for config and daemon tests.
public struct PKIFiles: Sendable {
    public let directory: String

    public init(pki: TestPKI, directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (participant, authority) in pki.authorities {
            try write("\(participant.lowercased())-ca.pem", authority.certificate.pemRepresentation, mode: 0o644)
        }
    }

    /// Writes `<name>.pem` and `<name>.key` for `node`; returns their paths.
    @discardableResult
    public func write(_ node: TestNode, as name: String? = nil) throws -> (certificate: String, key: String) {
        let base = name ?? node.id.name
        return (
            try write("\(base).pem", node.certificate.pemRepresentation, mode: 0o644),
            try write("\(base).key", try node.key.pemRepresentation(), mode: 0o600)
        )
    }

    @discardableResult
    public func write(_ name: String, _ text: String, mode: Int) throws -> String {
        let path = (directory as NSString).appendingPathComponent(name)
        try? FileManager.default.removeItem(atPath: path)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    public func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
}

extension PKIFiles {
    /// What a daemon test starts from: a temporary root (removed with it), a test PKI, and the
    /// PKI's files written under `root/pki`.
    public static func daemonFixture(_ prefix: String) throws -> (TemporaryDirectory, TestPKI, PKIFiles) {
        let root = try TemporaryDirectory(prefix: prefix)
        let pki = try TestPKI()
        return (root, pki, try PKIFiles(pki: pki, directory: root.path("pki")))
    }
}
