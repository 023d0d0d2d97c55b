import OpenSSLCrypto

/// A critical material, by catalogue id (`gallium`, `rare-earth-magnets`). Whether an id is
/// *known* is the catalogue's business, not this type's: an entry naming a mineral this node's
/// catalogue lacks is kept and relayed (a partner may have extended its catalogue) but not folded.
public struct MineralID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) throws(RegistryValueError) {
        let valid = rawValue.withUTF8Bytes { utf8 in
            (1...48).contains(utf8.count) && utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
        }
        guard valid else { throw .invalidMineral(rawValue) }
        self.rawValue = rawValue
    }

    init(trusted rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
