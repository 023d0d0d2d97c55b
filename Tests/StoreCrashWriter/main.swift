// Writes own entries to a registry store as fast as it can and prints "committed <seq>" after
// each commit returns. The store's crash test kills it with SIGKILL at a random moment and checks
// that every printed seq survived and that no half-written entry did.
//
//   StoreCrashWriter <database-path> <batch-size>
import Foundation
import OpenSSLCrypto
import Registry
import RegistryStore

let arguments = CommandLine.arguments
guard arguments.count == 3, let batchSize = Int(arguments[2]), batchSize > 0 else {
    FileHandle.standardError.write(Data("usage: StoreCrashWriter <database-path> <batch-size>\n".utf8))
    exit(64)
}
let node = try NodeID("EU/eu-1")
let store = try RegistryStore(path: arguments[1], node: node)
var (registry, author) = try store.load(key: try PrivateKey.generate())
author = FeedAuthor(node: node, key: try PrivateKey.generate(), head: author.head, clock: author.clock)
var counter: UInt64 = 0
while true {
    var batch: [Entry] = []
    var draftAuthor = author
    for _ in 0..<batchSize {
        counter += 1
        let operation = EntryOperation.reportReserve(ReserveReport(
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
}
