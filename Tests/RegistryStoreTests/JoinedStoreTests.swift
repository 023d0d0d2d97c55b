import Foundation
import GRDB
import OpenSSLCrypto
import Registry
import RegistryStore
import TestSupport
import Testing

/// A store that started from a checkpoint (it never held the entries before it): it restarts to
/// the same registry from its snapshot or, when that does not check out, from the checkpoint
/// state and the entries after it; and an older store gains the table that keeps such states.
@Suite struct JoinedStoreTests {
    let alliance = TestAlliance.standard
    let directory: TemporaryDirectory
    let node: NodeID

    init() throws {
        directory = try TemporaryDirectory(prefix: "joined-store")
        node = alliance.node("EU/eu-1")
    }

    var path: String { directory.path("registry.sqlite") }

    /// Entries of every other node: reports, targets, an alert acknowledged and updated.
    func history(_ count: Int) -> [Entry] {
        var authors = alliance.ids.filter { $0 != node }.map { FeedAuthor(node: $0, key: alliance.nodes[$0]!) }
        var entries: [Entry] = []
        var alert: EntryID?
        for index in 0..<count {
            let which = index % authors.count
            let participant = authors[which].node.participant
            let now = UInt64(1_000 + index)
            let operation: EntryOperation =
                switch index % 7 {
                case 3: alert.map { Ops.ack($0, participant) } ?? Ops.raise()
                case 5: Ops.target(participant, "graphite", "\(index)")
                default: Ops.report(participant, "gallium", "\(index)", site: "site-\(index % 3)")
                }
            let entry = authors[which].write(operation, at: now)
            if alert == nil, case .raiseAlert = operation { alert = entry.id }
            entries.append(entry)
        }
        return entries
    }

    /// A store joined at the vector of `before`, then holding `after`; and the registry of all.
    func joinedStore(before: [Entry], after: [Entry]) throws -> (store: RegistryStore, registry: MineralRegistry) {
        let (bytes, _) = try CheckpointFixture.state(of: before)
        let state = try CheckpointFixture.decode(bytes)
        var registry = try MineralRegistry(joining: state)
        let store = try RegistryStore(path: path, node: node)
        try store.join(from: bytes, checkpoint: state.checkpoint, snapshot: registry.snapshot(since: VersionVector()))
        let result = registry.ingest(after.map(\.signed), keys: alliance.keys)
        try store.append(result.accepted)
        return (store, registry)
    }

    /// Runs SQL on the closed store's file, as an operator's tool (or damage) would.
    func execute(_ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }

    func reference(_ entries: [Entry]) -> MineralRegistry {
        var registry = MineralRegistry()
        _ = registry.ingest(entries.map(\.signed), keys: alliance.keys)
        return registry
    }

    @Test func aJoinedStoreRestartsFromItsSnapshotsOrItsCheckpointState() async throws {
        let entries = history(60)
        let (store, joined) = try joinedStore(before: Array(entries.prefix(30)), after: Array(entries.dropFirst(30)))
        let everything = reference(entries)
        #expect(joined.views.digest == everything.views.digest)
        try store.close()

        // The snapshot of the join, and the entries after it.
        var reopened = try RegistryStore(path: path, node: node)
        var loaded = try reopened.load(key: alliance.nodes[node]!)
        #expect(loaded.snapshotProblem == nil)
        #expect(loaded.joined != nil)
        #expect(loaded.registry.vector == everything.vector)
        #expect(loaded.registry.views.digest == everything.views.digest)
        #expect(try reopened.entryCount == 30)  // nothing before the checkpoint is held
        // A later snapshot, covering the entries after the join.
        try reopened.saveSnapshot(loaded.registry.snapshot(since: loaded.snapshotVector))
        try reopened.close()
        reopened = try RegistryStore(path: path, node: node)
        loaded = try reopened.load(key: alliance.nodes[node]!)
        #expect(loaded.snapshotVector == everything.vector)
        #expect(loaded.registry.views.digest == everything.views.digest)
        try reopened.close()

        // A snapshot changed by one byte: rebuilt from the checkpoint state and the entries.
        try execute("UPDATE snapshot SET views = CAST(views AS BLOB) || x'00'")
        reopened = try RegistryStore(path: path, node: node)
        loaded = try reopened.load(key: alliance.nodes[node]!)
        #expect(loaded.snapshotProblem != nil)
        #expect(loaded.snapshotVector.heads.isEmpty)
        #expect(loaded.registry.vector == everything.vector)
        #expect(loaded.registry.views.digest == everything.views.digest)
        // And the rebuild after a revocation or a cut starts from the checkpoint's views.
        var rebuilt = loaded.registry
        try reopened.rebuildViews(of: &rebuilt)
        #expect(rebuilt.views.digest == everything.views.digest)
        // It serves the state it joined from.
        #expect(await reopened.servedCheckpointState() != nil)
        try reopened.close()
    }

    @Test func aStoreThatHoldsEntriesDoesNotJoin() throws {
        let entries = history(20)
        let store = try RegistryStore(path: path, node: node)
        try store.append([entries[0]])
        let (bytes, _) = try CheckpointFixture.state(of: entries)
        let state = try CheckpointFixture.decode(bytes)
        #expect(throws: StoreError.self) {
            try store.join(from: bytes, checkpoint: state.checkpoint, snapshot: try MineralRegistry(joining: state).snapshot(since: VersionVector()))
        }
        #expect(try store.load(key: alliance.nodes[node]!).joined == nil)
        try store.close()
    }

    @Test func aDamagedCheckpointStateIsReportedNotSkipped() throws {
        let entries = history(20)
        let (store, _) = try joinedStore(before: Array(entries.prefix(10)), after: [])
        try store.close()
        try execute("UPDATE checkpoint_state SET state = CAST(state AS BLOB) || x'00' WHERE kind = 'joined'")
        let reopened = try RegistryStore(path: path, node: node)
        #expect {
            _ = try reopened.load(key: alliance.nodes[node]!)
        } throws: { error in
            "\(error)".contains("joined checkpoint state does not match its checksum")
        }
        try reopened.close()
    }

    /// A store of schema 3 gains the table of checkpoint states, and keeps everything.
    @Test func aStoreOfTheThirdSchemaGainsCheckpointStates() async throws {
        let entries = history(12)
        var store = try RegistryStore(path: path, node: node)
        try store.append(entries)
        try store.close()
        try execute(
            """
            DROP TABLE checkpoint_state;
            DELETE FROM grdb_migrations WHERE identifier LIKE '4 %';
            PRAGMA user_version = 3;
            """)
        store = try RegistryStore(path: path, node: node)
        #expect(try store.load(key: alliance.nodes[node]!).registry.vector == reference(entries).vector)
        try store.saveServedCheckpointState([1, 2, 3])
        #expect(await store.servedCheckpointState() == [1, 2, 3])
        try store.close()
    }
}
