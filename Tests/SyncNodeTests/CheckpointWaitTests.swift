import Testing

@testable import SyncNode

/// The wait of a node joining from a checkpoint is on the peer asked: each part it sends starts
/// the wait again, and once all of its state has arrived, checking it never counts against it.
@Suite struct CheckpointWaitTests {
    let start = ContinuousClock.now
    let wait = Duration.seconds(3)

    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int64(seconds * 1000)) }

    @Test func aSilentPeerRunsOutOfTimeAndEachPartStartsTheWaitAgain() {
        var progress = CheckpointWait(at: start)
        progress.ask(7, at: at(0))
        #expect(progress.timeLeft(for: 7, of: wait, at: at(1)) == .seconds(2))
        progress.partArrived(on: 7, at: at(2.5))
        #expect(progress.timeLeft(for: 7, of: wait, at: at(5)) == .milliseconds(500))
        #expect(progress.timeLeft(for: 7, of: wait, at: at(5.5)) == .zero)
        #expect(progress.timeLeft(for: 7, of: wait, at: at(60)) == .zero)
    }

    @Test func onlyTheSessionAskedCounts() {
        var progress = CheckpointWait(at: start)
        progress.ask(7, at: at(0))
        progress.partArrived(on: 8, at: at(2.5))
        progress.stateArrived(on: 8)
        #expect(progress.timeLeft(for: 7, of: wait, at: at(3)) == .zero)
        #expect(progress.timeLeft(for: 8, of: wait, at: at(1)) == .zero)
    }

    @Test func aStateThatArrivedWholeIsWaitedForHoweverLongItsCheckTakes() {
        var progress = CheckpointWait(at: start)
        progress.ask(7, at: at(0))
        progress.partArrived(on: 7, at: at(1))
        progress.stateArrived(on: 7)
        #expect(progress.timeLeft(for: 7, of: wait, at: at(30)) == wait)
        // A part after the whole state changes nothing; asking again starts a new wait.
        progress.partArrived(on: 7, at: at(31))
        #expect(progress.timeLeft(for: 7, of: wait, at: at(300)) == wait)
        progress.ask(9, at: at(40))
        #expect(progress.timeLeft(for: 9, of: wait, at: at(44)) == .zero)
        #expect(progress.timeLeft(for: 7, of: wait, at: at(41)) == .zero)
    }
}
