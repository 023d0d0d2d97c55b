import OpenSSLCrypto

/// The set of entry ids a view has folded: the ids in a dense array, found through an
/// open-addressing table (linear probing, at most half full) of 8-byte slots.
///
/// A `Set<EntryID>` runs every id through SipHash, on insert and again on every resize, and
/// probes 32-byte slots scattered over several megabytes: that was a sixth of folding. Ids are
/// SHA-256 outputs, already uniform, so the slot comes straight from their first 64 bits, mixed
/// with a per-process random key first (an author can grind bodies until ids collide in a few
/// chosen bits, but not in bits it cannot predict). A slot holds the id's place in the dense
/// array and a 32-bit tag of its hash, so a probe reads the full id only when the tags agree.
@_spi(Testing) public struct EntryIDSet: Sendable {
    private var ids: [EntryID] = []
    /// 0 is empty; otherwise the high 32 bits are the tag and the low 32 bits the place in `ids` + 1.
    private var table: [UInt64] = []
    /// 64 − log2(table.count): the slot is the top bits of the mixed hash.
    private var shift: UInt64 = 64

    private static let key = UInt64.random(in: .min ... .max) | 1

    public init() {}

    public var count: Int { ids.count }
    public var capacity: Int { table.count / 2 }

    /// Makes room for `minimumCapacity` ids without growing again.
    public mutating func reserveCapacity(_ minimumCapacity: Int) {
        guard minimumCapacity > capacity else { return }
        var size = 16
        while size / 2 < minimumCapacity { size *= 2 }
        ids.reserveCapacity(minimumCapacity)
        rebuild(size: size)
    }

    /// Adds `id`; false if it was already there.
    @discardableResult
    public mutating func insert(_ id: EntryID) -> Bool {
        if (ids.count + 1) * 2 > table.count { rebuild(size: max(16, table.count * 2)) }
        let (slot, found, tag) = probe(id)
        guard !found else { return false }
        precondition(ids.count < Int(UInt32.max), "more than 4 billion entries in one view")
        table[slot] = tag | UInt64(ids.count + 1)
        ids.append(id)
        return true
    }

    public func contains(_ id: EntryID) -> Bool {
        guard !table.isEmpty else { return false }
        return probe(id).found
    }

    /// The slot holding `id`, or else the empty slot where it belongs (the table always has
    /// one), and the tag its slot carries.
    private func probe(_ id: EntryID) -> (slot: Int, found: Bool, tag: UInt64) {
        let hash = Self.mix(id)
        let tag = hash << 32
        let shift = shift
        return ids.withUnsafeBufferPointer { ids in
            table.withUnsafeBufferPointer { table in
                let mask = table.count - 1
                var index = Int(truncatingIfNeeded: hash >> shift)
                while true {
                    let slot = table[index]
                    if slot == 0 { return (index, false, tag) }
                    if slot & 0xFFFF_FFFF_0000_0000 == tag, ids[Int(slot & 0xFFFF_FFFF) - 1] == id { return (index, true, tag) }
                    index = (index + 1) & mask
                }
            }
        }
    }

    /// Multiply-shift over the keyed first word: the slot comes from the top bits of the
    /// product, the tag from its low 32 bits, so the two never share bits.
    private static func mix(_ id: EntryID) -> UInt64 {
        (id.prefix64 ^ key) &* 0x9E37_79B9_7F4A_7C15
    }

    private mutating func rebuild(size: Int) {
        shift = UInt64(64 - size.trailingZeroBitCount)
        var fresh = [UInt64](repeating: 0, count: size)
        let shift = shift
        ids.withUnsafeBufferPointer { ids in
            fresh.withUnsafeMutableBufferPointer { table in
                let mask = table.count - 1
                for (position, id) in ids.enumerated() {
                    let hash = Self.mix(id)
                    var index = Int(truncatingIfNeeded: hash >> shift)
                    while table[index] != 0 { index = (index + 1) & mask }
                    table[index] = (hash << 32) | UInt64(position + 1)
                }
            }
        }
        table = fresh
    }
}
