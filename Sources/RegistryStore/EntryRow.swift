import GRDB
import GRDBSQLite
import Registry

/// Binds an entry straight into SQLite's prepared statement. Appending is the store's hot path
/// (a catch-up writes 100,000 entries), and GRDB's general argument boxing costs more than the
/// insert itself; the buffers are bound without copying and stay alive until the step returns.
enum EntryRow {
    static func insert(_ entry: Entry, with statement: Statement, texts: inout RowTexts, in db: Database) throws {
        let raw = statement.sqliteStatement
        sqlite3_reset(raw)
        let origin = texts.origin(of: entry)
        let subject = texts.subject(of: entry)
        let code: Int32 = origin.withCString { originText in
            sqlite3_bind_text(raw, 1, originText, -1, nil)
            return withOptionalCString(subject) { subjectText in
                if let subjectText { sqlite3_bind_text(raw, 6, subjectText, -1, nil) } else { sqlite3_bind_null(raw, 6) }
                return step(raw, entry)
            }
        }
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(raw)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
    }

    private static func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }

    /// Binds the id, body and signature (origin and subject are bound) and steps.
    private static func step(_ raw: OpaquePointer?, _ entry: Entry) -> Int32 {
        sqlite3_bind_int64(raw, 2, Int64(bitPattern: entry.seq))
        return entry.id.withUnsafeBytes { idBytes in
            sqlite3_bind_blob(raw, 3, idBytes.baseAddress, Int32(idBytes.count), nil)
            return entry.signed.body.withUnsafeBytes { body in
                sqlite3_bind_blob(raw, 4, body.baseAddress, Int32(body.count), nil)
                return entry.signed.signature.withUnsafeBytes { signature in
                    sqlite3_bind_blob(raw, 5, signature.baseAddress, Int32(signature.count), nil)
                    let result = sqlite3_step(raw)
                    sqlite3_clear_bindings(raw)
                    return result
                }
            }
        }
    }
}
