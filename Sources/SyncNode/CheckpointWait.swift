/// How long a node joining from a checkpoint still waits for the state it asked of one session.
/// The wait is on the peer's progress: it starts when the state is asked and again at each part
/// that arrives. Once the whole state has arrived the peer has done its part, and checking the
/// state (its signatures take a while when it is large, and longer on a loaded machine) never
/// counts against it.
struct CheckpointWait: Sendable, Equatable {
    /// The session asked (nil: none).
    private(set) var link: UInt64?
    /// When the state asked last progressed: asked, or a part arrived.
    private(set) var progressed: ContinuousClock.Instant
    /// Whether the whole state arrived and is being checked.
    private(set) var arrived = false

    init(at now: ContinuousClock.Instant = .now) {
        progressed = now
    }

    /// The state is asked of `link`: the wait starts.
    mutating func ask(_ link: UInt64, at now: ContinuousClock.Instant) {
        (self.link, progressed, arrived) = (link, now, false)
    }

    /// A part arrived on `link`: if that is the session asked, the wait starts again.
    mutating func partArrived(on link: UInt64, at now: ContinuousClock.Instant) {
        if link == self.link, !arrived { progressed = now }
    }

    /// The whole state arrived on `link`: it no longer waits for that peer.
    mutating func stateArrived(on link: UInt64) {
        if link == self.link { arrived = true }
    }

    /// How much of `wait` the session `link` has left to send its next part at `now`: zero when
    /// it went silent for `wait` or is not the one asked; the whole `wait` while its state is
    /// checked (the caller looks again after that, when it may have been taken or refused).
    func timeLeft(for link: UInt64, of wait: Duration, at now: ContinuousClock.Instant) -> Duration {
        guard link == self.link else { return .zero }
        if arrived { return wait }
        return max(.zero, wait - (now - progressed))
    }
}
