import Foundation
import GRDB
import GRDBSQLite
import MineralWire
import OpenSSLCrypto
import Registry
import SwiftProtobuf

/// The durable half of a node: every accepted entry, fork evidence, and the node's own state,
/// in SQLite (WAL, synchronous=FULL) through GRDB. `DurabilityTests` checks from outside the
/// process that every acknowledged write was synced.
///
/// A `DatabasePool`: one writer, and readers on WAL snapshots, so that a read (a session's
/// catch-up batch) never waits for a write's fsync, and a write never waits for a read. The
/// schema is brought up to date by `StoreSchema.migrator` at open.
///
/// Durability contract: when an `append` returns, its entries are on disk and survive a crash or
/// power loss; each append is one transaction, so a crash leaves all of a batch or none of it.
/// The views are kept as a snapshot (`saveSnapshot`, written in one transaction with the entry
/// ids it covers): `load` starts from it and folds only the entries after it, or from the
/// entries alone when there is none or it does not check out.
public final class RegistryStore: Sendable {
    public let path: String
    public let node: NodeID
    let database: DatabasePool
    /// The store was created by this open: it is the newest there is.
    private let isNew: Bool
    /// The node stopped cleanly with this very file (`markCleanShutdown`'s token in it and
    /// beside it), as found at open.
    private let stoppedCleanly: Bool
    /// SQLite's check of every page ran at open: the node had not stopped cleanly with this
    /// file (a crash, a power loss, a restore). Otherwise `checkIntegrity` is there to run it.
    public let pagesCheckedAtOpen: Bool

    /// Opens (or creates) the store at `path` for `node`. A file that is not a MineralSync
    /// store, is damaged, has a newer schema or belongs to another node is refused with a
    /// `StoreError` naming the problem; nothing is ever reset.
    public init(path: String, node: NodeID) throws(StoreError) {
        self.path = path
        self.node = node
        let created = !FileManager.default.fileExists(atPath: path)
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(5)
        configuration.label = "registry-store"
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            // After the connection is set up, not in `prepareDatabase`: GRDB turns WAL mode on
            // after that hook and sets `synchronous = NORMAL` with it, under which a WAL commit
            // returns before anything reaches the disk. FULL syncs the WAL at every commit.
            let level = try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                return try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            guard level == 2 else {
                throw StoreError.cannotOpen(
                    path: path, reason: "SQLite refused synchronous = FULL (it reports \(level.map(String.init) ?? "nothing")): commits would not be durable")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.classify(error, path: path)
        }
        let migrator = StoreSchema.migrator(node: node)
        let cleanShutdownFile = Self.cleanShutdownFile(of: path)
        var stoppedCleanly = false
        var pagesChecked = false
        do {
            // What the file is, before anything is changed in it.
            try database.write { db in
                let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
                if applicationID == 0 && version == 0 && tables == 0 { return }  // new: the migrations make it
                guard applicationID == StoreSchema.applicationID else {
                    throw StoreError.foreignDatabase(path: path, applicationID: applicationID)
                }
                guard version <= StoreSchema.version, try !migrator.hasBeenSuperseded(db) else {
                    throw StoreError.newerSchema(path: path, found: version, supported: StoreSchema.version)
                }
                // The whole file is checked unless the node stopped cleanly with this very file
                // (its clean-shutdown token in the file and beside it): after a crash, a power
                // loss or a restore. The check reads every page (about 4 s for 10 million entries).
                let token = try? String(contentsOfFile: cleanShutdownFile, encoding: .utf8)
                let mark = try String.fetchOne(db, sql: "SELECT value FROM node_state WHERE key = 'clean-shutdown'")
                stoppedCleanly = token != nil && mark == token
                if !stoppedCleanly {
                    pagesChecked = true
                    let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
                    guard check == ["ok"] else {
                        throw StoreError.corrupt(path: path, details: check.prefix(3).joined(separator: "; "))
                    }
                }
                let stored = try String.fetchOne(db, sql: "SELECT value FROM node_state WHERE key = 'node'") ?? "?"
                guard stored == node.description else {
                    throw StoreError.belongsToAnotherNode(path: path, stored: stored, configured: node)
                }
                try StoreSchema.adoptUnmigrated(db, version: version)
            }
            try migrator.migrate(database)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.classify(error, path: path)
        }
        isNew = created
        self.stoppedCleanly = stoppedCleanly
        pagesCheckedAtOpen = pagesChecked
    }

    static func classify(_ error: any Error, path: String) -> StoreError {
        guard let error = error as? DatabaseError else { return .cannotOpen(path: path, reason: "\(error)") }
        switch error.resultCode {
        case .SQLITE_NOTADB: return .notADatabase(path: path)
        case .SQLITE_CORRUPT: return .corrupt(path: path, details: error.message ?? "SQLITE_CORRUPT")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY:
            return .cannotOpen(path: path, reason: error.message ?? "\(error.resultCode)")
        default: return .writeFailed(path: path, reason: error.message ?? "\(error.resultCode)")
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try database.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try database.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    /// Where the clean-shutdown token is kept beside the store: a backup of the database alone
    /// (the documented way) never carries it.
    private static func cleanShutdownFile(of path: String) -> String { path + ".clean-shutdown" }
    private var cleanShutdownFile: String { Self.cleanShutdownFile(of: path) }

    /// Records, as the last write before `close`, that the node stopped cleanly: a random token
    /// in the database and in a file beside it. A later start finds both equal only if this is
    /// the file the node stopped with (a backup copied back carries an older token, or none).
    public func markCleanShutdown() throws(StoreError) {
        let token = SHA256.hash(Array(UUID().uuidString.utf8)).hex
        try write { db in
            try db.execute(
                sql: "INSERT INTO node_state(key, value) VALUES ('clean-shutdown', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [token])
        }
        guard
            let file = FileHandle(forWritingAtPath: cleanShutdownFile)
                ?? {
                    FileManager.default.createFile(atPath: cleanShutdownFile, contents: nil, attributes: [.posixPermissions: 0o600])
                    return FileHandle(forWritingAtPath: cleanShutdownFile)
                }()
        else { return }
        defer { try? file.close() }
        do {
            try file.truncate(atOffset: 0)
            try file.write(contentsOf: Data(token.utf8))
            try file.synchronize()
        } catch {
            throw .writeFailed(path: cleanShutdownFile, reason: "\(error)")
        }
    }

    /// Whether this store is provably the newest of its node's: created by this open, or the
    /// node stopped cleanly with this very file (`markCleanShutdown`'s token in both places).
    /// The mark is removed, durably, before this returns: whatever happens next, a later start
    /// without a new mark is not clean. Only the node's own daemon calls this, once at start.
    public func takeCleanShutdownMark() throws(StoreError) -> Bool {
        try write { db in try db.execute(sql: "DELETE FROM node_state WHERE key = 'clean-shutdown'") }
        try? FileManager.default.removeItem(atPath: cleanShutdownFile)
        return isNew || stoppedCleanly
    }

    /// Closes the database, the WAL checkpointed into it and emptied first: the pool's readers
    /// are read-only connections and would otherwise leave the last commits in the `-wal` file
    /// alone, where a copy of the stopped node's database file would miss them.
    /// Further use fails with `writeFailed`.
    public func close() throws(StoreError) {
        do {
            try database.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            try database.close()
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    // MARK: writing

    /// Commits entries in one transaction (received entries in ledger order, or own entries).
    /// `clock`, when given, is the node's hybrid clock after these entries, committed with them;
    /// `feed`, the feed the node writes from now on (a new segment), likewise. `events`
    /// go to the hooks' outbox in the same transaction (`EventOutbox`).
    /// - Returns: how many of the oldest undelivered events were dropped to keep the
    ///   outbox within `outboxLimit`.
    @discardableResult
    public func append(
        _ entries: [Entry], clock: HybridTimestamp? = nil, feed: NodeID? = nil,
        events: [RegistryEvent] = [], committedAt: UInt64 = 0, outboxLimit: Int = EventOutbox.defaultLimit
    ) throws(StoreError) -> Int {
        guard !entries.isEmpty || clock != nil else { return 0 }
        return try write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO entry(origin, seq, id, body, signature, subject) VALUES (?, ?, ?, ?, ?, ?)")
            var heads: [NodeID: UInt64] = [:]
            var texts = RowTexts()
            for entry in entries {
                try EntryRow.insert(entry, with: insert, texts: &texts, in: db)
                heads[entry.origin] = max(heads[entry.origin] ?? 0, entry.seq)
            }
            let head = try db.cachedStatement(
                sql: "INSERT INTO feed_head(origin, seq) VALUES (?, ?) ON CONFLICT(origin) DO UPDATE SET seq = max(seq, excluded.seq)")
            for (origin, seq) in heads { try head.execute(arguments: [origin.description, Int64(seq)]) }
            if let feed {
                try db.execute(
                    sql: "INSERT INTO node_state(key, value) VALUES ('feed', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    arguments: [feed.description])
            }
            if let clock {
                try db.execute(
                    sql: "INSERT INTO node_state(key, value) VALUES ('clock', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    arguments: ["\(clock.wallMillis).\(clock.logical)"])
            }
            return try EventOutbox.insert(events, committedAt: committedAt, limit: outboxLimit, in: db)
        }
    }

    /// Keeps fork evidence for good (the first per origin).
    public func record(_ evidence: ForkEvidence) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO fork_evidence(origin, seq, kind, held, body, signature) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    evidence.origin.description, Int64(evidence.seq), evidence.kind.rawValue,
                    Data(evidence.held.bytes), Data(evidence.conflicting.body), Data(evidence.conflicting.signature)
                ])
        }
    }

    /// Keeps a verified certificate chain of an origin node (this node's own included): every
    /// chain that signed entries of a feed is kept, so that they can still be verified after a
    /// restart, and the chains handed to peers that never met them. A chain already held (by its
    /// leaf) is not written again.
    public func record(certificateChain chain: [[UInt8]], of origin: NodeID) throws(StoreError) {
        guard let leaf = chain.first else { return }
        try write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO origin_certificate(origin, fingerprint, chain) VALUES (?, ?, ?)",
                arguments: [origin.description, Data(SHA256.hash(leaf).bytes), Data(CertificateChainBlob.encode(chain))])
        }
    }

    /// Keeps the newest CRL of an authority, received from a peer (it replaces the one before).
    public func record(revocationList der: [UInt8], issuer: String) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: "INSERT INTO revocation_list(issuer, der) VALUES (?, ?) ON CONFLICT(issuer) DO UPDATE SET der = excluded.der",
                arguments: [issuer, Data(der)])
        }
    }

    /// The CRLs received from peers (DER).
    public func loadRevocationLists() throws(StoreError) -> [[UInt8]] {
        try read { db in try Data.fetchAll(db, sql: "SELECT der FROM revocation_list ORDER BY issuer").map { [UInt8]($0) } }
    }

    /// Every origin's certificate chains, each origin's in the order this node met them.
    public func loadCertificateChains() throws(StoreError) -> [NodeID: [[[UInt8]]]] {
        try read { db in
            var chains: [NodeID: [[[UInt8]]]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT origin, chain FROM origin_certificate ORDER BY rowid") {
                guard let node = try? NodeID(row["origin"] as String) else { continue }
                chains[node, default: []].append(CertificateChainBlob.decode([UInt8](row["chain"] as Data)))
            }
            return chains
        }
    }

    // MARK: reading

    public var entryCount: Int {
        get throws(StoreError) { try read { try Int.fetchOne($0, sql: "SELECT count(*) FROM entry") ?? 0 } }
    }

    /// Signed entries of one feed in `range`, oldest first: what a peer that lacks them is sent.
    public func entries(of origin: NodeID, in range: ClosedRange<UInt64>, limit: Int = 10_000) throws(StoreError) -> [SignedEntry] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT body, signature FROM entry WHERE origin = ? AND seq BETWEEN ? AND ? ORDER BY seq LIMIT ?",
                arguments: [origin.description, Int64(range.lowerBound), Int64(clamping: range.upperBound), limit]
            )
            .map { SignedEntry(body: [UInt8]($0["body"] as Data), signature: [UInt8]($0["signature"] as Data)) }
        }
    }

    /// Every entry, decoded, feed by feed in seq order (tests and small stores: `forEachEntry`
    /// reads any number of them in bounded memory).
    public func loadEntries() throws(StoreError) -> [Entry] {
        var entries: [Entry] = []
        try forEachEntry { entries.append($0) }
        return entries
    }

    /// Calls `body` with every entry, decoded, feed by feed in seq order, reading `pageSize` at a
    /// time (each page in its own read). A row that no longer decodes, or whose id does not match
    /// its body, is reported as damage, never skipped.
    public func forEachEntry(pageSize: Int = 10_000, _ body: (Entry) throws -> Void) throws(StoreError) {
        var after: (origin: String, seq: Int64) = ("", 0)
        while true {
            let page = try read { db in
                try decodedRows(
                    db, sql: "SELECT origin, seq, id, body, signature FROM entry WHERE (origin, seq) > (?, ?) ORDER BY origin, seq LIMIT ?",
                    arguments: [after.origin, after.seq, pageSize])
            }
            for entry in page {
                do { try body(entry) } catch let error as StoreError { throw error } catch {
                    throw .damagedEntry(path: path, origin: entry.origin.description, seq: Int64(entry.seq), reason: "\(error)")
                }
            }
            guard let last = page.last, page.count == pageSize else { return }
            after = (last.origin.description, Int64(last.seq))
        }
    }

    /// Decoded entries of a query selecting origin, seq, id, body and signature.
    private func decodedRows(_ db: Database, sql: String, arguments: StatementArguments) throws -> [Entry] {
        var entries: [Entry] = []
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            let origin: String = row["origin"]
            let seq: Int64 = row["seq"]
            let signed = SignedEntry(body: [UInt8](row["body"] as Data), signature: [UInt8](row["signature"] as Data))
            let entry: Entry
            do {
                entry = try EntryCodec.decode(signed)
            } catch {
                throw StoreError.damagedEntry(path: path, origin: origin, seq: seq, reason: "\(error)")
            }
            guard entry.origin.description == origin, entry.seq == UInt64(seq), Data(entry.id.bytes) == (row["id"] as Data) else {
                throw StoreError.damagedEntry(path: path, origin: origin, seq: seq, reason: "row key or id does not match the body")
            }
            entries.append(entry)
        }
        return entries
    }

    /// Entries of one feed in `range`, decoded, in seq order.
    public func decodedEntries(of origin: NodeID, in range: ClosedRange<UInt64>) throws(StoreError) -> [Entry] {
        try read { db in
            try decodedRows(
                db, sql: "SELECT origin, seq, id, body, signature FROM entry WHERE origin = ? AND seq BETWEEN ? AND ? ORDER BY seq",
                arguments: [origin.description, Int64(range.lowerBound), Int64(clamping: range.upperBound)])
        }
    }

    /// Every entry with this subject (`Entry.subject`), in (origin, seq) order: the history
    /// behind one view. Alerts, targets and cuts are found through the subject index; reserve
    /// reports, the bulk of any history, are not indexed (an index entry per report halved the
    /// store's append rate): their history is a scan of the participant's own feeds.
    public func entries(subject: String) throws(StoreError) -> [Entry] {
        let (sql, arguments) = Self.query(subject: subject)
        return try read { db in try decodedRows(db, sql: sql, arguments: arguments) }
    }

    /// SQLite's check of every page of the file, on GRDB's reader queue (it takes seconds for
    /// millions of entries): nil when the file is sound, else what is wrong. A start after a
    /// clean stop skips the check at open; the daemon runs this meanwhile.
    public func checkIntegrity() async -> String? {
        do {
            let check = try await database.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            return check == ["ok"] ? nil : check.prefix(3).joined(separator: "; ")
        } catch {
            return "\(error)"
        }
    }

    /// `entries(subject:)` read on GRDB's reader queue, for callers that must not block their
    /// thread (the admin API's event loop).
    public func entriesReadingAside(subject: String) async throws(StoreError) -> [Entry] {
        let (sql, arguments) = Self.query(subject: subject)
        do {
            return try await database.read { db in try self.decodedRows(db, sql: sql, arguments: arguments) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    private static func query(subject: String) -> (String, StatementArguments) {
        let columns = "SELECT origin, seq, id, body, signature FROM entry"
        guard subject.hasPrefix(StoreSchema.unindexedSubjectPrefix) else {
            // The index's own condition, repeated, lets SQLite use the partial index.
            return ("\(columns) WHERE subject = ? AND \(StoreSchema.indexedSubject) ORDER BY origin, seq", [subject])
        }
        // "reserve/EU/gallium": written only by EU's feeds (a report by another participant
        // breaks the policy and is in no history).
        let participant = subject.dropFirst(StoreSchema.unindexedSubjectPrefix.count).prefix { $0 != "/" }
        return ("\(columns) WHERE origin >= ? AND origin < ? AND subject = ? ORDER BY origin, seq", ["\(participant)/", "\(participant)0", subject])
    }

    /// Every entry whose subject sorts in `start..<end` (all alert entries: `Entry.alertSubjectStart`).
    public func entries(subjectsFrom start: String, below end: String) throws(StoreError) -> [Entry] {
        try read { db in
            try decodedRows(
                db,
                sql:
                    "SELECT origin, seq, id, body, signature FROM entry WHERE subject >= ? AND subject < ? AND \(StoreSchema.indexedSubject) ORDER BY origin, seq",
                arguments: [start, end])
        }
    }

    /// The highest seq held of every feed.
    public func feedHeads() throws(StoreError) -> VersionVector {
        try read { db in
            var heads: [NodeID: UInt64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT origin, seq FROM feed_head") {
                guard let node = try? NodeID(row["origin"] as String) else { continue }
                heads[node] = UInt64(row["seq"] as Int64)
            }
            return VersionVector(heads)
        }
    }

    public func loadForks() throws(StoreError) -> [ForkEvidence] {
        let path = path
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT origin, seq, kind, held, body, signature FROM fork_evidence ORDER BY origin").map { row in
                let origin: String = row["origin"]
                guard let node = try? NodeID(origin), let kind = ForkEvidence.Kind(rawValue: row["kind"]),
                    let held = SHA256Digest(bytes: row["held"] as Data)
                else {
                    throw StoreError.damagedEntry(path: path, origin: origin, seq: row["seq"], reason: "fork evidence does not decode")
                }
                return ForkEvidence(
                    origin: node, seq: UInt64(row["seq"] as Int64), kind: kind, held: held,
                    conflicting: SignedEntry(body: [UInt8](row["body"] as Data), signature: [UInt8](row["signature"] as Data)))
            }
        }
    }

    /// The hybrid clock last committed with an own entry (zero for a new store).
    public func loadClock() throws(StoreError) -> HybridTimestamp {
        let text = try read { try String.fetchOne($0, sql: "SELECT value FROM node_state WHERE key = 'clock'") }
        guard let parts = text?.split(separator: "."), parts.count == 2,
            let wall = UInt64(parts[0]), let logical = UInt32(parts[1])
        else { return .zero }
        return HybridTimestamp(wallMillis: wall, logical: logical)
    }

    /// The registry and this node's author state, from disk: from the latest snapshot and the
    /// entries after it, or, without a usable snapshot, from every entry. `revokedSigners` are
    /// those the CRLs in force revoke (what they hide is not shown).
    public func load(
        policy: EntryPolicy = EntryPolicy(), key: PrivateKey, revokedSigners: Set<SignerID> = [],
        waitingLimits: FeedLedger.WaitingLimits = .init()
    ) throws(StoreError) -> LoadedRegistry {
        let forks = try loadForks()
        let joined = try loadJoinedState(policy: policy)
        var registry: MineralRegistry
        var problem: String?
        var snapshotVector = VersionVector()
        do {
            if let (restored, covered) = try loadFromSnapshot(
                policy: policy, joined: joined, forks: forks, revokedSigners: revokedSigners,
                waitingLimits: waitingLimits)
            {
                registry = restored
                snapshotVector = covered
            } else {
                registry = try replay(policy: policy, joined: joined, forks: forks, revokedSigners: revokedSigners, waitingLimits: waitingLimits)
            }
        } catch let failure as SnapshotFailure {
            problem = failure.reason
            registry = try replay(policy: policy, joined: joined, forks: forks, revokedSigners: revokedSigners, waitingLimits: waitingLimits)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        var clock = HybridLogicalClock(last: try loadClock())
        let stored = try read { try String.fetchOne($0, sql: "SELECT value FROM node_state WHERE key = 'feed'") }
        let feed =
            try stored.map { text throws(StoreError) in
                guard let feed = try? NodeID(text), feed.node == node else {
                    throw .damagedEntry(path: path, origin: text, seq: 0, reason: "the feed this node writes is not one of its own")
                }
                return feed
            } ?? node
        let head = registry.ledger.head(of: feed)
        if let head, let own = try decodedEntries(of: feed, in: head.seq...head.seq).first {
            clock.observe(own.clock, now: own.clock.wallMillis)
        }
        return LoadedRegistry(
            registry: registry, author: FeedAuthor(node: feed, key: key, head: head, clock: clock),
            snapshotVector: snapshotVector, snapshotProblem: problem, joined: joined)
    }

    // MARK: checkpoint states

    /// The checkpoint state this node joined from, checked again as it was when taken (but for
    /// signatures, checked then): a state that no longer checks out is damage, never skipped.
    private func loadJoinedState(policy: EntryPolicy) throws(StoreError) -> CheckpointState? {
        guard let bytes = try checkpointState(kind: "joined") else { return nil }
        do throws(CheckpointState.Problem) {
            let statements = (try? Mineralsync_V1_CheckpointState(serializedBytes: bytes))?.statements ?? []
            let quorum = Set(statements.compactMap { try? SignedStatement(wire: $0).statement.node.participant })
            return try CheckpointState(decoding: bytes, policy: policy, quorum: quorum, statementSigned: { _ in true }, entrySigned: { _ in true })
        } catch {
            throw .damagedEntry(path: path, origin: "checkpoint", seq: 0, reason: "the checkpoint state this node joined from: \(error)")
        }
    }

    /// A checkpoint state kept ("served": the one this node serves; "joined": the one it joined
    /// from), when its checksum matches.
    private func checkpointState(kind: String) throws(StoreError) -> [UInt8]? {
        guard let row = try read({ db in try Row.fetchOne(db, sql: "SELECT state, checksum FROM checkpoint_state WHERE kind = ?", arguments: [kind]) }) else {
            return nil
        }
        let state = [UInt8](row["state"] as Data)
        guard SHA256Digest(bytes: row["checksum"] as Data) == SHA256.hash(state) else {
            throw .damagedEntry(path: path, origin: "checkpoint", seq: 0, reason: "the \(kind) checkpoint state does not match its checksum")
        }
        return state
    }

    /// Keeps the checkpoint state this node serves to nodes that join (the latest only).
    public func saveServedCheckpointState(_ state: [UInt8]) throws(StoreError) {
        try write { db in try Self.putCheckpointState(state, kind: "served", in: db) }
    }

    /// The checkpoint state this node serves, read on GRDB's reader queue (nil: none, or damaged).
    public func servedCheckpointState() async -> [UInt8]? {
        let row = try? await database.read { db in try Row.fetchOne(db, sql: "SELECT state, checksum FROM checkpoint_state WHERE kind = 'served'") }
        guard let row else { return nil }
        let state = [UInt8](row["state"] as Data)
        return SHA256Digest(bytes: row["checksum"] as Data) == SHA256.hash(state) ? state : nil
    }

    /// Starts an empty store from a checkpoint state (checked by the caller) in one transaction:
    /// the state, kept as the one joined from and the one served, its checkpoint, and the
    /// registry made from it as the snapshot. Refused when the store holds any entry.
    public func join(from state: [UInt8], checkpoint: ConvergenceTracker.Checkpoint, snapshot: RegistrySnapshot) throws(StoreError) {
        let rows = SnapshotRows(snapshot)
        try write { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM entry") == 0,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM checkpoint_state WHERE kind = 'joined'") == 0
            else {
                throw StoreError.writeFailed(path: path, reason: "the store holds entries already: it cannot start from a checkpoint")
            }
            try Self.putCheckpointState(state, kind: "joined", in: db)
            try Self.putCheckpointState(state, kind: "served", in: db)
            try Self.put(checkpoint, in: db)
            try rows.put(in: db)
        }
    }

    /// Drops the history below a checkpoint (archived elsewhere) in one transaction: every
    /// entry at or before `vector`'s position of its feed, the snapshot (the next load folds
    /// from `state`, kept as the one this node starts from, and the entries after it). Returns
    /// how many entries were dropped.
    public func dropHistory(below vector: VersionVector, startingFrom state: [UInt8]) throws(StoreError) -> Int {
        try write { db in
            var dropped = 0
            for (feed, seq) in vector.heads.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "DELETE FROM entry WHERE origin = ? AND seq <= ?", arguments: [feed.description, Int64(seq)])
                dropped += db.changesCount
            }
            try db.execute(sql: "DELETE FROM snapshot; DELETE FROM feed_ids")
            try Self.putCheckpointState(state, kind: "joined", in: db)
            return dropped
        }
    }

    private static func putCheckpointState(_ state: [UInt8], kind: String, in db: Database) throws {
        try db.execute(
            sql:
                "INSERT INTO checkpoint_state(kind, state, checksum) VALUES (?, ?, ?) ON CONFLICT(kind) DO UPDATE SET state = excluded.state, checksum = excluded.checksum",
            arguments: [kind, Data(state), Data(SHA256.hash(state).bytes)])
    }

    /// Why the snapshot was not used (the entries are replayed instead).
    private struct SnapshotFailure: Error { let reason: String }

    /// Every entry folded, page by page.
    private func replay(
        policy: EntryPolicy, joined: CheckpointState?, forks: [ForkEvidence], revokedSigners: Set<SignerID>,
        waitingLimits: FeedLedger.WaitingLimits
    ) throws(StoreError) -> MineralRegistry {
        var registry = MineralRegistry(policy: policy, waitingLimits: waitingLimits)
        if let joined {
            do { registry = try MineralRegistry(joining: joined, policy: policy, waitingLimits: waitingLimits) } catch {
                throw .damagedEntry(path: path, origin: "checkpoint", seq: 0, reason: "the checkpoint state this node joined from: \(error)")
            }
        }
        try forEachEntry { entry in
            do throws(FeedLedger.AdoptionError) { try registry.replay(entry) } catch {
                let (origin, seq): (NodeID, UInt64) =
                    switch error {
                    case .notContiguous(let origin, let seq, _), .chainMismatch(let origin, let seq): (origin, seq)
                    }
                throw StoreError.damagedEntry(path: path, origin: origin.description, seq: Int64(seq), reason: error.description)
            }
        }
        registry.freeze(forks)
        if registry.settle(revokedSigners: revokedSigners) == nil {
            // What a revoked certificate signed, or what follows a cut, was folded: fold again
            // what is shown.
            try rebuildViews(of: &registry)
        }
        return registry
    }

    /// The views folded afresh from every entry shown (after what is shown changed).
    public func rebuildViews(of registry: inout MineralRegistry) throws(StoreError) {
        try registry.rebuildViews { (visit) throws(StoreError) in try forEachEntry(visit) }
    }

    /// The registry from the snapshot and the entries after it; nil when there is no snapshot.
    private func loadFromSnapshot(
        policy: EntryPolicy, joined: CheckpointState?, forks: [ForkEvidence], revokedSigners: Set<SignerID>,
        waitingLimits: FeedLedger.WaitingLimits
    ) throws -> (MineralRegistry, covered: VersionVector)? {
        guard let stored = try read({ db in try Row.fetchOne(db, sql: "SELECT ledger, views, checksum FROM snapshot WHERE slot = 1") }) else { return nil }
        let ledger = [UInt8](stored["ledger"] as Data)
        let views = [UInt8](stored["views"] as Data)
        guard SHA256Digest(bytes: stored["checksum"] as Data) == Self.checksum(ledger: ledger, views: views) else {
            throw SnapshotFailure(reason: "its checksum does not match its contents")
        }
        // Chunk by chunk, each checked and read straight into its feed's ids (a 10M-entry
        // store holds 320 MB of them: no second copy).
        let (ids, damage) = try read { db -> ([NodeID: [EntryID]], String?) in
            var ids: [NodeID: [EntryID]] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT origin, chunk, ids, checksum FROM feed_ids ORDER BY origin, chunk")
            while let row = try rows.next() {
                let origin: String = row["origin"]
                let chunk: Int64 = row["chunk"]
                guard let node = try? NodeID(origin) else { return (ids, "the entry ids of \(origin) name no node") }
                let damage: String? = (row["ids"] as Data).withUnsafeBytes { blob in
                    guard blob.count % 32 == 0, SHA256Digest(bytes: row["checksum"] as Data) == SHA256.hash(blob) else {
                        return "the entry ids of \(origin), chunk \(chunk), do not check out"
                    }
                    guard ids[node, default: []].count == Int(chunk) * MineralRegistry.idChunkSize else {
                        return "the entry ids of \(origin) miss a chunk before \(chunk)"
                    }
                    ids[node, default: []].append(
                        contentsOf: stride(from: 0, to: blob.count, by: 32).map {
                            SHA256Digest(bytes: UnsafeRawBufferPointer(rebasing: blob[$0..<($0 + 32)]).bindMemory(to: UInt8.self))!
                        })
                    return nil
                }
                if let damage { return (ids, damage) }
            }
            return (ids, nil)
        }
        if let damage { throw SnapshotFailure(reason: damage) }
        // A node joined from a checkpoint holds the entries about alerts before it in the state.
        let alerts = try entries(subjectsFrom: Entry.alertSubjectStart, below: Entry.alertSubjectEnd) + (joined?.alertEntries ?? [])
        var registry: MineralRegistry
        do {
            registry = try MineralRegistry(
                snapshotLedger: ledger, ids: ids, views: views, alertEntries: alerts, policy: policy,
                waitingLimits: waitingLimits)
        } catch {
            throw SnapshotFailure(reason: error.description)
        }
        if let joined { registry.restoreBaseViews(joined.views) }
        let covered = registry.vector
        registry.recordCuts(((joined?.views.shownCutEntries ?? []) + (try entries(subject: Entry.cutSubject))).filter { $0.seq <= covered[$0.origin] })
        var tail: [NodeID: [Entry]] = [:]
        for (feed, head) in try feedHeads().heads where head > covered[feed] {
            tail[feed] = try decodedEntries(of: feed, in: (covered[feed] + 1)...head)
        }
        do {
            for feed in tail.keys.sorted() { try registry.adoptTail(tail[feed]!) }
        } catch {
            throw SnapshotFailure(reason: error.description)
        }
        registry.freeze(forks)
        guard let unfolded = registry.settle(revokedSigners: revokedSigners) else {
            try rebuildViews(of: &registry)
            return (registry, covered)
        }
        for (feed, range) in unfolded.sorted(by: { $0.key < $1.key }) {
            let fromTail = range.lowerBound > covered[feed]
            registry.foldRestored(fromTail ? tail[feed]!.filter { range.contains($0.seq) } : try decodedEntries(of: feed, in: range))
        }
        return (registry, covered)
    }

    static func checksum(ledger: [UInt8], views: [UInt8]) -> SHA256Digest {
        var hasher = SHA256Hasher()
        hasher.update(bigEndian: UInt64(ledger.count))
        hasher.update(ledger)
        hasher.update(views)
        return hasher.finalize()
    }

    /// Keeps the latest checkpoint (the statements that make it).
    public func saveCheckpoint(_ checkpoint: ConvergenceTracker.Checkpoint) throws(StoreError) {
        try write { db in try Self.put(checkpoint, in: db) }
    }

    private static func put(_ checkpoint: ConvergenceTracker.Checkpoint, in db: Database) throws {
        var wire = Mineralsync_V1_ViewStatements()
        wire.statements = checkpoint.statements.map(\.wire)
        let bytes = (try? wire.serializedBytes()) ?? Data()
        try db.execute(
            sql: "INSERT INTO checkpoint(slot, statements) VALUES (1, ?) ON CONFLICT(slot) DO UPDATE SET statements = excluded.statements",
            arguments: [bytes])
    }

    /// The latest checkpoint kept; nil when there is none, or what is kept is not one (then it
    /// is as if there were none: the next checkpoint replaces it).
    public func loadCheckpoint() throws(StoreError) -> ConvergenceTracker.Checkpoint? {
        guard let bytes = try read({ db in try Data.fetchOne(db, sql: "SELECT statements FROM checkpoint WHERE slot = 1") }),
            let wire = try? Mineralsync_V1_ViewStatements(serializedBytes: bytes),
            let statements = try? wire.statements.map({ try SignedStatement(wire: $0) }),
            let first = statements.first,
            statements.allSatisfy({ $0.statement.vector == first.statement.vector && $0.statement.digest == first.statement.digest })
        else {
            return nil
        }
        return ConvergenceTracker.Checkpoint(vector: first.statement.vector, digest: first.statement.digest, statements: statements)
    }

    /// Keeps `snapshot` as the latest, with its entry ids, in one transaction: a crash leaves
    /// the previous snapshot or this one, never a mix. Its rows are made before the transaction
    /// begins: the engine's commits wait for the writer only while they are inserted.
    public func saveSnapshot(_ snapshot: RegistrySnapshot) throws(StoreError) {
        let rows = SnapshotRows(snapshot)
        try write { db in try rows.put(in: db) }
    }
}
