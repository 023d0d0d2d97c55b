import Foundation
import GRDB
import OpenSSLCrypto
import Registry

/// The hooks' outbox: the events committed entries gave rise to, numbered in commit
/// order, each written in the transaction that commits its entry, and each hook's cursor (the
/// last number it delivered). An event is dropped once every hook has delivered it, or
/// when the outbox holds more than its limit (the oldest first: a partner raising alerts
/// without end cannot fill the disk).
public enum EventOutbox {
    public static let defaultLimit = 100_000

    /// Events read from the outbox, and the number of the last row read (nil: none was there).
    /// A row this version cannot decode is left out of `events` but counted in `through`.
    public struct Batch: Sendable {
        public let events: [Stored]
        public let through: Int64?
    }

    /// An event as kept: its number in the outbox and when this node committed it.
    public struct Stored: Sendable, Hashable {
        public let number: Int64
        public let committedAtMillis: UInt64
        public let event: RegistryEvent
    }

    /// - Returns: how many of the oldest were dropped to stay within `limit`.
    static func insert(_ events: [RegistryEvent], committedAt: UInt64, limit: Int, in db: Database) throws -> Int {
        guard !events.isEmpty else { return 0 }
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO event_outbox(kind, entry, origin, seq, written_at, committed_at, subject, mineral, severity)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for event in events {
            try insert.execute(arguments: [
                event.kind.rawValue, Data(event.entry.bytes), event.origin.description, Int64(event.seq),
                Int64(clamping: event.writtenAtMillis), Int64(clamping: committedAt), subjectText(event.subject),
                event.mineral.rawValue, event.severity?.rawValue
            ])
        }
        try db.execute(sql: "DELETE FROM event_outbox WHERE number <= (SELECT max(number) FROM event_outbox) - ?", arguments: [limit])
        return db.changesCount
    }

    static func subjectText(_ subject: RegistryEvent.Subject) -> String {
        switch subject {
        case .alert(let id): "alert/\(id.hex)"
        case .level(let key): "level/\(key.participant)/\(key.mineral)"
        }
    }

    static func subject(_ text: String) -> RegistryEvent.Subject? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch (parts.first, parts.count) {
        case ("alert", 2): return SHA256Digest(hex: parts[1]).map { .alert($0) }
        case ("level", 3):
            guard let participant = try? ParticipantID(parts[1]), let mineral = try? MineralID(parts[2]) else { return nil }
            return .level(TargetKey(participant: participant, mineral: mineral))
        default: return nil
        }
    }

    static func decode(_ row: Row) -> Stored? {
        guard let kind = RegistryEventKind(rawValue: row["kind"]), let entry = SHA256Digest(bytes: row["entry"] as Data),
            let origin = try? NodeID(row["origin"] as String), let subject = subject(row["subject"]), let mineral = try? MineralID(row["mineral"] as String)
        else { return nil }
        let severity = (row["severity"] as Int?).flatMap(Severity.init(rawValue:))
        let event = RegistryEvent(
            kind: kind, entry: entry, origin: origin, seq: UInt64(row["seq"] as Int64),
            writtenAtMillis: UInt64(max(0, row["written_at"] as Int64)), subject: subject, mineral: mineral, severity: severity)
        return Stored(number: row["number"], committedAtMillis: UInt64(max(0, row["committed_at"] as Int64)), event: event)
    }
}

extension RegistryStore {
    /// Sets up the cursors of the hooks configured now: a hook met for the first time starts
    /// after the newest event (it is told what happens from now on); the cursors of hooks
    /// no longer configured go, and with them what only they still had to deliver.
    /// - Returns: each hook's cursor.
    /// - Parameter dropped: told the name of each hook no longer configured whose cursor goes.
    public func startHooks(_ names: [String], dropped: (String) -> Void = { _ in }) throws(StoreError) -> [String: Int64] {
        try write { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT max(number) FROM event_outbox") ?? 0
            let known = Dictionary(
                try Row.fetchAll(db, sql: "SELECT hook, delivered FROM hook_cursor").map { ($0["hook"] as String, $0["delivered"] as Int64) },
                uniquingKeysWith: { first, _ in first })
            for hook in known.keys where !names.contains(hook) {
                try db.execute(sql: "DELETE FROM hook_cursor WHERE hook = ?", arguments: [hook])
                dropped(hook)
            }
            var cursors: [String: Int64] = [:]
            for name in names {
                if let delivered = known[name] {
                    cursors[name] = delivered
                    continue
                }
                try db.execute(sql: "INSERT INTO hook_cursor(hook, delivered) VALUES (?, ?)", arguments: [name, newest])
                cursors[name] = newest
            }
            try Self.pruneDelivered(db)
            return cursors
        }
    }

    /// Up to `limit` events after `number`, oldest first, read beside the writer.
    public func outboxEvents(after number: Int64, limit: Int = 100) async throws(StoreError) -> EventOutbox.Batch {
        do {
            return try await database.read { db in
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM event_outbox WHERE number > ? ORDER BY number LIMIT ?", arguments: [number, limit])
                return EventOutbox.Batch(events: rows.compactMap(EventOutbox.decode), through: rows.last.map { $0["number"] as Int64 })
            }
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    /// The newest event's number (0 when none was ever kept).
    public func newestEvent() async throws(StoreError) -> Int64 {
        do {
            return try await database.read { db in try Int64.fetchOne(db, sql: "SELECT max(number) FROM event_outbox") ?? 0 }
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    /// Records that `hook` delivered everything up to `number`, and drops what every hook has.
    public func saveHookCursor(_ hook: String, delivered number: Int64) async throws(StoreError) {
        do {
            try await database.write { db in
                try db.execute(sql: "UPDATE hook_cursor SET delivered = max(delivered, ?) WHERE hook = ?", arguments: [number, hook])
                try Self.pruneDelivered(db)
            }
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    private static func pruneDelivered(_ db: Database) throws {
        // With no hook at all, nothing is waited for: the outbox empties.
        try db.execute(
            sql: "DELETE FROM event_outbox WHERE number <= coalesce((SELECT min(delivered) FROM hook_cursor), (SELECT max(number) FROM event_outbox))")
    }
}
