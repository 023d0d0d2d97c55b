internal import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// A SHA-256 digest, held as four words so that it hashes and compares without touching the heap
/// (entry ids are dictionary keys on the hot path of folding).
public struct SHA256Digest: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let byteCount = 32
    public static let zero = SHA256Digest(words: (0, 0, 0, 0))

    @usableFromInline let w0: UInt64
    @usableFromInline let w1: UInt64
    @usableFromInline let w2: UInt64
    @usableFromInline let w3: UInt64

    init(words: (UInt64, UInt64, UInt64, UInt64)) {
        (w0, w1, w2, w3) = words
    }

    /// Reads exactly 32 bytes; returns nil for any other length. Inlinable, so that a raw buffer
    /// (a field of a received entry) is read in place.
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        if let digest = bytes.withContiguousStorageIfAvailable({ Self(buffer: UnsafeRawBufferPointer($0)) }) {
            self = digest
        } else {
            self = Array(bytes).withUnsafeBytes { Self(buffer: $0) }
        }
    }

    /// Reads the first 32 bytes of `buffer` (which must hold at least 32).
    @inlinable
    init(buffer: UnsafeRawBufferPointer) {
        w0 = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    /// Parses 64 lowercase or uppercase hex digits.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes: bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The 32 bytes, big-endian as SHA-256 writes them.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Calls `body` with the 32 bytes, big-endian, without a copy on the heap (an entry's id
    /// is bound into every row the store appends).
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)) { try body($0) }
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    /// The first eight bytes, big-endian: uniformly distributed, for hash tables of digests.
    @inlinable public var prefix64: UInt64 { w0 }

    /// The first 64 bits of a SHA-256 output are already uniformly distributed: hashing them
    /// alone keeps dictionaries of entry ids fast. Equality still compares all 256 bits, and
    /// finding inputs whose digests collide in these 64 bits is far beyond an attacker.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(w0)
    }

    public static func < (a: SHA256Digest, b: SHA256Digest) -> Bool {
        if a.w0 != b.w0 { return a.w0 < b.w0 }
        if a.w1 != b.w1 { return a.w1 < b.w1 }
        if a.w2 != b.w2 { return a.w2 < b.w2 }
        return a.w3 < b.w3
    }
}

/// SHA-256 through the system OpenSSL. The algorithm is fetched once per process (an implicit
/// fetch on every call costs more than hashing a small entry).
public enum SHA256 {
    private final class Algorithm: @unchecked Sendable {
        // EVP_MD objects are immutable once fetched and may be shared across threads.
        let md: OpaquePointer
        init() {
            guard let md = EVP_MD_fetch(nil, "SHA256", nil) else {
                fatalError("the system OpenSSL provides no SHA-256: \(OpenSSLError.capture("EVP_MD_fetch(SHA256)"))")
            }
            self.md = md
        }
    }
    private static let algorithm = Algorithm()

    static var md: OpaquePointer { algorithm.md }

    public static func hash(_ bytes: [UInt8]) -> SHA256Digest {
        bytes.withUnsafeBytes { hash($0) }
    }

    public static func hash(_ buffer: UnsafeRawBufferPointer) -> SHA256Digest {
        var hasher = SHA256Hasher()
        hasher.update(buffer)
        return hasher.finalize()
    }
}

/// An incremental SHA-256, for digests over several pieces (a prefix, a length, a body, a
/// signature) without concatenating them first.
///
/// Creating an OpenSSL digest context costs more than hashing a small entry, so finished
/// hashers return their context to a small shared pool for the next one to reuse.
public struct SHA256Hasher: ~Copyable {
    private let context: OpaquePointer

    public init() {
        if let spare = SpareDigestContext.take() {
            context = spare
        } else {
            guard let fresh = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
            context = fresh
        }
        guard EVP_DigestInit_ex2(context, SHA256.md, nil) == 1 else {
            fatalError("SHA-256 initialisation failed: \(OpenSSLError.capture("EVP_DigestInit_ex2"))")
        }
    }

    deinit { SpareDigestContext.giveBack(context) }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard buffer.count > 0 else { return }
        EVP_DigestUpdate(context, buffer.baseAddress, buffer.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Appends a digest's 32 bytes (no allocation: chains of digests hash one per step).
    public mutating func update(_ digest: SHA256Digest) {
        digest.withUnsafeBytes { update($0) }
    }

    /// Appends `value` as eight big-endian bytes.
    public mutating func update(bigEndian value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { update($0) }
    }

    public consuming func finalize() -> SHA256Digest {
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { out in
            var length: UInt32 = 0
            _ = EVP_DigestFinal_ex(context, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
            return SHA256Digest(buffer: UnsafeRawBufferPointer(out))
        }
    }
}

/// A small shared pool of digest contexts. (Not thread-local storage: a TSD destructor that
/// calls into OpenSSL while a thread exits can deadlock with OpenSSL's own thread clean-up.)
///
/// The slots live in memory of our own rather than in a Swift array on a class: every access to
/// a class's `var` is checked for exclusivity at run time, which cost more than the lock.
private enum SpareDigestContext {
    private final class Pool: @unchecked Sendable {
        // Guarded by `mutex`; allocated once and never freed (the pool lives as long as the process).
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let slots = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: SpareDigestContext.capacity)
        let count = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        init() {
            pthread_mutex_init(mutex, nil)
            slots.initialize(repeating: nil, count: SpareDigestContext.capacity)
            count.initialize(to: 0)
        }
    }
    private static let pool = Pool()
    private static let capacity = 64

    static func take() -> OpaquePointer? {
        let pool = pool
        pthread_mutex_lock(pool.mutex)
        defer { pthread_mutex_unlock(pool.mutex) }
        guard pool.count.pointee > 0 else { return nil }
        pool.count.pointee -= 1
        return pool.slots[pool.count.pointee]
    }

    static func giveBack(_ context: OpaquePointer) {
        let pool = pool
        pthread_mutex_lock(pool.mutex)
        if pool.count.pointee < capacity {
            pool.slots[pool.count.pointee] = context
            pool.count.pointee += 1
            pthread_mutex_unlock(pool.mutex)
        } else {
            pthread_mutex_unlock(pool.mutex)
            EVP_MD_CTX_free(context)
        }
    }
}
