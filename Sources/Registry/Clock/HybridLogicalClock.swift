/// A hybrid logical clock (Kulkarni et al., 2014): timestamps close to wall-clock time that
/// never go backwards and order every event after everything its node has seen.
///
/// Invariants: every `tick` returns a timestamp strictly greater than any returned or observed
/// before. A remote timestamp further ahead of the local wall clock than `maximumForwardDrift`
/// is not adopted (a partner with a broken clock must not drag ours into the future); the entry
/// carrying it stays valid: validity never depends on the local clock.
public struct HybridLogicalClock: Sendable, Hashable {
    public private(set) var last: HybridTimestamp
    public let maximumForwardDrift: UInt64

    public init(last: HybridTimestamp = .zero, maximumForwardDriftMillis: UInt64 = 60_000) {
        self.last = last
        self.maximumForwardDrift = maximumForwardDriftMillis
    }

    /// The timestamp for a new local event at wall time `now` (milliseconds since the epoch).
    public mutating func tick(now: UInt64) -> HybridTimestamp {
        if now > last.wallMillis {
            last = HybridTimestamp(wallMillis: now, logical: 0)
        } else if last.logical < UInt32.max {
            last = HybridTimestamp(wallMillis: last.wallMillis, logical: last.logical + 1)
        } else {
            last = HybridTimestamp(wallMillis: last.wallMillis + 1, logical: 0)
        }
        return last
    }

    /// Takes note of a timestamp received from another node. Returns false, and leaves the clock
    /// as it was, when `remote` is implausibly far ahead of `now`.
    @discardableResult
    public mutating func observe(_ remote: HybridTimestamp, now: UInt64) -> Bool {
        guard remote.wallMillis <= now &+ maximumForwardDrift else { return false }
        if remote > last { last = remote }
        return true
    }
}
