import Foundation
import MineralWire
import OpenSSLCrypto
import Registry
import SwiftProtobuf

/// The history below a checkpoint in a file anyone holding the participants' trust anchors can
/// check later (views.proto, "History archive"): written by a node that holds every entry
/// (`write`), checked by `verify` entry by entry, without a store, in bounded memory but for
/// the ledger's 32 bytes per entry.
public enum HistoryArchive {
    static let magic = Array("MSARCH01".utf8)
    /// Entries per `ArchiveEntries` message, and the largest frame a reader takes.
    static let entriesPerFrame = 10_000
    static let maximumFrameBytes = 64 << 20

    public struct Summary: Sendable {
        public let entries: UInt64
        public let bytes: Int
        public let vector: VersionVector
        public let digest: SHA256Digest
        public let signedBy: [NodeID]
    }

    public enum Problem: Error, Sendable, CustomStringConvertible {
        case unreadable(String)
        case notAnArchive(String)
        case checkpoint(String)
        case certificate(NodeID, String)
        case entry(String)
        case incomplete(String)
        case viewsDoNotMatch(String)

        public var description: String {
            switch self {
            case .unreadable(let reason): "the archive cannot be read: \(reason)"
            case .notAnArchive(let reason): "not a MineralSync history archive: \(reason)"
            case .checkpoint(let reason): "the archive's checkpoint does not check out: \(reason)"
            case .certificate(let node, let reason): "a certificate of \(node) in the archive is not trusted: \(reason)"
            case .entry(let reason): "an entry of the archive does not check out: \(reason)"
            case .incomplete(let reason): "the archive is incomplete: \(reason)"
            case .viewsDoNotMatch(let reason): "the archive's entries do not show what the checkpoint signed: \(reason)"
            }
        }
    }

    /// Writes the archive to `path` (a new file, mode 0600, moved into place when complete):
    /// the header, then `entries` calls `emit` with batches of signed entries, feed by feed in
    /// seq order, every entry 1...V[feed] of every feed of the checkpoint's vector V.
    public static func write(
        to path: String, checkpoint: ConvergenceTracker.Checkpoint, chains: [NodeID: [[[UInt8]]]],
        entries: (_ emit: ([SignedEntry]) throws -> Void) throws -> Void
    ) throws -> Summary {
        let temporary = path + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
            let file = FileHandle(forWritingAtPath: temporary)
        else {
            throw Problem.unreadable("cannot create \(temporary)")
        }
        var written = 0
        func frame(_ message: some SwiftProtobuf.Message) throws {
            let bytes: [UInt8] = try message.serializedBytes()
            var length = UInt32(bytes.count).bigEndian
            try file.write(contentsOf: Data(bytes: &length, count: 4) + Data(bytes))
            written += 4 + bytes.count
        }
        do {
            defer { try? file.close() }
            try file.write(contentsOf: Data(magic))
            written = magic.count
            var header = Mineralsync_V1_ArchiveHeader()
            header.version = 1
            header.statements = checkpoint.statements.map(\.wire)
            header.chains = chains.sorted { $0.key < $1.key }.flatMap { node, list in
                list.map { chain in
                    var wire = Mineralsync_V1_ArchiveChain()
                    wire.node = node.wire
                    wire.chain = chain.map { Data($0) }
                    return wire
                }
            }
            header.entries = checkpoint.vector.total
            try frame(header)
            var count: UInt64 = 0
            try entries { batch in
                for start in stride(from: 0, to: batch.count, by: entriesPerFrame) {
                    var message = Mineralsync_V1_ArchiveEntries()
                    message.entries = batch[start..<min(start + entriesPerFrame, batch.count)].map(\.wire)
                    try frame(message)
                }
                count += UInt64(batch.count)
            }
            guard count == checkpoint.vector.total else {
                throw Problem.incomplete("\(count) entries were read for a checkpoint of \(checkpoint.vector.total)")
            }
            try file.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
        return Summary(
            entries: checkpoint.vector.total, bytes: written, vector: checkpoint.vector, digest: checkpoint.digest,
            signedBy: checkpoint.statements.map(\.statement.node))
    }

    /// Checks the archive at `path` against `trustStore`'s anchors: a statement of every
    /// participant it trusts, every certificate chained to its participant's anchor, every entry
    /// signed and linked, all of them up to the checkpoint's vector, and their views' digest
    /// the signed one.
    public static func verify(path: String, trustStore: TrustStore, policy: EntryPolicy = EntryPolicy()) throws(Problem) -> Summary {
        guard let file = FileHandle(forReadingAtPath: path) else { throw .unreadable("cannot open \(path)") }
        defer { try? file.close() }
        var read = 0
        func bytes(_ count: Int) throws(Problem) -> [UInt8]? {
            let data: Data?
            do { data = try file.read(upToCount: count) } catch { throw .unreadable("\(error)") }
            guard let data, !data.isEmpty else { return nil }
            guard data.count == count else { throw .notAnArchive("it ends within a frame") }
            read += count
            return [UInt8](data)
        }
        func nextFrame() throws(Problem) -> [UInt8]? {
            guard let prefix = try bytes(4) else { return nil }
            let length = prefix.reduce(0) { $0 << 8 | Int($1) }
            guard length <= maximumFrameBytes else { throw .notAnArchive("a frame of \(length) bytes") }
            return try bytes(length) ?? []
        }
        guard try bytes(magic.count) == magic else { throw .notAnArchive("it does not start with \"MSARCH01\"") }
        guard let headerBytes = try nextFrame(), let header = try? Mineralsync_V1_ArchiveHeader(serializedBytes: headerBytes), header.version == 1 else {
            throw .notAnArchive("its header does not decode, or has another version than 1")
        }

        var keys = OriginKeys()
        var revoked: Set<SignerID> = []
        for wire in header.chains {
            guard let node = try? NodeID(wire: wire.node) else { throw .notAnArchive("a certificate names no node") }
            do {
                let (key, isRevoked) = try OriginTrust.verifiedSignerKey(wire.chain.map { [UInt8]($0) }, of: node, by: trustStore)
                keys.add(key, for: node)
                if isRevoked { revoked.insert(key.id) }
            } catch {
                throw .certificate(node, "\(error)")
            }
        }
        var statements: [SignedStatement] = []
        for wire in header.statements {
            do throws(SignedStatement.Problem) { statements.append(try SignedStatement(wire: wire)) } catch { throw .checkpoint(error.description) }
        }
        let quorum = Set(trustStore.anchors.keys.compactMap { try? ParticipantID($0) })
        let checkpoint: ConvergenceTracker.Checkpoint
        do {
            checkpoint = try CheckpointState.checkpoint(of: statements, quorum: quorum) { keys.verifies($0, revoked: revoked) }
        } catch {
            throw .checkpoint(error.description)
        }

        var registry = MineralRegistry(policy: policy)
        _ = registry.setRevokedSigners(revoked)
        var count: UInt64 = 0
        while let frame = try nextFrame() {
            guard let message = try? Mineralsync_V1_ArchiveEntries(serializedBytes: frame) else { throw .notAnArchive("a frame of entries does not decode") }
            let batch = message.entries.map(SignedEntry.init(wire:))
            let result = registry.ingest(batch, signers: keys.lookup)
            if let rejection = result.rejected.first { throw .entry(rejection.description) }
            if let fork = result.forks.first { throw .entry("two entries for one position: \(fork)") }
            guard result.accepted.count == batch.count else {
                throw .entry("\(batch.count - result.accepted.count) entries of a frame do not follow the ones before them")
            }
            count += UInt64(batch.count)
            guard count <= checkpoint.vector.total else { throw .incomplete("more entries than the checkpoint's \(checkpoint.vector.total)") }
        }
        guard registry.vector == checkpoint.vector else {
            throw .incomplete("its entries reach \(registry.vector.total) of the checkpoint's \(checkpoint.vector.total)")
        }
        let digest = registry.views.digest
        guard digest == checkpoint.digest else {
            throw .viewsDoNotMatch("their digest is \(digest.hex), the checkpoint's \(checkpoint.digest.hex)")
        }
        return Summary(entries: count, bytes: read, vector: checkpoint.vector, digest: digest, signedBy: checkpoint.statements.map(\.statement.node))
    }
}
