import OpenSSLCrypto

/// The set of entry ids a view has folded: open addressing with linear probing, at most half
/// full.
///
/// A `Set<EntryID>` runs every id through SipHash, on insert and again on every resize; that
/// was a tenth of folding. Ids are SHA-256 outputs, already uniform, so the slot comes straight
/// from their first 64 bits. Those bits are mixed with a per-process random key first: an author
/// can grind bodies until ids collide in a few chosen bits, but not in bits it cannot predict.
@_spi(Testing) public struct EntryIDSet: Sendable {
    /// `.zero` marks an empty slot; the all-zero id (which no body will ever hash to) is kept
    /// aside in `holdsZero` so that the set stays exact.
    private var slots: [EntryID]
    private var holdsZero = false
    public private(set) var count = 0

    private static let key = UInt64.random(in: .min ... .max) | 1

    public init() { slots = [] }

    public var capacity: Int { slots.count / 2 }

    /// Makes room for `minimumCapacity` ids without growing again.
    public mutating func reserveCapacity(_ minimumCapacity: Int) {
        guard minimumCapacity > capacity else { return }
        var size = 16
        while size / 2 < minimumCapacity { size *= 2 }
        rehash(into: size)
    }

    /// Adds `id`; false if it was already there.
    @discardableResult
    public mutating func insert(_ id: EntryID) -> Bool {
        if id == .zero {
            defer { holdsZero = true }
            if holdsZero { return false }
            count += 1
            return true
        }
        if (count + 1) * 2 > slots.count { rehash(into: max(16, slots.count * 2)) }
        let inserted = slots.withUnsafeMutableBufferPointer { Self.place(id, in: $0) }
        if inserted { count += 1 }
        return inserted
    }

    public func contains(_ id: EntryID) -> Bool {
        if id == .zero { return holdsZero }
        guard !slots.isEmpty else { return false }
        return slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var index = Self.slot(of: id, mask: mask)
            while true {
                let held = slots[index]
                if held == id { return true }
                if held == .zero { return false }
                index = (index + 1) & mask
            }
        }
    }

    private static func slot(of id: EntryID, mask: Int) -> Int {
        // Multiply-shift over the keyed word: the high bits of the product depend on all of it.
        let mixed = (id.prefix64 ^ key) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed >> 32) & mask
    }

    /// Puts `id` in its slot unless it is there already. `slots` has a free slot.
    private static func place(_ id: EntryID, in slots: UnsafeMutableBufferPointer<EntryID>) -> Bool {
        let mask = slots.count - 1
        var index = slot(of: id, mask: mask)
        while true {
            let held = slots[index]
            if held == .zero {
                slots[index] = id
                return true
            }
            if held == id { return false }
            index = (index + 1) & mask
        }
    }

    private mutating func rehash(into size: Int) {
        var fresh = [EntryID](repeating: .zero, count: size)
        fresh.withUnsafeMutableBufferPointer { fresh in
            for id in slots where id != .zero { _ = Self.place(id, in: fresh) }
        }
        slots = fresh
    }
}
