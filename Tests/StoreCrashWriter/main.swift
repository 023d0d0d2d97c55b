// Writes own entries to a registry store as fast as it can and prints "committed <seq>" after
// each commit returns. The store's crash test kills it with SIGKILL at a random moment and checks
// that every printed seq survived and that no half-written entry did. With a third argument,
// it also saves a registry snapshot after every that many batches (and prints "snapshot <seq>"),
// so that the kill may land in a snapshot's write.
//
//   StoreCrashWriter <database-path> <batch-size> [<batches-per-snapshot>]
import Foundation
import OpenSSLCrypto
import Registry
import RegistryStore

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4, let batchSize = Int(arguments[2]), batchSize > 0 else {
    FileHandle.standardError.write(Data("usage: StoreCrashWriter <database-path> <batch-size> [<batches-per-snapshot>]\n".utf8))
    exit(64)
}
let batchesPerSnapshot = arguments.count == 4 ? Int(arguments[3]) ?? 0 : 0
let node = try NodeID("EU/eu-1")
let store = try RegistryStore(path: arguments[1], node: node)
let loaded = try store.load(key: try PrivateKey.generate())
var registry = loaded.registry
var author = FeedAuthor(node: node, key: try PrivateKey.generate(), head: loaded.author.head, clock: loaded.author.clock)
var snapshotVector = loaded.snapshotVector
var batches = 0
var counter: UInt64 = 0
while true {
    var batch: [Entry] = []
    var draftAuthor = author
    for _ in 0..<batchSize {
        counter += 1
        let operation = EntryOperation.reportReserve(
            ReserveReport(
                participant: "EU", mineral: try MineralID("gallium"), site: "site-\(counter % 7)",
                quantity: Quantity(amount: try Amount("\(counter)"), unit: .tonne), asOfMillis: counter,
                note: String(repeating: "n", count: Int(counter % 300))))
        let (entry, next) = try draftAuthor.drafting(operation, now: UInt64(Date().timeIntervalSince1970 * 1000))
        batch.append(entry)
        draftAuthor = next
    }
    try store.append(batch, clock: draftAuthor.clock.last)
    for entry in batch { try registry.adoptOwn(entry) }
    author = draftAuthor
    FileHandle.standardOutput.write(Data("committed \(author.head!.seq)\n".utf8))
    batches += 1
    if batchesPerSnapshot > 0, batches % batchesPerSnapshot == 0 {
        let snapshot = registry.snapshot(since: snapshotVector)
        try store.saveSnapshot(snapshot)
        snapshotVector = snapshot.vector
        FileHandle.standardOutput.write(Data("snapshot \(author.head!.seq)\n".utf8))
    }
}
