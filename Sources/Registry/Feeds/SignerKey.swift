import OpenSSLCrypto

/// The certificate that signed an entry: SHA-256 of its DER encoding (`EntryBody.signer`).
public typealias SignerID = SHA256Digest

/// One certificate of an origin's key history: the key its entries are checked with, and the
/// span of its entries' clocks it may sign for (the validity of its whole chain, in wall-clock
/// milliseconds). Judged by the entry's own clock, never the receiver's: an expired certificate
/// still vouches for what it signed while valid.
public struct SignerKey: Sendable {
    public let id: SignerID
    public let key: PublicKey
    public let validFrom: UInt64
    public let validUntil: UInt64

    public init(id: SignerID, key: PublicKey, validFrom: UInt64, validUntil: UInt64) {
        self.id = id
        self.key = key
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// A key for an entry that was signed at `clock`.
    public func covers(_ clock: HybridTimestamp) -> Bool { (validFrom...validUntil).contains(clock.wallMillis) }
}

/// What the ledger checks an entry's signature with.
public enum SignerLookup: Sendable {
    /// The keys to try: the one the entry names, or, for an entry from before key history, those
    /// of the origin's certificates that were valid at its clock.
    case keys([PublicKey])
    /// No certificate of the origin is known (it may arrive with a later message).
    case unknownOrigin
    /// The origin is known, but not the certificate this entry names.
    case unknownSigner(SignerID)
    /// The certificate was not valid at the entry's clock.
    case outsideValidity(SignerID?, wallMillis: UInt64)
    /// A certificate older than the one a feed joined from a checkpoint was signed with at its
    /// base: the feed moved on from it (or never used it) before the checkpoint.
    case retired(SignerID)

    var hasKeys: Bool { if case .keys = self { true } else { false } }
}

/// Every origin's key history as this node knows it: the certificates that chain to the origin's
/// participant anchor and name the origin. Pure; the engine owns one and the ledger asks it.
public struct OriginKeys: Sendable {
    /// At most this many certificates per origin are kept: renewed yearly, a feed needs a few
    /// over its life; a participant's authority issuing without end costs us this much at most.
    public static let maximumPerOrigin = 32

    private var keys: [NodeID: [SignerKey]] = [:]

    public init() {}

    public var origins: Dictionary<NodeID, [SignerKey]>.Keys { keys.keys }
    public func history(of origin: NodeID) -> [SignerKey] { keys[origin] ?? [] }

    public enum Addition: Sendable, Equatable { case added, known, full }

    /// Adds a verified certificate to the origin's history.
    @discardableResult
    public mutating func add(_ key: SignerKey, for origin: NodeID) -> Addition {
        var history = keys[origin] ?? []
        if history.contains(where: { $0.id == key.id }) { return .known }
        guard history.count < Self.maximumPerOrigin else { return .full }
        history.append(key)
        keys[origin] = history
        return .added
    }

    /// The keys `entry` is checked with: every segment of a node's feed is signed under that
    /// node's certificates.
    public func lookup(_ entry: Entry) -> SignerLookup {
        guard let history = keys[entry.origin.node], !history.isEmpty else { return .unknownOrigin }
        guard let signer = entry.signer else {
            let valid = history.filter { $0.covers(entry.clock) }.map(\.key)
            return valid.isEmpty ? .outsideValidity(nil, wallMillis: entry.clock.wallMillis) : .keys(valid)
        }
        guard let key = history.first(where: { $0.id == signer }) else { return .unknownSigner(signer) }
        return key.covers(entry.clock) ? .keys([key.key]) : .outsideValidity(signer, wallMillis: entry.clock.wallMillis)
    }

    /// Whether `signed` is signed by the key of the certificate it names, one of its node's and
    /// not in `revoked`: how every view statement is checked (received, in a checkpoint state, in
    /// an archive).
    public func verifies(_ signed: SignedStatement, revoked: Set<SignerID>) -> Bool {
        guard !revoked.contains(signed.signer),
            let key = keys[signed.statement.node]?.first(where: { $0.id == signed.signer })
        else { return false }
        return signed.isSigned(by: key.key)
    }

    /// `lookup`, for a node whose feeds in `bases` start at a checkpoint (each with the
    /// certificate that signed its entry there). A feed's key history before its base is not
    /// held there, so which certificates the feed had retired is not known: a certificate
    /// issued before the base's (valid from earlier) counts as retired, as a rotation only ever
    /// moves to a newer certificate; otherwise a stolen older key could sign the next entry.
    public func lookup(_ entry: Entry, bases: [NodeID: SignerID]) -> SignerLookup {
        guard let baseSigner = bases[entry.origin], let signer = entry.signer, signer != baseSigner,
            let history = keys[entry.origin.node], let base = history.first(where: { $0.id == baseSigner }),
            let named = history.first(where: { $0.id == signer }), named.validFrom < base.validFrom
        else { return lookup(entry) }
        return .retired(signer)
    }
}
