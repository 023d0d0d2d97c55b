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
/// for exactly the bytes checked (body and signature) and a key the entry may still be checked
/// with (validity and revocation are judged there, as ever); anything else it checks itself.
public struct ReceivedBatch: Sendable {
    /// The entries that decode, in the order sent.
    public let entries: [Entry]
    /// Those that do not, refused as malformed.
    public let malformed: [EntryRejection]
    /// Keyed by id, which covers the body only: the signature found valid is kept with its key,
    /// so a copy of the entry with another signature is not taken for it.
    private var verified: [EntryID: (signature: [UInt8], key: PublicKey)] = [:]

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

    /// How many entries were found validly signed beforehand.
    public var checkedAhead: Int { verified.count }

    /// The key `entry`, with exactly its signature, was found signed with, if it was.
    func key(of entry: Entry) -> PublicKey? {
        guard let found = verified[entry.id], found.signature == entry.signed.signature else { return nil }
        return found.key
    }

    /// Checks the entries the ledger would check on their own given the heads `vector` (those
    /// not in a run from their feed's head within this batch), with `keys`: at most `limit`
    /// checks. An entry that names no known key, or fails, is left to the ledger (which refuses
    /// it with the reason).
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
                if let key = candidates.first(where: { entry.signed.isSigned(by: $0) }) { verified[entry.id] = (entry.signed.signature, key) }
            }
        }
    }
}
