/// A received entry this node refused, and why. Rejections are counted per peer and shown in
/// `mineralctl peers`; the entry itself changes nothing.
public struct EntryRejection: Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        case malformed(EntryDecodingError)
        case unknownOrigin
        /// The origin is known, the certificate the entry names is not (yet).
        case unknownSigner(SignerID)
        /// The certificate it names was not valid at the entry's clock.
        case outsideValidity(signer: SignerID?, wallMillis: UInt64)
        /// Signed by a certificate the feed moved on from (a key rotation): an old key at work.
        case retiredSigner
        /// Signed by a revoked certificate, and nothing still trusted vouches for it (no later
        /// entry of a certificate in force, no cut at or after its position).
        case revokedSigner
        /// After the cut in force for its feed.
        case afterCut(seq: UInt64)
        case badSignature
        case brokenChain
        case feedFrozen
        case tooFarAhead(limit: Int)
        /// More distinct entries claim one position of a feed than a genuine feed (one) or a fork
        /// (two) can explain.
        case contested(limit: Int)
        /// Entries ahead of a gap already fill what may wait, for this feed or for the node.
        case waitingFull(limit: Int, scope: WaitingScope)
        /// The batch already spent its budget of single signature checks.
        case overBudget(limit: Int)
        /// The origin's feed holds as many signed bytes as this node stores for one feed.
        case quotaExceeded(limit: Int)

        /// A short name for counting and summaries.
        public var kind: String {
            switch self {
            case .malformed: "malformed"
            case .unknownOrigin: "unknown origin"
            case .unknownSigner: "unknown signer"
            case .outsideValidity: "signer not valid then"
            case .retiredSigner: "retired signer"
            case .revokedSigner: "revoked signer"
            case .afterCut: "after a cut"
            case .badSignature: "bad signature"
            case .brokenChain: "broken chain"
            case .feedFrozen: "feed frozen"
            case .tooFarAhead: "too far ahead"
            case .contested: "contested"
            case .waitingFull: "waiting full"
            case .overBudget: "over check budget"
            case .quotaExceeded: "feed quota"
            }
        }

        /// What an honest node never sends, whatever its version: the entry is not what its
        /// origin signed, or is not an entry at all (a format this node does not read yet is
        /// not counted).
        public var isInvalid: Bool {
            switch self {
            case .malformed(let error):
                if case .unsupportedFormat = error { false } else { true }
            case .badSignature, .brokenChain, .contested, .outsideValidity: true
            // A relay may have accepted an old key's entry before it met the rotation.
            case .retiredSigner: false
            // A relay may have taken these before it met the CRL or the cut.
            case .revokedSigner, .afterCut: false
            case .unknownOrigin, .unknownSigner, .feedFrozen, .tooFarAhead, .waitingFull, .overBudget, .quotaExceeded: false
            }
        }

        public var description: String {
            switch self {
            case .malformed(let error): error.description
            case .unknownOrigin: "no verified certificate for the origin node"
            case .unknownSigner(let signer): "no verified certificate \(signer.hex.prefix(16)) of the origin node (the entry names it as its signer)"
            case .outsideValidity(let signer, let wall):
                "the entry's clock (\(wall) ms) is outside the validity of \(signer.map { "its signing certificate \($0.hex.prefix(16))" } ?? "every certificate of the origin")"
            case .retiredSigner: "signed by a certificate the origin's feed has retired (a later entry was signed with a newer key)"
            case .revokedSigner: "signed by a revoked certificate, and no later entry signed by a certificate in force (nor a cut) vouches for it"
            case .afterCut(let seq): "the origin's feed was cut at seq \(seq) by another node of its participant"
            case .badSignature: "signature does not verify with the origin's key"
            case .brokenChain: "previous-entry hash does not match the feed, and the entry is not validly signed"
            case .feedFrozen: "the origin's feed is frozen after a fork"
            case .tooFarAhead(let limit): "more than \(limit) entries ahead of the feed head"
            case .contested(let limit): "more than \(limit) different entries claim this position of the feed"
            case .waitingFull(let limit, let scope):
                "entries ahead of a gap already fill the \(limit)-byte limit \(scope == .feed ? "of this feed" : "of the node"); send the gap first"
            case .overBudget(let limit): "the batch used its \(limit) checks of single entries; send the gap first"
            case .quotaExceeded(let limit): "the origin's feed reached this node's quota of \(limit) signed bytes per feed"
            }
        }
    }

    public enum WaitingScope: Sendable, Hashable { case feed, node }

    public let id: EntryID
    public let origin: NodeID?
    public let seq: UInt64?
    public let reason: Reason

    public init(id: EntryID, origin: NodeID?, seq: UInt64?, reason: Reason) {
        self.id = id
        self.origin = origin
        self.seq = seq
        self.reason = reason
    }

    public var description: String {
        let at = origin.map { "\($0)#\(seq ?? 0)" } ?? "entry \(id.hex.prefix(16))"
        return "\(at) rejected: \(reason)"
    }
}
