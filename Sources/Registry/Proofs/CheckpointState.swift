import Foundation
import MineralWire
import OpenSSLCrypto
import SwiftProtobuf

/// What a new node starts from when it joins from a checkpoint (views.proto, "Checkpoint
/// state"): a checkpoint (the same vector V and digest D signed by a node of every participant
/// of the quorum), the views at V, and the entry at V of every feed, which the feeds continue
/// from. Decoded from a peer, everything in it is checked before anything is taken: the
/// statements' signatures, the quorum, every entry's signature, the views recomputed and their
/// digest compared with D, one base per feed of V.
public struct CheckpointState: Sendable {
    public let checkpoint: ConvergenceTracker.Checkpoint
    public let views: RegistryViews
    /// The entry at V of every feed of V.
    public let bases: [Entry]
    /// The entries about alerts the views hold (a node's own snapshots leave them out).
    public let alertEntries: [Entry]

    /// Bounds on what a peer may make this node check.
    public static let maximumStatements = 1024
    public static let maximumFeeds = 10_000

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case undecodable(String)
        case statement(String)
        /// No quorum: participants of the quorum with no statement (or none that matches).
        case missingCoSignatures([ParticipantID])
        /// A statement whose signature is not its node's (forged, or by a revoked certificate).
        case forgedCoSignature(NodeID)
        case views(ViewsSnapshotError)
        /// The views hold another vector or digest than the checkpoint names.
        case viewsDoNotMatch(String)
        case bases(String)

        public var description: String {
            switch self {
            case .undecodable(let reason): "the checkpoint state does not decode: \(reason)"
            case .statement(let reason): "a statement of the checkpoint: \(reason)"
            case .missingCoSignatures(let participants):
                "the checkpoint lacks a matching statement of \(participants.map(\.description).joined(separator: ", ")), in the quorum"
            case .forgedCoSignature(let node): "the checkpoint's statement of \(node) is not signed by a certificate of \(node) in force"
            case .views(let error): "the checkpoint's views: \(error)"
            case .viewsDoNotMatch(let reason): "the views do not match the checkpoint: \(reason)"
            case .bases(let reason): "the checkpoint's feed bases: \(reason)"
            }
        }
    }

    /// The encoded state a node serves: its checkpoint, its views snapshot at the checkpoint's
    /// vector (with every entry about alerts in it) and the entry at V of every feed.
    public static func encode(_ checkpoint: ConvergenceTracker.Checkpoint, views: [UInt8], bases: [SignedEntry]) throws -> [UInt8] {
        var message = Mineralsync_V1_CheckpointState()
        message.statements = checkpoint.statements.map(\.wire)
        message.views = try Mineralsync_V1_ViewsSnapshot(serializedBytes: views)
        message.bases = bases.map(\.wire)
        return try message.serializedBytes()
    }

    /// A checkpoint state from a peer, checked whole. `quorum`: the participants whose
    /// statements make a checkpoint here. `statementSigned`: whether a statement is signed by a
    /// certificate of its node in force. `entrySigned`: whether an entry is signed by its origin.
    public init(
        decoding bytes: [UInt8], policy: EntryPolicy, quorum: Set<ParticipantID>,
        statementSigned: (SignedStatement) -> Bool, entrySigned: (Entry) -> Bool
    ) throws(Problem) {
        let message: Mineralsync_V1_CheckpointState
        do { message = try Mineralsync_V1_CheckpointState(serializedBytes: bytes) } catch { throw .undecodable("\(error)") }
        guard message.statements.count <= Self.maximumStatements, message.bases.count <= Self.maximumFeeds else {
            throw .undecodable("\(message.statements.count) statements and \(message.bases.count) bases, more than it may hold")
        }
        var statements: [SignedStatement] = []
        for wire in message.statements {
            do throws(SignedStatement.Problem) { statements.append(try SignedStatement(wire: wire)) } catch { throw .statement(error.description) }
        }
        checkpoint = try Self.checkpoint(of: statements, quorum: quorum, signed: statementSigned)

        // Cheapest first: what the snapshot claims, then its digest recomputed (hashing only),
        // and only then every entry's signature (a peer's made-up views cost no signature check).
        guard message.views.digest == Data(checkpoint.digest.bytes) else {
            throw .viewsDoNotMatch(
                "the snapshot names digest \(message.views.digest.map { String(format: "%02x", $0) }.joined()), the checkpoint \(checkpoint.digest.hex)")
        }
        let viewsBytes: [UInt8]
        do { viewsBytes = try message.views.serializedBytes() } catch { throw .undecodable("\(error)") }
        do throws(ViewsSnapshotError) {
            _ = try RegistryViews(snapshot: viewsBytes, policy: policy)
            views = try RegistryViews(snapshot: viewsBytes, policy: policy, check: entrySigned)
        } catch {
            throw .views(error)
        }
        guard views.folded == checkpoint.vector else {
            throw .viewsDoNotMatch("they show \(views.folded.total) entries, the checkpoint \(checkpoint.vector.total)")
        }
        // Their digest is the checkpoint's: the snapshot names the checkpoint's (checked above),
        // and decoding recomputed the views' digest and compared it with the one the snapshot names.
        alertEntries = message.views.entries.compactMap { wire in
            guard let entry = try? EntryCodec.decode(SignedEntry(wire: wire)),
                entry.subject?.hasPrefix(Entry.alertSubjectStart) == true
            else { return nil }
            return entry
        }

        var bases: [NodeID: Entry] = [:]
        for wire in message.bases {
            let entry: Entry
            do { entry = try EntryCodec.decode(SignedEntry(wire: wire)) } catch { throw .bases("\(error)") }
            guard entry.seq == checkpoint.vector[entry.origin] else {
                throw .bases("\(entry) is not at the checkpoint's position of its feed (\(checkpoint.vector[entry.origin]))")
            }
            guard bases.updateValue(entry, forKey: entry.origin) == nil else { throw .bases("two for \(entry.origin)") }
            guard entrySigned(entry) else { throw .bases("\(entry) is not signed by its origin") }
        }
        let missing = checkpoint.vector.heads.keys.filter { bases[$0] == nil }.sorted()
        guard missing.isEmpty else { throw .bases("none for \(missing.map(\.description).joined(separator: ", "))") }
        self.bases = bases.values.sorted { $0.origin < $1.origin }
    }

    /// The checkpoint the statements make: all at one vector and digest, signed, a statement of
    /// a node of every participant of the quorum among them.
    public static func checkpoint(
        of statements: [SignedStatement], quorum: Set<ParticipantID>,
        signed: (SignedStatement) -> Bool
    ) throws(Problem) -> ConvergenceTracker.Checkpoint {
        guard !quorum.isEmpty else { throw .missingCoSignatures([]) }
        guard let first = statements.first else { throw .missingCoSignatures(quorum.sorted()) }
        let (vector, digest) = (first.statement.vector, first.statement.digest)
        var byParticipant: [ParticipantID: SignedStatement] = [:]
        for statement in statements {
            guard statement.statement.vector == vector, statement.statement.digest == digest else {
                throw .statement("\(statement.statement.node) signed another vector or digest than \(first.statement.node)")
            }
            let participant = statement.statement.node.participant
            guard quorum.contains(participant), byParticipant[participant] == nil else { continue }
            guard signed(statement) else { throw .forgedCoSignature(statement.statement.node) }
            byParticipant[participant] = statement
        }
        let missing = quorum.filter { byParticipant[$0] == nil }.sorted()
        guard missing.isEmpty else { throw .missingCoSignatures(missing) }
        guard !vector.heads.isEmpty, vector.heads.count <= maximumFeeds else { throw .statement("a vector of \(vector.heads.count) feeds") }
        return ConvergenceTracker.Checkpoint(vector: vector, digest: digest, statements: byParticipant.sorted { $0.key < $1.key }.map(\.value))
    }
}
