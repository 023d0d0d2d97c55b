import Foundation
import GRDB
import Registry
import RegistryStore
import TestSupport
import Testing

/// The hooks' outbox: events written with their entries, each hook's cursor, what is kept.
@Suite struct EventOutboxTests {
    let alliance = TestAlliance.standard
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory(prefix: "outbox") }

    func raises(_ count: Int, from author: inout FeedAuthor) -> [(Entry, RegistryEvent)] {
        (0..<count).map { index in
            let entry = author.write(Ops.raise("gallium", "alert \(index)"), at: UInt64(1_000 + index))
            return (
                entry,
                RegistryEvent(
                    kind: .alertRaised, entry: entry.id, origin: entry.origin, seq: entry.seq, writtenAtMillis: entry.clock.wallMillis,
                    subject: .alert(entry.id), mineral: try! MineralID("gallium"), severity: .high)
            )
        }
    }

    @Test func eventsAreKeptWithTheirEntriesUntilEveryHookHasDeliveredThem() async throws {
        let path = directory.path("registry.sqlite")
        var eu = alliance.author("EU/eu-1")
        let store = try RegistryStore(path: path, node: alliance.node("EU/eu-1"))
        // Before any hook: nothing is waited for, and a hook met later starts after the newest.
        let written = raises(3, from: &eu)
        try store.append(written.map(\.0), events: written.map(\.1), committedAt: 5_000)
        #expect(try store.startHooks(["pager", "chat"]) == ["pager": 3, "chat": 3])
        #expect(try await store.outboxEvents(after: 0).events.isEmpty, "what no hook was there to hear of is not kept")

        let more = raises(4, from: &eu)
        try store.append(more.map(\.0), events: more.map(\.1), committedAt: 6_000)
        let kept = try await store.outboxEvents(after: 3).events
        #expect(kept.map(\.number) == [4, 5, 6, 7] && kept.map(\.event) == more.map(\.1) && kept.allSatisfy { $0.committedAtMillis == 6_000 })
        #expect(try await store.outboxEvents(after: 3, limit: 2).events.map(\.number) == [4, 5])
        #expect(try await store.outboxEvents(after: 3, limit: 2).through == 5)
        #expect(try await store.outboxEvents(after: 7).through == nil)

        // Kept until the slower hook has them too; a restart keeps each cursor.
        try await store.saveHookCursor("pager", delivered: 7)
        #expect(try await store.outboxEvents(after: 3).events.count == 4)
        try await store.saveHookCursor("chat", delivered: 5)
        #expect(try await store.outboxEvents(after: 0).events.map(\.number) == [6, 7])
        try await store.saveHookCursor("chat", delivered: 4)  // a cursor never goes back
        try store.close()
        let reopened = try RegistryStore(path: path, node: alliance.node("EU/eu-1"))
        #expect(try reopened.startHooks(["pager", "chat"]) == ["pager": 7, "chat": 5])
        // A hook no longer configured stops holding events back.
        #expect(try reopened.startHooks(["pager"]) == ["pager": 7])
        #expect(try await reopened.outboxEvents(after: 0).events.isEmpty)
        #expect(try await reopened.newestEvent() == 0, "the outbox is empty; its numbers go on")
        let later = raises(1, from: &eu)
        try reopened.append(later.map(\.0), events: later.map(\.1))
        #expect(try await reopened.outboxEvents(after: 7).events.map(\.number) == [8])
        try reopened.close()
    }

    @Test func aFullOutboxDropsItsOldestAndSaysHowMany() async throws {
        var eu = alliance.author("EU/eu-1")
        let store = try RegistryStore(path: directory.path("full.sqlite"), node: alliance.node("EU/eu-1"))
        _ = try store.startHooks(["pager"])
        let first = raises(6, from: &eu)
        #expect(try store.append(first.map(\.0), events: first.map(\.1), outboxLimit: 4) == 2)
        #expect(try await store.outboxEvents(after: 0).events.map(\.number) == [3, 4, 5, 6])
        let next = raises(1, from: &eu)
        #expect(try store.append(next.map(\.0), events: next.map(\.1), outboxLimit: 4) == 1)
        #expect(try await store.outboxEvents(after: 0).events.map(\.number) == [4, 5, 6, 7])
        try store.close()
    }

    /// Every subject and kind comes back as written.
    @Test func eventsRoundTrip() async throws {
        var eu = alliance.author("EU/eu-1")
        let store = try RegistryStore(path: directory.path("round.sqlite"), node: alliance.node("EU/eu-1"))
        _ = try store.startHooks(["pager"])
        let entry = eu.write(Ops.report("EU", "gallium", "1"), at: 1_000)
        let level = RegistryEvent(
            kind: .reserveBelowTarget, entry: entry.id, origin: entry.origin, seq: entry.seq, writtenAtMillis: 1_000,
            subject: .level(TargetKey(participant: "EU", mineral: try MineralID("rare-earth-magnets"))),
            mineral: try MineralID("rare-earth-magnets"), severity: nil)
        let segment = try NodeID(participant: "EU", name: "eu-1", segment: 7)
        let alert = RegistryEvent(
            kind: .alertAcknowledged, entry: entry.id, origin: segment, seq: 9, writtenAtMillis: 2_000, subject: .alert(entry.id),
            mineral: try MineralID("gallium"), severity: .info)
        try store.append([entry], events: [level, alert], committedAt: 3_000)
        #expect(try await store.outboxEvents(after: 0).events.map(\.event) == [level, alert])
        try store.close()
    }

    /// A store of schema 4 (the release before hooks) gains the outbox and keeps its entries.
    @Test func aStoreOfTheFourthSchemaGainsTheOutbox() async throws {
        let path = directory.path("v4.sqlite")
        var eu = alliance.author("EU/eu-1")
        let first = raises(2, from: &eu)
        var store = try RegistryStore(path: path, node: alliance.node("EU/eu-1"))
        try store.append(first.map(\.0))
        try store.close()
        try Self.execute(
            path,
            """
            DROP TABLE event_outbox;
            DROP TABLE hook_cursor;
            DELETE FROM grdb_migrations WHERE identifier LIKE '5 %' OR identifier LIKE '6 %';
            PRAGMA user_version = 4;
            """)
        store = try RegistryStore(path: path, node: alliance.node("EU/eu-1"))
        #expect(try store.feedHeads().total == 2)
        #expect(try store.startHooks(["pager"]) == ["pager": 0])
        let next = raises(1, from: &eu)
        try store.append(next.map(\.0), events: next.map(\.1))
        #expect(try await store.outboxEvents(after: 0).events.map(\.event) == next.map(\.1))
        try store.close()
        #expect(try Self.version(path) == 6)
    }

    /// A store of schema 5 kept a withheld figure without a subject (that release could not read
    /// it): opened by this one, the entry gains its subject, and its history finds it.
    @Test func aStoreOfTheFifthSchemaReadsItsEntriesSubjectsAnew() throws {
        let path = directory.path("v5.sqlite")
        var eu = alliance.author("EU/eu-1")
        let withheld = eu.write(
            .reportReserve(
                ReserveReport(
                    participant: "EU", mineral: try MineralID("gallium"), quantity: ReserveReport.withheldQuantity,
                    asOfMillis: 1_000, withheld: "national security")), at: 1_000)
        var store = try RegistryStore(path: path, node: alliance.node("EU/eu-1"))
        try store.append([withheld])
        try store.close()
        try Self.execute(
            path,
            """
            UPDATE entry SET subject = NULL;
            DELETE FROM grdb_migrations WHERE identifier LIKE '6 %';
            PRAGMA user_version = 5;
            """)
        store = try RegistryStore(path: path, node: alliance.node("EU/eu-1"))
        #expect(try store.entries(subject: "reserve/EU/gallium").map(\.id) == [withheld.id])
        try store.close()
        #expect(try Self.version(path) == 6)
    }

    static func execute(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: sql) }
        try queue.close()
    }

    static func version(_ path: String) throws -> Int? {
        try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA user_version") }
    }
}
