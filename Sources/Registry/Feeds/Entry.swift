import OpenSSLCrypto

/// A decoded entry: the signed bytes plus what they say, with the id computed once. Two entries
/// are the same entry when their bodies are the same bytes.
///
/// Immutable, and a class so that the ledger, the views and the send queues share one copy:
/// passing an entry around costs one reference count, not a copy of every field.
public final class Entry: Sendable, Hashable, CustomStringConvertible {
    public let signed: SignedEntry
    public let id: EntryID
    public let origin: NodeID
    public let seq: UInt64
    public let previous: SHA256Digest
    public let clock: HybridTimestamp
    public let operation: EntryOperation
    /// The certificate that signed it; nil in entries written before key history.
    public let signer: SignerID?
    /// The write it supersedes in its register (`EntryOperation.supersedes`), read out once.
    public let supersedes: EntryID?

    init(
        signed: SignedEntry, id: EntryID, origin: NodeID, seq: UInt64,
        previous: SHA256Digest, clock: HybridTimestamp, operation: EntryOperation, signer: SignerID?
    ) {
        self.signed = signed
        self.id = id
        self.origin = origin
        self.seq = seq
        self.previous = previous
        self.clock = clock
        self.operation = operation
        self.signer = signer
        supersedes = operation.supersedes
    }

    /// The chain link the next entry of this feed must carry in `previous`. Computed on each
    /// call (a hash over body and signature): only the ledger's chain check needs it, once per
    /// entry, and folding alone should not pay for it.
    public var link: SHA256Digest { signed.link }

    /// `signer`, with `.zero` standing for an entry that names none (key history compares them).
    var signerID: SignerID { signer ?? .zero }

    public static func == (a: Entry, b: Entry) -> Bool { a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    public var description: String { "\(origin)#\(seq) \(operation.kind)" }
}
