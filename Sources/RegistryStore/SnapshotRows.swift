import Foundation
import GRDB
import OpenSSLCrypto
import Registry

/// A registry snapshot as the store's rows: each feed's chunk of entry ids as one blob with its
/// checksum, and the ledger and views with theirs. Made before the write transaction (tens of
/// thousands of ids are copied and hashed), so that the writer is held only to insert them.
struct SnapshotRows {
    private struct IDChunk {
        let origin: String
        let index: Int
        let ids: Data
        let checksum: Data
    }

    private let chunks: [IDChunk]
    private let ledger: Data
    private let views: Data
    private let checksum: Data

    init(_ snapshot: RegistrySnapshot) {
        chunks = snapshot.idChunks.map { chunk in
            var blob = [UInt8]()
            blob.reserveCapacity(chunk.ids.count * SHA256Digest.byteCount)
            for id in chunk.ids { id.withUnsafeBytes { blob.append(contentsOf: $0) } }
            return IDChunk(origin: chunk.feed.description, index: chunk.index, ids: Data(blob), checksum: Data(SHA256.hash(blob).bytes))
        }
        ledger = Data(snapshot.ledger)
        views = Data(snapshot.views)
        checksum = Data(RegistryStore.checksum(ledger: snapshot.ledger, views: snapshot.views).bytes)
    }

    func put(in db: Database) throws {
        let chunk = try db.cachedStatement(
            sql:
                "INSERT INTO feed_ids(origin, chunk, ids, checksum) VALUES (?, ?, ?, ?) ON CONFLICT(origin, chunk) DO UPDATE SET ids = excluded.ids, checksum = excluded.checksum"
        )
        for ids in chunks { try chunk.execute(arguments: [ids.origin, ids.index, ids.ids, ids.checksum]) }
        try db.execute(
            sql:
                "INSERT INTO snapshot(slot, ledger, views, checksum) VALUES (1, ?, ?, ?) ON CONFLICT(slot) DO UPDATE SET ledger = excluded.ledger, views = excluded.views, checksum = excluded.checksum",
            arguments: [ledger, views, checksum])
    }
}
