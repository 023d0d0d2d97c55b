import Foundation
import OpenSSLCrypto

/// The writer of this node's own feed: holds its key (and which certificate it belongs to), its
/// head and its hybrid logical clock.
///
/// `drafting` is pure: it returns the signed entry *and* the author state after it, and changes
/// nothing. The shell commits both in one transaction and only then adopts them, so an entry
/// that failed to commit never leaves a gap or a reused sequence number behind.
public struct FeedAuthor: Sendable {
    /// The node (segment 0), as its certificates name it.
    public let node: NodeID
    /// The feed written: the node's first feed, or a later segment of it.
    public private(set) var feed: NodeID
    public private(set) var key: PrivateKey
    /// The certificate of `key`, named in every entry (nil: entries as written before key history).
    public private(set) var signer: SignerID?
    /// When that certificate (its whole chain) is valid, in wall-clock milliseconds: receivers
    /// refuse an entry whose clock is outside, so the author refuses to sign one.
    public private(set) var validity: ClosedRange<UInt64>?
    public private(set) var head: FeedHead?
    public private(set) var clock: HybridLogicalClock

    /// - Parameter node: the feed to write: the node itself, or a segment of it.
    public init(
        node: NodeID, key: PrivateKey, signer: SignerID? = nil, validity: ClosedRange<UInt64>? = nil,
        head: FeedHead? = nil, clock: HybridLogicalClock = HybridLogicalClock()
    ) {
        self.node = node.node
        self.feed = node
        self.key = key
        self.signer = signer
        self.validity = validity
        self.head = head
        self.clock = clock
    }

    /// The same feed, head and clock, signed from the next entry on with `key` under the
    /// certificate `signer` (at start, and after a key rotation).
    public func signing(with key: PrivateKey, signer: SignerID?, validity: ClosedRange<UInt64>?) -> FeedAuthor {
        var next = self
        next.key = key
        next.signer = signer
        next.validity = validity
        return next
    }

    public var nextSeq: UInt64 { (head?.seq ?? 0) + 1 }

    /// The author writing segment `number` of this node's feed from its next entry on: a new
    /// feed, from seq 1, that no partner can hold (after a restart without proof that the store
    /// was the newest). The clock carries on.
    public func startingSegment(_ number: UInt32) -> FeedAuthor {
        var next = self
        next.feed = node.segment(number)
        next.head = nil
        return next
    }

    /// The next entry of the feed, signed, and the author as it will be once that entry is committed.
    public func drafting(_ operation: EntryOperation, now: UInt64) throws -> (entry: Entry, author: FeedAuthor) {
        try drafting(operation, now: now, readBack: false)
    }

    /// `drafting`, after reading the body back exactly as every receiver will, before anything
    /// is signed: what a receiver would refuse (a field beyond its limit, a body too large)
    /// throws `InvalidOperation` and is never signed or shipped. For local writes.
    public func draftingChecked(_ operation: EntryOperation, now: UInt64) throws -> (entry: Entry, author: FeedAuthor) {
        try drafting(operation, now: now, readBack: true)
    }

    private func drafting(_ operation: EntryOperation, now: UInt64, readBack: Bool) throws -> (entry: Entry, author: FeedAuthor) {
        var next = self
        let timestamp = next.clock.tick(now: now)
        if let validity, !validity.contains(timestamp.wallMillis) {
            throw SigningKeyNotValid(wallMillis: timestamp.wallMillis, validity: validity)
        }
        let body = try EntryCodec.encodeBody(
            origin: feed, seq: nextSeq, previous: head?.link ?? .zero, clock: timestamp,
            operation: operation, signer: signer)
        if readBack {
            do {
                let unsigned = try EntryCodec.decode(SignedEntry(body: body, signature: []))
                if case .malformed(let reason) = unsigned.operation { throw InvalidOperation(reason: reason) }
            } catch let error as EntryDecodingError {
                throw InvalidOperation(reason: error.description)
            }
        }
        let signature = try key.sign(SignedEntry.signedMessage(body: body))
        let entry = try EntryCodec.decode(SignedEntry(body: body, signature: signature))
        next.head = FeedHead(seq: entry.seq, id: entry.id, link: entry.link)
        return (entry, next)
    }

    /// Moves the head forward to an entry of this feed learned from a peer (a node restored from
    /// an old backup learns its own newer entries back before it writes again).
    public mutating func catchUp(to entry: Entry) {
        guard entry.origin == feed, entry.seq > (head?.seq ?? 0) else { return }
        head = FeedHead(seq: entry.seq, id: entry.id, link: entry.link)
        clock.observe(entry.clock, now: entry.clock.wallMillis)
    }

    /// Takes note of a timestamp seen on a received entry, so our next entry orders after it.
    public mutating func observe(_ timestamp: HybridTimestamp, now: UInt64) {
        clock.observe(timestamp, now: now)
    }
}

/// A local write that receivers would refuse as malformed (a field beyond its limit, a body too
/// large): refused before it is signed.
public struct InvalidOperation: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The node's certificate is not valid at the clock its next entry would carry (expired, or not
/// yet valid): every receiver would refuse the entry, so nothing is signed.
public struct SigningKeyNotValid: Error, Sendable, Hashable, CustomStringConvertible {
    public let wallMillis: UInt64
    public let validity: ClosedRange<UInt64>

    public var description: String {
        let date = { (millis: UInt64) in Date(timeIntervalSince1970: Double(millis) / 1000).formatted(.iso8601) }
        return wallMillis > validity.upperBound
            ? "this node's certificate expired at \(date(validity.upperBound)): install a renewed certificate and key (tls.certificate, tls.private-key) and reload with SIGHUP; nothing was written"
            : "this node's certificate is not valid before \(date(validity.lowerBound)); nothing was written"
    }
}
