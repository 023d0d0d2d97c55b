/// A hybrid logical clock reading: wall-clock milliseconds and a logical counter that orders
/// events within one millisecond (or while the wall clock lags a timestamp already seen).
public struct HybridTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let wallMillis: UInt64
    public let logical: UInt32

    public init(wallMillis: UInt64, logical: UInt32 = 0) {
        self.wallMillis = wallMillis
        self.logical = logical
    }

    public static let zero = HybridTimestamp(wallMillis: 0)

    public static func < (a: Self, b: Self) -> Bool {
        (a.wallMillis, a.logical) < (b.wallMillis, b.logical)
    }

    public var description: String { "\(wallMillis).\(logical)" }
}
