import ArgumentParser
import Foundation
import OpenSSLCrypto
import Registry
import RegistryStore

/// `mineral-bench registry`: fold, validate-and-fold and store throughput over a synthetic
/// alliance history, next to the per-entry costs they are built from (one SHA-256, one
/// signature verification) measured in the same run.
struct RegistryBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Fold, validate-and-fold and store throughput for N entries over F feeds.")

    @Option(help: "Entries in the history.") var entries = 100_000
    @Option(help: "Feeds (nodes) the entries are spread over.") var feeds = 50
    @Option(help: "Entries per ingest batch and per store transaction.") var batch = 1_000
    @Option(help: "Rounds per measurement; the best is reported.") var rounds = 3
    @Option(help: "Node key algorithm: ed25519 or p256.") var algorithm = "ed25519"
    @Option(help: ArgumentHelp("For profilers: repeat only this phase (fold, validate) 20 times.", visibility: .hidden))
    var focus: String?

    func validate() throws {
        guard entries >= 1, feeds >= 1, entries >= feeds, batch >= 1, rounds >= 1 else {
            throw ValidationError("need --entries ≥ --feeds ≥ 1, --batch ≥ 1 and --rounds ≥ 1")
        }
    }

    func run() throws {
        guard let algorithm = KeyAlgorithm(rawValue: algorithm) else { throw ValidationError("algorithm must be ed25519 or p256") }
        #if DEBUG
            print("warning: a debug build; run `swift run -c release mineral-bench registry` for real figures")
        #endif
        print("generating \(entries) signed entries over \(feeds) feeds (\(algorithm))…")
        let history = try SyntheticHistory(entries: entries, feeds: feeds, algorithm: algorithm)
        let keys = history.keyDirectory
        print("generating the same history with 5 keys per feed, and with 2 (one rotation)…")
        let rotated = try SyntheticHistory(entries: entries, feeds: feeds, algorithm: algorithm, keysPerFeed: 5)
        let rotatedOnce = try SyntheticHistory(entries: entries, feeds: feeds, algorithm: algorithm, keysPerFeed: 2)
        print("generating the same history with every write naming the one it supersedes…")
        let superseding = try SyntheticHistory(entries: entries, feeds: feeds, algorithm: algorithm, superseding: true)
        let signed = history.catchUpOrder.map(\.signed)
        print("")
        if let focus {
            for _ in 0..<(focus == "fold" ? 150 : 20) {
                var registry = MineralRegistry()
                switch focus {
                case "fold":
                    registry = MineralRegistry()
                    var views = RegistryViews()
                    views.fold(history.entries)
                default:
                    for start in stride(from: 0, to: signed.count, by: batch) {
                        _ = registry.ingest(Array(signed[start..<min(start + batch, signed.count)]), keys: keys)
                    }
                }
            }
            return
        }

        // Baselines: the per-entry primitives validation is made of.
        let sample = Array(signed.prefix(10_000))
        let hashTime = Stopwatch.best(rounds: rounds) { for entry in sample { _ = entry.link } }
        let verifySample = Array(history.entries.prefix(2_000))
        let verifyTime = Stopwatch.best(rounds: rounds) {
            for entry in verifySample { precondition(entry.signed.isSigned(by: keys(entry.origin)!)) }
        }
        let decodeTime = try Stopwatch.best(rounds: rounds) { for entry in sample { _ = try EntryCodec.decode(entry) } }
        print("baseline (same run)")
        print("  SHA-256 link per entry   " + formatRate(sample.count, hashTime))
        print("  decode+id+link per entry " + formatRate(sample.count, decodeTime))
        print("  signature verification   " + formatRate(verifySample.count, verifyTime))

        func timeFold(_ history: SyntheticHistory) -> Double {
            Stopwatch.best(rounds: rounds) {
                var views = RegistryViews()
                views.fold(history.entries)
                precondition(views.entryCount == history.entries.count)
            }
        }
        let foldTime = timeFold(history)
        let supersedingFoldTime = timeFold(superseding)

        var checks = 0
        var validatedDigest = SHA256Digest.zero
        let validateTime = Stopwatch.best(rounds: rounds) {
            var registry = MineralRegistry()
            checks = 0
            var start = 0
            while start < signed.count {
                let end = min(start + batch, signed.count)
                let result = registry.ingest(Array(signed[start..<end]), keys: keys)
                precondition(result.rejected.isEmpty, "\(result.rejected.prefix(3))")
                checks += result.signatureChecks
                start = end
            }
            precondition(registry.views.entryCount == signed.count)
            validatedDigest = registry.views.digest
        }

        /// Validate + fold through the key-history lookup (`OriginKeys`), as the node does.
        /// `revoking`: certificates a CRL in force revokes (none of the history's own: what is
        /// measured is what following what is shown costs every batch once any CRL is in force).
        func validateWithKeyHistory(_ history: SyntheticHistory, revoking: Set<SignerID> = []) -> (seconds: Double, checks: Int) {
            let signed = history.catchUpOrder.map(\.signed)
            var checks = 0
            let time = Stopwatch.best(rounds: rounds) {
                var registry = MineralRegistry()
                _ = registry.setRevokedSigners(revoking)
                checks = 0
                for start in stride(from: 0, to: signed.count, by: batch) {
                    let result = registry.ingest(Array(signed[start..<min(start + batch, signed.count)]), signers: history.signers.lookup)
                    precondition(result.rejected.isEmpty, "\(result.rejected.prefix(3))")
                    checks += result.signatureChecks
                }
                precondition(registry.views.entryCount == signed.count)
            }
            return (time, checks)
        }
        let oneKey = validateWithKeyHistory(history)
        let fiveKeys = validateWithKeyHistory(rotated)
        let twoKeys = validateWithKeyHistory(rotatedOnce)
        let withCRL = validateWithKeyHistory(history, revoking: [SHA256.hash(Array("a revoked certificate of another node".utf8))])
        let supersedingValidate = validateWithKeyHistory(superseding)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mineral-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var round = 0
        let ordered = history.catchUpOrder
        let storeTime = try Stopwatch.best(rounds: rounds) {
            round += 1
            let store = try RegistryStore(path: directory.appendingPathComponent("bench-\(round).sqlite").path, node: history.nodes[0])
            var start = 0
            while start < ordered.count {
                let end = min(start + batch, ordered.count)
                try store.append(Array(ordered[start..<end]))
                start = end
            }
            try store.close()
        }

        let reloadTime = try Stopwatch.best(rounds: 1) {
            let store = try RegistryStore(path: directory.appendingPathComponent("bench-1.sqlite").path, node: history.nodes[0])
            let loaded = try store.load(key: history.keys[history.nodes[0]]!)
            precondition(loaded.registry.views.digest == validatedDigest)
        }

        let perEntryVerify = Double(signed.count) / (Double(verifySample.count) / verifyTime)
        print("")
        print("registry (\(entries) entries, \(feeds) feeds, batches of \(batch), best of \(rounds))")
        print("  fold (views only)        " + formatRate(entries, foldTime) + "   goal ≥ 1,000,000/s")
        print("  validate + fold          " + formatRate(entries, validateTime) + "   goal ≥ 200,000/s")
        print("    signature checks: \(checks) for \(entries) entries (one per feed and batch)")
        print(String(format: "    vs. verifying every signature (%.2f s): %.1f× faster", perEntryVerify, perEntryVerify / validateTime))
        print("  validate + fold, key history lookup:")
        print("    1 key per feed         " + formatRate(entries, oneKey.seconds) + "   \(oneKey.checks) signature checks")
        print("    5 keys per feed        " + formatRate(entries, fiveKeys.seconds) + "   \(fiveKeys.checks) signature checks")
        print(String(format: "    5 keys ÷ 1 key: %.2f×   goal ≥ 0.95×", oneKey.seconds / fiveKeys.seconds))
        print("    2 keys per feed        " + formatRate(entries, twoKeys.seconds) + "   \(twoKeys.checks) signature checks (one rotation per feed)")
        print(String(format: "    2 keys ÷ 1 key: %.2f×", oneKey.seconds / twoKeys.seconds))
        print("    1 key, a CRL in force  " + formatRate(entries, withCRL.seconds) + "   (what is shown is followed every batch)")
        print(String(format: "    with a CRL ÷ without: %.2f×", oneKey.seconds / withCRL.seconds))
        print("  causality: every write names the one it supersedes")
        print("    fold                   " + formatRate(entries, supersedingFoldTime))
        print(String(format: "    ÷ fold without: %.2f×   goal ≥ 0.95×", foldTime / supersedingFoldTime))
        print("    validate + fold        " + formatRate(entries, supersedingValidate.seconds))
        print(String(format: "    ÷ validate + fold without: %.2f×   goal ≥ 0.95×", oneKey.seconds / supersedingValidate.seconds))
        print("  store append (FULL sync) " + formatRate(entries, storeTime) + "   goal ≥ 100,000/s")
        print("  reopen: load + rebuild   " + formatRate(entries, reloadTime))
    }
}
