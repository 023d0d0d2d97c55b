import Foundation
import GRDB
import MineralWire
import OpenSSLCrypto
import Registry
import RegistryStore
import SwiftProtobuf
import TestSupport
import Testing

@Suite struct RegistryStoreTests {
    let alliance = TestAlliance.standard
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory(prefix: "store") }

    func path(_ name: String = "registry.sqlite") -> String { directory.path(name) }

    /// A registry with own entries and received ones from every other node.
    func populate(_ store: RegistryStore, count: Int = 40) throws -> MineralRegistry {
        var (registry, author) = try store.loadRegistry(key: alliance.nodes[store.node]!)
        var others = alliance.ids.filter { $0 != store.node }.map { FeedAuthor(node: $0, key: alliance.nodes[$0]!) }
        for index in 0..<count {
            let (own, next) = try registry.draft(Ops.report(store.node.participant, "gallium", "\(index)"), by: author, now: UInt64(1000 + index))
            try store.append([own], clock: next.clock.last)
            try registry.adoptOwn(own)
            author = next
            let other = index % others.count
            let entry = others[other].write(Ops.report(others[other].node.participant, "tungsten", "\(index)"), at: UInt64(1000 + index))
            let result = registry.ingest([entry.signed], keys: alliance.keys)
            try store.append(result.accepted)
        }
        return registry
    }

    @Test func appendCloseReopenGivesTheSameViewsAndFeedHead() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        let registry = try populate(store)
        try store.close()

        let reopened = try RegistryStore(path: path(), node: node)
        let (restored, author) = try reopened.loadRegistry(key: alliance.nodes[node]!)
        #expect(restored.views.digest == registry.views.digest)
        #expect(restored.vector == registry.vector)
        #expect(author.head == registry.ledger.head(of: node))
        #expect(author.nextSeq == 41)
        #expect(try reopened.entryCount == 80)
        #expect(author.clock.last >= HybridTimestamp(wallMillis: 1039))
        let served = try reopened.entries(of: node, in: 38...100)
        #expect(served.count == 3)
    }

    /// One append of three feeds interleaved, each reporting two minerals and more: every row
    /// keeps its own origin and subject (an append makes each text once and reuses it).
    @Test func anAppendOfInterleavedFeedsAndRegistersKeepsEachRowsOriginAndSubject() throws {
        let store = try RegistryStore(path: path(), node: alliance.node("EU/eu-1"))
        var authors = ["US/us-1", "JP/jp-1", "EU/eu-2"].map { alliance.author($0) }
        var entries: [Entry] = []
        for index in 0..<24 {
            let author = index % authors.count
            let participant = authors[author].node.participant
            let operation: EntryOperation =
                switch index % 4 {
                case 0: Ops.report(participant, "gallium", site: "site-\(index)")
                case 1: Ops.report(participant, "tungsten", site: "site-\(index)")
                case 2: Ops.target(participant, index % 8 == 2 ? "gallium" : "graphite")
                default: Ops.raise("barite", "alert \(index)")
                }
            entries.append(authors[author].write(operation, at: UInt64(1000 + index)))
        }
        try store.append(entries)
        for entry in entries {
            let subject = try #require(entry.subject)
            let found = try store.entries(subject: subject)
            #expect(found.contains { $0.id == entry.id }, "\(entry) not found under \(subject)")
            #expect(found.allSatisfy { $0.subject == subject })
            #expect(try store.entries(of: entry.origin, in: entry.seq...entry.seq).map(\.id) == [entry.id])
        }
        #expect(try store.feedHeads() == VersionVector(entries.map { ($0.origin, $0.seq) }.reduce(into: [:]) { $0[$1.0] = max($0[$1.0] ?? 0, $1.1) }))
        try store.close()
    }

    @Test func forkEvidenceSurvivesAReopenAndKeepsTheFeedFrozen() throws {
        let node = alliance.node("US/us-1")
        let store = try RegistryStore(path: path(), node: node)
        var registry = try populate(store, count: 0)
        var left = alliance.author("JP/jp-1")
        var right = left
        let a = left.write(Ops.report("JP"), at: 1)
        let b = right.write(Ops.report("JP", "gallium", "2"), at: 1)
        try store.append(registry.ingest([a.signed], keys: alliance.keys).accepted)
        let fork = try #require(registry.ingest([b.signed], keys: alliance.keys).forks.first)
        try store.record(fork)
        try store.close()
        let (restored, _) = try RegistryStore(path: path(), node: node).loadRegistry(key: alliance.nodes[node]!)
        #expect(restored.ledger.fork(of: alliance.node("JP/jp-1")) == fork)
    }

    @Test func everyCertificateOfAnOriginSurvivesAReopenInTheOrderMet() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        try store.record(certificateChain: [[1, 2, 3], [], [9]], of: alliance.node("JP/jp-1"))
        try store.record(certificateChain: [[4]], of: alliance.node("US/us-1"))
        try store.record(certificateChain: [[5, 6]], of: alliance.node("US/us-1"))  // a rotation: both kept
        try store.record(certificateChain: [[4], [7]], of: alliance.node("US/us-1"))  // the same leaf again: kept once
        try store.close()
        let chains = try RegistryStore(path: path(), node: node).loadCertificateChains()
        #expect(chains == [alliance.node("JP/jp-1"): [[[1, 2, 3], [], [9]]], alliance.node("US/us-1"): [[[4]], [[5, 6]]]])
    }

    /// A store written by the first release (schema 1: one chain per origin) opens, is upgraded
    /// in place, and keeps its entries and certificates.
    @Test func aStoreOfTheFirstSchemaIsUpgraded() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        let registry = try populate(store, count: 6)
        try store.close()
        // Back to schema 1, as the first release wrote it.
        let queue = try DatabaseQueue(path: path())
        try queue.write { db in
            try Self.undoSnapshotsMigration(db)
            try db.execute(
                sql: """
                    DROP TABLE origin_certificate;
                    DROP TABLE revocation_list;
                    CREATE TABLE origin_certificate (origin TEXT NOT NULL PRIMARY KEY, chain BLOB NOT NULL);
                    INSERT INTO origin_certificate(origin, chain) VALUES ('JP/jp-1', x'00000003010203');
                    DROP TABLE grdb_migrations;
                    PRAGMA user_version = 1;
                    """)
        }
        try queue.close()
        let reopened = try RegistryStore(path: path(), node: node)
        #expect(try reopened.loadCertificateChains() == [alliance.node("JP/jp-1"): [[[1, 2, 3]]]])
        let (restored, _) = try reopened.loadRegistry(key: alliance.nodes[node]!)
        #expect(restored.views.digest == registry.views.digest)
        try reopened.record(certificateChain: [[4, 5]], of: alliance.node("JP/jp-1"))
        #expect(try reopened.loadCertificateChains()[alliance.node("JP/jp-1")]?.count == 2)
        try reopened.record(revocationList: [1, 2], issuer: "US CA")
        #expect(try reopened.loadRevocationLists() == [[1, 2]])
        try reopened.close()
        let version = try DatabaseQueue(path: path()).read { try Int.fetchOne($0, sql: "PRAGMA user_version") }
        #expect(version == 6)
    }

    /// What migrations 3 and later add, taken out again: the store as schema 2 left it.
    static func undoSnapshotsMigration(_ db: Database) throws {
        try db.execute(
            sql: """
                DROP TABLE event_outbox;
                DROP TABLE hook_cursor;
                DROP INDEX entry_subject;
                ALTER TABLE entry DROP COLUMN subject;
                DROP TABLE feed_head;
                DROP TABLE snapshot;
                DROP TABLE feed_ids;
                DROP TABLE checkpoint;
                DROP TABLE checkpoint_state;
                DELETE FROM grdb_migrations WHERE identifier LIKE '3 %' OR identifier LIKE '4 %' OR identifier LIKE '5 %' OR identifier LIKE '6 %';
                PRAGMA user_version = 2;
                """)
    }

    /// A store of schema 2 gains its entries' subjects (the history behind a view is found by
    /// them), its feeds' heads, and snapshots; it loads by replaying, then from its snapshot.
    @Test func aStoreOfTheSecondSchemaGainsSubjectsAndSnapshots() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        let registry = try populate(store, count: 6)
        try store.close()
        let queue = try DatabaseQueue(path: path())
        try queue.write { try Self.undoSnapshotsMigration($0) }
        try queue.close()
        let reopened = try RegistryStore(path: path(), node: node)
        let gallium = try reopened.entries(subject: Entry.reserveSubject("EU", try MineralID("gallium")))
        #expect(!gallium.isEmpty)
        #expect(gallium.allSatisfy { $0.subject == Entry.reserveSubject("EU", try! MineralID("gallium")) })
        #expect(try reopened.feedHeads() == registry.vector)
        let loaded = try reopened.load(key: alliance.nodes[node]!)
        #expect(loaded.snapshotVector.heads.isEmpty && loaded.snapshotProblem == nil)
        #expect(loaded.registry.views.digest == registry.views.digest)
        try reopened.saveSnapshot(loaded.registry.snapshot(since: VersionVector()))
        let again = try reopened.load(key: alliance.nodes[node]!)
        #expect(again.snapshotVector == registry.vector)
        #expect(again.registry.views.digest == registry.views.digest)
        try reopened.close()
    }

    /// A stopped node's database file alone holds every commit (the WAL was checkpointed into
    /// it at close): a copy of that one file, as an operator might take, loses nothing.
    @Test func theDatabaseFileOfAClosedStoreHoldsEveryCommit() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        let registry = try populate(store, count: 30)
        _ = try store.entries(of: node, in: 1...30)  // a reader connection, open at close
        try store.close()
        try FileManager.default.copyItem(atPath: path(), toPath: path("copy.sqlite"))
        let copy = try RegistryStore(path: path("copy.sqlite"), node: node)
        let (restored, _) = try copy.loadRegistry(key: alliance.nodes[node]!)
        #expect(restored.vector == registry.vector)
        #expect(try copy.entryCount == 60)
        try copy.close()
    }

    /// The release before the migrator wrote schema 2 and said so in `user_version` alone: such
    /// a store is adopted (its migrations recorded as applied), not migrated again, and keeps
    /// everything.
    @Test func aStoreOfThePreviousSchemaMadeBeforeTheMigratorOpensAsItIs() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        let registry = try populate(store, count: 6)
        try store.record(certificateChain: [[7, 7]], of: alliance.node("JP/jp-1"))
        try store.close()
        let queue = try DatabaseQueue(path: path())
        try queue.write { db in
            try Self.undoSnapshotsMigration(db)
            try db.execute(sql: "DROP TABLE grdb_migrations")
        }
        try queue.close()

        let reopened = try RegistryStore(path: path(), node: node)
        let (restored, _) = try reopened.loadRegistry(key: alliance.nodes[node]!)
        #expect(restored.views.digest == registry.views.digest)
        #expect(try reopened.loadCertificateChains()[alliance.node("JP/jp-1")] == [[[7, 7]]])
        try reopened.close()
        let applied = try DatabaseQueue(path: path()).read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
        #expect(
            applied == [
                "1 first release", "2 key history and received CRLs", "3 entry subjects, feed heads and snapshots", "4 checkpoint states",
                "5 event outbox for hooks", "6 subjects of reports read anew"
            ])
    }

    /// A store a newer daemon migrated further (a migration this one does not know) is refused,
    /// even if that daemon left `user_version` alone.
    @Test func aStoreWithAMigrationThisDaemonDoesNotKnowIsRefused() throws {
        try RegistryStore(path: path(), node: alliance.node("EU/eu-1")).close()
        let queue = try DatabaseQueue(path: path())
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES ('4 something newer')") }
        try queue.close()
        do {
            _ = try RegistryStore(path: path(), node: alliance.node("EU/eu-1"))
            Issue.record("accepted")
        } catch {
            guard case .newerSchema = error else {
                Issue.record("wrong error \(error)")
                return
            }
        }
    }

    @Test func randomBytesAreNotADatabase() throws {
        try Data((0..<8192).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: path()))
        #expect(throws: StoreError.self) { try RegistryStore(path: path(), node: alliance.node("EU/eu-1")) }
        do { _ = try RegistryStore(path: path(), node: alliance.node("EU/eu-1")) } catch {
            guard case .notADatabase(let p) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(p == path())
            #expect(error.description.contains("is not an SQLite database"))
        }
    }

    @Test func anotherApplicationsDatabaseIsRefused() throws {
        let queue = try DatabaseQueue(path: path())
        try queue.write { try $0.execute(sql: "CREATE TABLE invoices(id INTEGER); PRAGMA application_id = 1234") }
        try queue.close()
        #expect(throws: StoreError.self) { try RegistryStore(path: path(), node: alliance.node("EU/eu-1")) }
        do { _ = try RegistryStore(path: path(), node: alliance.node("EU/eu-1")) } catch {
            guard case .foreignDatabase(_, 1234) = error else {
                Issue.record("wrong error \(error)")
                return
            }
        }
        let plain = try DatabaseQueue(path: path("plain.sqlite"))
        try plain.write { try $0.execute(sql: "CREATE TABLE t(x)") }
        try plain.close()
        do {
            _ = try RegistryStore(path: path("plain.sqlite"), node: alliance.node("EU/eu-1"))
            Issue.record("accepted")
        } catch {
            guard case .foreignDatabase(_, 0) = error else {
                Issue.record("wrong error \(error)")
                return
            }
        }
    }

    @Test func newerSchemaIsRefused() throws {
        try RegistryStore(path: path(), node: alliance.node("EU/eu-1")).close()
        let queue = try DatabaseQueue(path: path())
        try queue.write { try $0.execute(sql: "PRAGMA user_version = 7") }
        try queue.close()
        do {
            _ = try RegistryStore(path: path(), node: alliance.node("EU/eu-1"))
            Issue.record("accepted")
        } catch {
            guard case .newerSchema(_, 7, 6) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(error.description.contains("upgrade mineral-syncd"))
        }
    }

    @Test func storeOfAnotherNodeIsRefused() throws {
        try RegistryStore(path: path(), node: alliance.node("EU/eu-1")).close()
        do {
            _ = try RegistryStore(path: path(), node: alliance.node("EU/eu-2"))
            Issue.record("accepted")
        } catch {
            guard case .belongsToAnotherNode(_, "EU/eu-1", _) = error else {
                Issue.record("wrong error \(error)")
                return
            }
        }
    }

    /// After a clean stop the page check is not made at open (it reads the whole file); it is
    /// there to run meanwhile, and finds damage that opening did not look for.
    @Test func afterACleanStopTheOpenSkipsThePageCheckWhichStillFindsDamage() async throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        _ = try populate(store, count: 300)
        #expect(await store.checkIntegrity() == nil)
        try store.markCleanShutdown()
        try store.close()
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path()))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        handle.write(Data(repeating: 0xA5, count: 16384))
        try handle.close()
        let reopened = try RegistryStore(path: path(), node: node)
        #expect(!reopened.pagesCheckedAtOpen)
        #expect(await reopened.checkIntegrity() != nil)
    }

    @Test func corruptPagesAreReportedNotReset() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        _ = try populate(store, count: 300)
        try store.close()
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path()))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        handle.write(Data(repeating: 0xA5, count: 16384))
        try handle.close()
        let offset = Int(size / 2)
        for attempt in 0..<2 {
            // The node did not stop cleanly: the open itself checks every page and refuses.
            do {
                _ = try RegistryStore(path: path(), node: node)
                Issue.record("a corrupt store opened")
            } catch {
                switch error {
                case .corrupt, .notADatabase: #expect(error.description.contains(path()))
                default: Issue.record("attempt \(attempt): wrong error \(error)")
                }
            }
            // Nothing was reset or repaired: the damage is still there for a person to examine.
            let after = try Data(contentsOf: URL(fileURLWithPath: path()))
            #expect(after.count >= Int(size))
            #expect(after[offset..<(offset + 16384)].allSatisfy { $0 == 0xA5 })
        }
    }

    /// A writer killed with SIGKILL mid-stream loses no committed entry and leaves no partial one.
    /// The kill lands while the writer is still writing: it has reported the target number of
    /// commits and is running when the signal is sent. With snapshots saved every few batches,
    /// the kill may land in a snapshot's write: the store loads from the snapshot before (or
    /// this one), never from a mix, and gives the views a full replay gives.
    @Test(arguments: [(1, 0), (25, 0), (25, 3)])
    func killedWriterLosesNothingCommitted(batchSize: Int, batchesPerSnapshot: Int) async throws {
        for round in 0..<3 {
            let writer = Process()
            writer.executableURL = try CrashWriter.executable()
            writer.arguments = [path(), "\(batchSize)"] + (batchesPerSnapshot > 0 ? ["\(batchesPerSnapshot)"] : [])
            let output = Pipe()
            writer.standardOutput = output
            try writer.run()
            let target = UInt64(150 * (round + 1) * batchSize)
            var lastCommitted: UInt64 = 0
            var buffer = Data()
            while lastCommitted < target {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                let lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n")
                if let last = lines.last(where: { $0.hasPrefix("committed ") }), let seq = UInt64(last.dropFirst(10)) {
                    lastCommitted = seq
                }
            }
            #expect(lastCommitted >= target, "round \(round): the writer stopped after \(lastCommitted) commits, before the kill")
            #expect(writer.isRunning, "round \(round): the writer exited on its own (status \(writer.terminationStatus))")
            #expect(kill(writer.processIdentifier, SIGKILL) == 0)
            writer.waitUntilExit()
            #expect(writer.terminationReason == .uncaughtSignal && writer.terminationStatus == SIGKILL)

            let node = alliance.node("EU/eu-1")
            let store = try RegistryStore(path: path(), node: node)
            #expect(store.pagesCheckedAtOpen, "a crashed store's pages are checked at open")
            let entries = try store.loadEntries()  // every row decodes and matches its id
            let loaded = try store.load(key: alliance.nodes[node]!)  // chain intact
            let (registry, author) = (loaded.registry, loaded.author)
            #expect(loaded.snapshotProblem == nil)
            if batchesPerSnapshot > 0 {
                #expect(!loaded.snapshotVector.heads.isEmpty, "round \(round): no snapshot was loaded")
                var replayed = MineralRegistry()
                for entry in entries { try replayed.replay(entry) }
                #expect(registry.views.digest == replayed.views.digest)
            }
            let held = registry.vector[node]
            #expect(held >= lastCommitted, "round \(round): committed \(lastCommitted), found \(held)")
            #expect(held - lastCommitted <= UInt64(2 * batchSize), "more than the in-flight batches appeared")
            #expect(UInt64(entries.count) == held)
            #expect(held % UInt64(batchSize) == 0, "a batch was half-committed")
            #expect(author.nextSeq == held + 1)
            try store.close()
        }
    }

    // MARK: snapshots

    /// A restart from a snapshot and the entries after it gives what a replay of every entry
    /// gives, and reads only the entries after the snapshot.
    @Test func aSnapshotAndTheEntriesAfterItGiveTheReplayedRegistry() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        let early = try populate(store, count: 20)
        try store.saveSnapshot(early.snapshot(since: VersionVector()))
        try store.close()
        let reopened = try RegistryStore(path: path(), node: node)
        let registry = try populate(reopened, count: 15)
        #expect(registry.vector != early.vector)
        let loaded = try reopened.load(key: alliance.nodes[node]!)
        #expect(loaded.snapshotProblem == nil)
        #expect(loaded.snapshotVector == early.vector)
        #expect(loaded.registry.vector == registry.vector)
        #expect(loaded.registry.views.digest == registry.views.digest)
        #expect(loaded.author.nextSeq == registry.vector[node] + 1)
        // The next snapshot writes only the id chunks that changed; the one after loads whole.
        try reopened.saveSnapshot(loaded.registry.snapshot(since: loaded.snapshotVector))
        let again = try reopened.load(key: alliance.nodes[node]!)
        #expect(again.snapshotVector == registry.vector)
        #expect(again.registry.views.digest == registry.views.digest)
        #expect(again.registry.ledger.head(of: node) == registry.ledger.head(of: node))
        try reopened.close()
    }

    /// A certificate revoked since the snapshot hides what it signed: the views the snapshot
    /// holds show more than they may, so they are folded again, and equal what a start without
    /// a snapshot shows under the same revocation.
    @Test func aRevocationSinceTheSnapshotGivesTheViewsAReplayGives() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        let registry = try populate(store, count: 12)
        try store.saveSnapshot(registry.snapshot(since: VersionVector()))
        // The entries here name no certificate: revoking "none" hides every one not vouched for.
        let revoked: Set<SignerID> = [.zero]
        let fromSnapshot = try store.load(key: alliance.nodes[node]!, revokedSigners: revoked)
        #expect(fromSnapshot.snapshotProblem == nil && fromSnapshot.snapshotVector == registry.vector)
        #expect(!fromSnapshot.registry.hiddenFeeds.isEmpty)
        #expect(fromSnapshot.registry.views.digest != registry.views.digest)
        try tamper("DELETE FROM snapshot")
        let replayed = try store.load(key: alliance.nodes[node]!, revokedSigners: revoked)
        #expect(replayed.snapshotVector.heads.isEmpty)
        #expect(replayed.registry.hiddenFeeds == fromSnapshot.registry.hiddenFeeds)
        #expect(replayed.registry.views.digest == fromSnapshot.registry.views.digest)
        try store.close()
    }

    /// A snapshot changed on disk (one byte anywhere) is detected and not used: the registry is
    /// folded from the entries, and the load says why.
    @Test(arguments: ["views", "ledger", "ids", "checksum"])
    func aTamperedSnapshotIsDetectedAndTheEntriesReplayed(part: String) throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        let registry = try populate(store, count: 12)
        try store.saveSnapshot(registry.snapshot(since: VersionVector()))
        try store.close()
        let (table, column, row) = part == "ids" ? ("feed_ids", "ids", "origin = 'EU/eu-1' AND chunk = 0") : ("snapshot", part, "slot = 1")
        let queue = try DatabaseQueue(path: path())
        try queue.write { db in
            var blob = [UInt8](try Data.fetchOne(db, sql: "SELECT \(column) FROM \(table) WHERE \(row)")!)
            blob[blob.count / 2] ^= 0x01
            try db.execute(sql: "UPDATE \(table) SET \(column) = ? WHERE \(row)", arguments: [Data(blob)])
        }
        try queue.close()
        let loaded = try RegistryStore(path: path(), node: node).load(key: alliance.nodes[node]!)
        #expect(loaded.snapshotProblem != nil, "a changed \(part) went unnoticed")
        #expect(loaded.snapshotVector.heads.isEmpty)
        #expect(loaded.registry.views.digest == registry.views.digest)
        #expect(loaded.registry.vector == registry.vector)
    }

    /// Views that are not those the snapshot's digest names (a bug, or a forgery that kept the
    /// checksum right) are refused by the digest check.
    @Test func aSnapshotWhoseViewsDoNotMatchItsDigestIsNotUsed() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        let registry = try populate(store, count: 12)
        let snapshot = registry.snapshot(since: VersionVector())
        // Another registry's views (fewer entries) under this snapshot's digest.
        var fewer = MineralRegistry()
        for entry in try store.loadEntries().prefix(5) { try fewer.replay(entry) }
        var forged = try Mineralsync_V1_ViewsSnapshot(serializedBytes: fewer.views.snapshot(alertEntries: []))
        forged.digest = Data(registry.views.digest.bytes)
        try store.saveSnapshot(
            RegistrySnapshot(
                vector: snapshot.vector, ledger: snapshot.ledger, views: try forged.serializedBytes(),
                idChunks: snapshot.idChunks))
        let loaded = try store.load(key: alliance.nodes[node]!)
        #expect(loaded.snapshotProblem?.contains("digest") == true, "\(loaded.snapshotProblem ?? "no problem found")")
        #expect(loaded.registry.views.digest == registry.views.digest)
        try store.close()
    }

    /// The latest checkpoint survives a reopen; one changed on disk is not taken for one.
    @Test func aCheckpointIsKeptAndADamagedOneIsNone() throws {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        #expect(try store.loadCheckpoint() == nil)
        let vector = VersionVector([node: 3])
        let digest = SHA256.hash(Array("views".utf8))
        let statements = try ["EU/eu-1", "JP/jp-1", "US/us-1"].map { name in
            let id = alliance.node(name)
            return try SignedStatement.signing(
                ViewStatement(node: id, vector: vector, digest: digest, signedAtMillis: 5),
                key: alliance.nodes[id]!, signer: SHA256.hash(Array(name.utf8)))
        }
        let checkpoint = ConvergenceTracker.Checkpoint(vector: vector, digest: digest, statements: statements)
        try store.saveCheckpoint(checkpoint)
        try store.close()
        #expect(try RegistryStore(path: path(), node: node).loadCheckpoint() == checkpoint)
        try tamper("UPDATE checkpoint SET statements = x'0a0300'")
        #expect(try RegistryStore(path: path(), node: node).loadCheckpoint() == nil)
    }

    // MARK: a store changed behind the node's back

    /// Runs one SQL statement on the store file, as someone with access to the disk could.
    func tamper(_ sql: String, _ arguments: StatementArguments = []) throws {
        let queue = try DatabaseQueue(path: path())
        try queue.write { try $0.execute(sql: sql, arguments: arguments) }
        try queue.close()
    }

    func populatedStore(_ count: Int = 10) throws -> NodeID {
        let node = alliance.node("EU/eu-1")
        let store = try RegistryStore(path: path(), node: node)
        _ = try populate(store, count: count)
        try store.close()
        return node
    }

    /// Loading must refuse, naming the store and the entry; never skip, never repair.
    func expectDamage(at origin: String, seq: Int64, saying reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let node = alliance.node("EU/eu-1")
        do {
            let store = try RegistryStore(path: path(), node: node)
            _ = try store.load(key: alliance.nodes[node]!)
            Issue.record("a tampered store loaded", sourceLocation: sourceLocation)
        } catch {
            guard case .damagedEntry(let p, let o, let s, let why) = error else {
                Issue.record("wrong error \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(p == path() && o == origin && s == seq, "\(error)", sourceLocation: sourceLocation)
            #expect(why.contains(reason), "\(why)", sourceLocation: sourceLocation)
            #expect(error.description.contains(path()), sourceLocation: sourceLocation)
        }
    }

    @Test func aRowWhoseBodyWasChangedIsDamage() throws {
        _ = try populatedStore()
        // Rewrite "gallium" as "gallion" in EU/eu-1#4's body: it still decodes, but its id no
        // longer matches (and its signature would not verify).
        let queue = try DatabaseQueue(path: path())
        try queue.write { db in
            var body = [UInt8](try Data.fetchOne(db, sql: "SELECT body FROM entry WHERE origin = 'EU/eu-1' AND seq = 4")!)
            let word = Array("gallium".utf8)
            let at = try #require((0...(body.count - word.count)).first { Array(body[$0..<($0 + word.count)]) == word })
            body[at + 5] = UInt8(ascii: "o")
            body[at + 6] = UInt8(ascii: "n")
            try db.execute(sql: "UPDATE entry SET body = ? WHERE origin = 'EU/eu-1' AND seq = 4", arguments: [Data(body)])
        }
        try queue.close()
        try expectDamage(at: "EU/eu-1", seq: 4, saying: "row key or id does not match the body")
    }

    @Test func aRowRewrittenConsistentlyBreaksTheChainAfterIt() throws {
        _ = try populatedStore()
        // Put seq 3's body and id at seq 4 too (a consistent row, wrong place): the key no
        // longer matches the body.
        try tamper(
            "UPDATE entry SET body = (SELECT body FROM entry WHERE origin = 'EU/eu-1' AND seq = 3), id = (SELECT id FROM entry WHERE origin = 'EU/eu-1' AND seq = 3) WHERE origin = 'EU/eu-1' AND seq = 4"
        )
        try expectDamage(at: "EU/eu-1", seq: 4, saying: "row key or id does not match the body")
    }

    @Test func aChangedSignatureInsideAFeedBreaksTheLinkOfTheNextEntry() throws {
        _ = try populatedStore()
        try tamper("UPDATE entry SET signature = zeroblob(64) WHERE origin = 'EU/eu-1' AND seq = 5")
        try expectDamage(at: "EU/eu-1", seq: 6, saying: "does not link to the held entry before it")
    }

    @Test func aMissingRowIsAGapNotSkipped() throws {
        _ = try populatedStore()
        try tamper("DELETE FROM entry WHERE origin = 'EU/eu-1' AND seq = 7")
        try expectDamage(at: "EU/eu-1", seq: 8, saying: "does not follow the held head 6")
    }

    @Test func anIDColumnThatDisagreesWithTheBodyIsDamage() throws {
        _ = try populatedStore()
        try tamper("UPDATE entry SET id = zeroblob(32) WHERE origin = 'US/us-1' AND seq = 2")
        try expectDamage(at: "US/us-1", seq: 2, saying: "row key or id does not match the body")
    }

    @Test func damagedForkEvidenceIsReportedNotDropped() throws {
        _ = try populatedStore()
        try tamper("INSERT INTO fork_evidence(origin, seq, kind, held, body, signature) VALUES ('JP/jp-1', 1, 'same-sequence', x'0102', x'00', x'00')")
        try expectDamage(at: "JP/jp-1", seq: 1, saying: "fork evidence does not decode")
    }
}

enum CrashWriter {
    static func executable() throws -> URL { try BuiltExecutable.url("StoreCrashWriter") }
}

extension RegistryStore {
    /// `load`'s registry and author.
    func loadRegistry(key: PrivateKey) throws -> (MineralRegistry, FeedAuthor) {
        let loaded = try load(key: key)
        return (loaded.registry, loaded.author)
    }
}
