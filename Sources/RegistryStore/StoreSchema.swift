import GRDB

/// The on-disk layout. `application_id` marks the file as ours; `user_version` is the schema
/// version, so that an older daemon refuses a newer store instead of misreading it.
enum StoreSchema {
    /// "MSYN"
    static let applicationID: Int32 = 0x4D53_594E
    static let version = 1

    static func create(_ db: Database) throws {
        try db.execute(sql: """
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
            CREATE TABLE origin_certificate (
                origin TEXT NOT NULL PRIMARY KEY,  -- "EU/brussels-1"
                chain  BLOB NOT NULL               -- DER certificates, each u32be-length-prefixed, leaf first
            );
            CREATE TABLE node_state (
                key   TEXT NOT NULL PRIMARY KEY,
                value TEXT NOT NULL
            );
            PRAGMA application_id = \(applicationID);
            PRAGMA user_version = \(version);
            """)
    }
}
