import OpenSSLCrypto

/// A batch of entries as a peer sent it, decoded, with the signatures checked that the ledger
/// would check one entry at a time: made by the session that received it, before the batch
/// reaches the ledger's owner (the engine), so that work runs beside everything else rather
/// than ahead of every other peer's batch.
///
/// The ledger checks a run that continues a feed's head with one signature (and O(log n) more
/// to find a forgery), but an entry ahead of a gap on its own signature, up to
/// `FeedLedger.maximumSingleChecksPerBatch` per batch: what a peer sending entries ahead of a
/// gap makes a node spend. `checkAhead` makes those checks here. The ledger takes a result only
/// for exactly the bytes checked (body and signature): valid for a key it still checks the
/// entry with, or invalid for every key it would try (validity and revocation are judged there,
/// as ever); anything else it checks itself.
public struct ReceivedBatch: Sendable {
    /// The entries that decode, in the order sent.
    public let entries: [Entry]
    /// Those that do not, refused as malformed.
    public let malformed: [EntryRejection]
    /// What each check found, keyed by id, which covers the body only: the signature checked is
    /// kept with it, so a copy of the entry with another signature is not taken for it.
    private var checks: [EntryID: Check] = [:]

    struct Check {
        let signature: [UInt8]
        /// The keys tried, and the one the signature is valid for (nil: none of them).
        let tried: [PublicKey]
        let valid: PublicKey?
    }

    public init(decoding batch: [SignedEntry]) {
        var entries: [Entry] = []
        var malformed: [EntryRejection] = []
        entries.reserveCapacity(batch.count)
        for signed in batch {
            do {
                entries.append(try EntryCodec.decode(signed))
            } catch {
                malformed.append(EntryRejection(id: signed.id, origin: nil, seq: nil, reason: .malformed(error)))
            }
        }
        self.entries = entries
        self.malformed = malformed
    }

    /// Batches a peer sent one after another, as one batch in the same order (with what each
    /// checked beforehand).
    public init(joining batches: [ReceivedBatch]) {
        guard batches.count != 1 else {
            self = batches[0]
            return
        }
        entries = batches.flatMap(\.entries)
        malformed = batches.flatMap(\.malformed)
        for batch in batches { checks.merge(batch.checks) { first, _ in first } }
    }

    /// How many entries were checked beforehand.
    public var checkedAhead: Int { checks.count }

    /// Whether `entry`, with exactly its signature, was found signed by one of `candidates` (the
    /// keys the ledger checks it with now); nil when that was not checked (the ledger checks).
    func isSigned(_ entry: Entry, byOneOf candidates: [PublicKey]) -> Bool? {
        guard let check = checks[entry.id], check.signature == entry.signed.signature else { return nil }
        if let valid = check.valid, candidates.contains(valid) { return true }
        // Invalid for every key the ledger would try: it need not try them again.
        if candidates.allSatisfy(check.tried.contains) { return false }
        return nil
    }

    /// Checks the entries the ledger would check on their own given the heads `vector` (those
    /// not in a run from their feed's head within this batch), with `keys`: at most `limit`
    /// entries. One that names no known key is left to the ledger (which refuses it with the
    /// reason).
    public mutating func checkAhead(of vector: VersionVector, keys: OriginKeys, limit: Int) {
        var byOrigin: [NodeID: [Entry]] = [:]
        for entry in entries { byOrigin[entry.origin, default: []].append(entry) }
        var budget = limit
        for (origin, entries) in byOrigin {
            var next = vector[origin] + 1
            for entry in entries.sorted(by: { $0.seq < $1.seq }) {
                if entry.seq <= next {
                    // In the run from the head (or at a held position): the ledger's run checks it.
                    if entry.seq == next { next += 1 }
                    continue
                }
                guard budget > 0 else { return }
                guard case .keys(let candidates) = keys.lookup(entry) else { continue }
                budget -= 1
                let valid = candidates.first { entry.signed.isSigned(by: $0) }
                checks[entry.id] = Check(signature: entry.signed.signature, tried: candidates, valid: valid)
            }
        }
    }
}
