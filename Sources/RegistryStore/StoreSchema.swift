import Foundation
import GRDB
import OpenSSLCrypto
import Registry

/// The on-disk layout, made and upgraded by GRDB's `DatabaseMigrator`: each schema change is a
/// migration, applied once, in order, each in its own transaction. `application_id` marks the
/// file as ours; `user_version` is the number of migrations applied, so that an older daemon
/// (which reads only that) refuses a newer store instead of misreading it.
enum StoreSchema {
    /// "MSYN"
    static let applicationID: Int32 = 0x4D53_594E
    /// The migrations, oldest first. Never change or remove one that has shipped: add another.
    static let migrations = [
        "1 first release", "2 key history and received CRLs", "3 entry subjects, feed heads and snapshots",
        "4 checkpoint states", "5 event outbox for hooks",
        "6 subjects of reports read anew"
    ]
    static var version: Int { migrations.count }

    static func migrator(node: NodeID) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(migrations[0]) { db in
            try createFirstRelease(db)
            try db.execute(sql: "INSERT INTO node_state(key, value) VALUES ('node', ?)", arguments: [node.description])
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        migrator.registerMigration(migrations[1]) { db in
            try upgradeToKeyHistory(db)
            try db.execute(sql: "PRAGMA user_version = 2")
        }
        migrator.registerMigration(migrations[2]) { db in
            try upgradeToSnapshots(db)
            try db.execute(sql: "PRAGMA user_version = 3")
        }
        migrator.registerMigration(migrations[3]) { db in
            try db.execute(
                sql: """
                    CREATE TABLE checkpoint_state (
                        kind     TEXT NOT NULL PRIMARY KEY CHECK (kind IN ('served', 'joined')),
                        state    BLOB NOT NULL,  -- a CheckpointState (views.proto)
                        checksum BLOB NOT NULL   -- SHA-256(state)
                    ) WITHOUT ROWID;
                    PRAGMA user_version = 4;
                    """)
        }
        migrator.registerMigration(migrations[4]) { db in
            try db.execute(
                sql: """
                    -- What hooks are to be told, written in the transaction that commits its entry (an
                    -- outbox): none is lost to a crash. Kept until every hook has delivered it.
                    CREATE TABLE event_outbox (
                        number       INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind         TEXT    NOT NULL,  -- RegistryEventKind, e.g. "alert-raised"
                        entry        BLOB    NOT NULL,  -- the entry's id
                        origin       TEXT    NOT NULL,
                        seq          INTEGER NOT NULL,
                        written_at   INTEGER NOT NULL,  -- the entry's clock, wall milliseconds
                        committed_at INTEGER NOT NULL,  -- this node's clock at the commit
                        subject      TEXT    NOT NULL,  -- "alert/<id hex>" or "level/EU/gallium"
                        mineral      TEXT    NOT NULL,
                        severity     INTEGER            -- alerts only
                    );
                    -- How far each hook has delivered (an event number).
                    CREATE TABLE hook_cursor (
                        hook      TEXT    NOT NULL PRIMARY KEY,
                        delivered INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    PRAGMA user_version = 5;
                    """)
        }
        migrator.registerMigration(migrations[5]) { db in
            try subjectsReadAnew(db)
            try db.execute(sql: "PRAGMA user_version = 6")
        }
        return migrator
    }

    /// Stores made before the migrator (their schema known from `user_version` alone) are
    /// recorded as having applied that many migrations, so that only the later ones run.
    static func adoptUnmigrated(_ db: Database, version: Int) throws {
        guard version > 0, try !db.tableExists("grdb_migrations") else { return }
        try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
        for identifier in migrations.prefix(version) {
            try db.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES (?)", arguments: [identifier])
        }
    }

    /// The first release's layout (one certificate chain per origin).
    private static func createFirstRelease(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE entry (
                    origin    TEXT    NOT NULL,   -- "EU/brussels-1"
                    seq       INTEGER NOT NULL,
                    id        BLOB    NOT NULL,   -- SHA-256 of body, checked on load
                    body      BLOB    NOT NULL,   -- exactly as signed
                    signature BLOB    NOT NULL,
                    PRIMARY KEY (origin, seq)
                ) WITHOUT ROWID;
                CREATE TABLE fork_evidence (
                    origin    TEXT    NOT NULL PRIMARY KEY,
                    seq       INTEGER NOT NULL,
                    kind      TEXT    NOT NULL,
                    held      BLOB    NOT NULL,
                    body      BLOB    NOT NULL,
                    signature BLOB    NOT NULL
                );
                CREATE TABLE origin_certificate (origin TEXT NOT NULL PRIMARY KEY, chain BLOB NOT NULL);
                CREATE TABLE node_state (
                    key   TEXT NOT NULL PRIMARY KEY,
                    value TEXT NOT NULL
                );
                PRAGMA application_id = \(applicationID);
                """)
    }

    /// Every certificate chain that signed entries of an origin (key history), in the order
    /// this node met them.
    static let originCertificateTable = """
        CREATE TABLE origin_certificate (
            origin      TEXT NOT NULL,  -- "EU/brussels-1"
            fingerprint BLOB NOT NULL,  -- SHA-256 of the leaf's DER: what entries name as their signer
            chain       BLOB NOT NULL,  -- DER certificates, each u32be-length-prefixed, leaf first
            PRIMARY KEY (origin, fingerprint)
        );
        """

    /// The newest CRL of each authority received from peers (those in the config are read from
    /// their files), so that a revocation stays in force across restarts.
    static let revocationListTable = """
        CREATE TABLE revocation_list (
            issuer TEXT NOT NULL PRIMARY KEY,  -- the authority's name, as OpenSSL prints it
            der    BLOB NOT NULL
        );
        """

    /// 2: one chain per origin before; now one row per certificate, keyed by its fingerprint;
    /// and the CRLs received from peers.
    private static func upgradeToKeyHistory(_ db: Database) throws {
        let rows = try Row.fetchAll(db, sql: "SELECT origin, chain FROM origin_certificate")
        try db.execute(sql: "DROP TABLE origin_certificate")
        try db.execute(sql: originCertificateTable)
        for row in rows {
            let blob = [UInt8](row["chain"] as Data)
            guard let leaf = CertificateChainBlob.decode(blob).first else { continue }
            try db.execute(
                sql: "INSERT INTO origin_certificate(origin, fingerprint, chain) VALUES (?, ?, ?)",
                arguments: [row["origin"] as String, Data(SHA256.hash(leaf).bytes), Data(blob)])
        }
        try db.execute(sql: revocationListTable)
    }
}

extension StoreSchema {
    /// Reserve reports' subjects are not indexed (`RegistryStore.entries(subject:)`).
    static let unindexedSubjectPrefix = "reserve/"
    /// The partial index's condition; a query repeats it to use the index.
    static let indexedSubject = "subject NOT LIKE 'reserve/%'"

    /// 6: entries an earlier release could not read (a withheld reserve figure was malformed to
    /// it, a consumption an unknown operation) were stored without a subject; this one reads
    /// them, and their history is found by subject like any other's.
    static func subjectsReadAnew(_ db: Database) throws {
        let rows = try Row.fetchAll(db, sql: "SELECT origin, seq, body FROM entry WHERE subject IS NULL")
        let update = try db.makeStatement(sql: "UPDATE entry SET subject = ? WHERE origin = ? AND seq = ?")
        for row in rows {
            let body = [UInt8](row["body"] as Data)
            guard let entry = try? EntryCodec.decode(SignedEntry(body: body, signature: [])), let subject = entry.subject else { continue }
            try update.execute(arguments: [subject, row["origin"] as String, row["seq"] as Int64])
        }
    }

    /// 3: each entry's subject (`Entry.subject`: the history behind a view is read on demand;
    /// indexed but for reserve reports), each feed's head (a restart finds the entries after a
    /// snapshot without a scan), the latest snapshot with its entry ids in chunks, and the
    /// latest checkpoint.
    static func upgradeToSnapshots(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE entry ADD COLUMN subject TEXT")
        let rows = try Row.fetchCursor(db, sql: "SELECT origin, seq, body FROM entry")
        let update = try db.makeStatement(sql: "UPDATE entry SET subject = ? WHERE origin = ? AND seq = ?")
        while let row = try rows.next() {
            // A body that no longer decodes keeps no subject: loading reports it as damage.
            let body = [UInt8](row["body"] as Data)
            guard let entry = try? EntryCodec.decode(SignedEntry(body: body, signature: [])), let subject = entry.subject else { continue }
            try update.execute(arguments: [subject, row["origin"] as String, row["seq"] as Int64])
        }
        try db.execute(
            sql: """
                CREATE INDEX entry_subject ON entry(subject) WHERE \(indexedSubject);
                CREATE TABLE feed_head (
                    origin TEXT    NOT NULL PRIMARY KEY,
                    seq    INTEGER NOT NULL            -- the highest seq held of the feed
                ) WITHOUT ROWID;
                INSERT INTO feed_head(origin, seq) SELECT origin, max(seq) FROM entry GROUP BY origin;
                CREATE TABLE snapshot (
                    slot     INTEGER NOT NULL PRIMARY KEY CHECK (slot = 1),  -- only the latest is kept
                    ledger   BLOB    NOT NULL,  -- FeedLedger.snapshotState()
                    views    BLOB    NOT NULL,  -- a ViewsSnapshot (Proto/mineralsync/v1/views.proto)
                    checksum BLOB    NOT NULL   -- SHA-256(u64be(len ledger) || ledger || views)
                );
                CREATE TABLE checkpoint (
                    slot       INTEGER NOT NULL PRIMARY KEY CHECK (slot = 1),  -- the latest only
                    statements BLOB    NOT NULL   -- a ViewStatements (sync.proto): one per participant, same vector and digest
                );
                CREATE TABLE feed_ids (
                    origin   TEXT    NOT NULL,
                    chunk    INTEGER NOT NULL,  -- ids of seq chunk * 4096 + 1 on
                    ids      BLOB    NOT NULL,  -- 32 bytes each, at most 4096
                    checksum BLOB    NOT NULL,  -- SHA-256(ids)
                    PRIMARY KEY (origin, chunk)
                ) WITHOUT ROWID;
                """)
    }
}

/// A certificate chain as one column: DER certificates, each preceded by its length (u32, big-endian).
enum CertificateChainBlob {
    static func encode(_ chain: [[UInt8]]) -> [UInt8] {
        var blob: [UInt8] = []
        for certificate in chain {
            withUnsafeBytes(of: UInt32(certificate.count).bigEndian) { blob.append(contentsOf: $0) }
            blob.append(contentsOf: certificate)
        }
        return blob
    }

    static func decode(_ blob: [UInt8]) -> [[UInt8]] {
        var chain: [[UInt8]] = []
        var index = 0
        while index + 4 <= blob.count {
            let length = blob[index..<(index + 4)].reduce(0) { $0 << 8 | Int($1) }
            index += 4
            guard index + length <= blob.count else { break }
            chain.append(Array(blob[index..<(index + length)]))
            index += length
        }
        return chain
    }
}
