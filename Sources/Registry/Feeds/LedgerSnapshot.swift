import OpenSSLCrypto

/// The ledger's state for a node's own restart (never sent: a peer checks entries itself):
/// per feed, its head, the link the next entry must carry, its signed bytes, its signers'
/// stretches and retired certificates; the ids of its entries are kept beside it, in chunks
/// (`FeedLedger.ids(of:from:)`). Fork evidence is kept in its own table and applied after.
///
///     u32 version (2), u32 feeds, then per feed in node order:
///       str(node) u64(head) link[32] u64(stored bytes) u8(has signer) [signer[32]]
///       u32(retired) retired[32]... u32(stretches) (u64(start) signer[32])...
///       u64(base) [base id[32], when base > 0]
///     (version 1 has no base: every feed starts at its first entry)
///     str(s) = u32(len) utf8; integers big-endian
extension FeedLedger {
    public enum SnapshotError: Error, Sendable, Equatable, CustomStringConvertible {
        case undecodable(String)
        case idsDoNotMatch(NodeID, held: Int, head: UInt64)

        public var description: String {
            switch self {
            case .undecodable(let reason): "the ledger snapshot does not decode: \(reason)"
            case .idsDoNotMatch(let node, let held, let head): "the ledger snapshot holds \(held) ids of \(node), whose head is \(head)"
            }
        }
    }

    /// Every feed's state but its ids and waiting entries.
    public func snapshotState() -> [UInt8] {
        var writer = SnapshotBytes.Writer()
        writer.u32(2)
        writer.u32(UInt32(feeds.count))
        for (node, feed) in feeds.sorted(by: { $0.key < $1.key }) {
            writer.string(node.description)
            writer.u64(feed.head)
            writer.digest(feed.link)
            writer.u64(UInt64(feed.storedBytes))
            if let signer = feed.signer {
                writer.u8(1)
                writer.digest(signer)
            } else {
                writer.u8(0)
            }
            writer.u32(UInt32(feed.retired.count))
            for id in feed.retired.sorted() { writer.digest(id) }
            writer.u32(UInt32(feed.stretches.count))
            for stretch in feed.stretches {
                writer.u64(stretch.start)
                writer.digest(stretch.signer)
            }
            writer.u64(feed.base)
            if feed.base > 0 { writer.digest(feed.baseID ?? .zero) }
        }
        return writer.bytes
    }

    /// The ids of a feed's entries from `seq` on (to keep beside the state); none before its base.
    public func ids(of node: NodeID, from seq: UInt64) -> ArraySlice<EntryID> {
        guard let feed = feeds[node], seq > feed.base, seq <= feed.head + 1 else { return [] }
        return feed.ids[Int(seq - feed.base - 1)...]
    }

    /// A ledger as `snapshotState` left it, with each feed's ids from `ids`; no entry waits.
    public init(restoring state: [UInt8], ids: [NodeID: [EntryID]], waitingLimits: WaitingLimits = .init()) throws(SnapshotError) {
        self.init(waitingLimits: waitingLimits)
        var reader = SnapshotBytes.Reader(state)
        let version = try reader.u32()
        guard version == 1 || version == 2 else { throw .undecodable("unknown version \(version)") }
        for _ in 0..<(try reader.u32()) {
            let text = try reader.string()
            guard let node = try? NodeID(text) else { throw .undecodable("feed \"\(text)\"") }
            var feed = Feed()
            let head = try reader.u64()
            feed.link = try reader.digest()
            feed.storedBytes = Int(clamping: try reader.u64())
            feed.signer = try reader.u8() == 1 ? try reader.digest() : nil
            for _ in 0..<(try reader.u32()) { feed.retired.insert(try reader.digest()) }
            for _ in 0..<(try reader.u32()) { feed.stretches.append(Feed.Stretch(start: try reader.u64(), signer: try reader.digest())) }
            if version >= 2 {
                feed.base = try reader.u64()
                if feed.base > 0 { feed.baseID = try reader.digest() }
            }
            let held = ids[node] ?? []
            guard feed.base <= head, UInt64(held.count) == head - feed.base else { throw .idsDoNotMatch(node, held: held.count, head: head) }
            feed.ids = held
            guard feeds.updateValue(feed, forKey: node) == nil else { throw .undecodable("feed \(node) twice") }
            vector[node] = head
        }
        guard reader.isAtEnd else { throw .undecodable("bytes after the last feed") }
    }
}

/// The fixed-width encoding of local snapshots.
enum SnapshotBytes {
    struct Writer {
        var bytes: [UInt8] = []
        mutating func u8(_ value: UInt8) { bytes.append(value) }
        mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
        mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
        mutating func digest(_ value: SHA256Digest) { bytes.append(contentsOf: value.bytes) }
        mutating func string(_ text: String) {
            u32(UInt32(text.utf8.count))
            bytes.append(contentsOf: text.utf8)
        }
    }

    struct Reader {
        private let bytes: [UInt8]
        private var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var isAtEnd: Bool { offset == bytes.count }

        private mutating func take(_ count: Int) throws(FeedLedger.SnapshotError) -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - offset >= count else { throw .undecodable("truncated") }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }
        mutating func u8() throws(FeedLedger.SnapshotError) -> UInt8 { try take(1).first! }
        mutating func u32() throws(FeedLedger.SnapshotError) -> UInt32 { UInt32(truncatingIfNeeded: try integer(4)) }
        mutating func u64() throws(FeedLedger.SnapshotError) -> UInt64 { try integer(8) }
        private mutating func integer(_ width: Int) throws(FeedLedger.SnapshotError) -> UInt64 {
            try take(width).reduce(0) { $0 << 8 | UInt64($1) }
        }
        mutating func digest() throws(FeedLedger.SnapshotError) -> SHA256Digest { SHA256Digest(bytes: try take(32))! }
        mutating func string() throws(FeedLedger.SnapshotError) -> String {
            let length = Int(try u32())
            guard let text = String(validating: try take(length), as: UTF8.self) else { throw .undecodable("a string is not UTF-8") }
            return text
        }
    }
}
