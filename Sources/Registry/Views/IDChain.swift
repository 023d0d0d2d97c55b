import OpenSSLCrypto

/// A digest of a sequence of entry ids that grows by one hash per id appended:
/// `chain₀ = 32 zero bytes`, `chainₙ = SHA-256(chainₙ₋₁ ‖ idₙ)`. Registers keep theirs as
/// writes arrive, so the view digest never walks a register's history again.
enum IDChain {
    static let empty = SHA256Digest.zero

    static func extend(_ chain: SHA256Digest, with id: EntryID) -> SHA256Digest {
        var hasher = SHA256Hasher()
        hasher.update(chain)
        hasher.update(id)
        return hasher.finalize()
    }

    static func over(_ entries: [Entry]) -> SHA256Digest {
        entries.reduce(empty) { extend($0, with: $1.id) }
    }
}
