import Registry
import TestSupport
import Testing

@testable import MineralSyncDaemon

/// `sync --wait`'s decisions at each event, with the time given (no clock, no sockets).
@Suite struct SyncWaitTests {
    let us = TestAlliance.standard.node("US/us-1"), jp = TestAlliance.standard.node("JP/jp-1")
    let start = ContinuousClock.now

    func wait() -> SyncWait {
        SyncWait(asked: [us, jp], at: start, askInterval: .milliseconds(250), reconnectGrace: .seconds(10))
    }

    @Test func aPeerThatDropsIsWaitedForItsGraceThenNamed() {
        var wait = wait()
        var actions: [SyncWait.Action]
        let everyone: (NodeID) -> Bool = { _ in true }
        let allBehind: ([NodeID]) -> [NodeID] = { $0 }
        actions = wait.next(at: start, connected: everyone, pending: allBehind)
        #expect(actions == [.nudge(after: .milliseconds(250))])
        // JP drops: the wait nudges itself at the end of the grace, and goes on.
        let dropped = start + .seconds(1)
        actions = wait.next(at: dropped, connected: { $0 != jp }, pending: allBehind)
        #expect(actions == [.nudge(after: .seconds(10)), .ask])
        actions = wait.next(at: dropped + .seconds(9), connected: { $0 != jp }, pending: allBehind)
        #expect(actions == [.ask])
        // Gone for the whole grace: named.
        actions = wait.next(at: dropped + .seconds(10), connected: { $0 != jp }, pending: allBehind)
        #expect(actions == [.lost(jp)])
    }

    @Test func aPeerThatComesBackWithinItsGraceIsWaitedForAgainInFull() {
        var wait = wait()
        var actions: [SyncWait.Action]
        let behind: ([NodeID]) -> [NodeID] = { $0 }
        _ = wait.next(at: start + .seconds(1), connected: { $0 != jp }, pending: behind)
        actions = wait.next(at: start + .seconds(9), connected: { _ in true }, pending: behind)
        #expect(actions == [.ask])
        // Dropped again later: a new grace from then, not from the first drop.
        actions = wait.next(at: start + .seconds(12), connected: { $0 != jp }, pending: behind)
        #expect(actions == [.nudge(after: .seconds(10)), .ask])
        actions = wait.next(at: start + .seconds(21), connected: { $0 != jp }, pending: behind)
        #expect(actions == [.ask])
        // Back, and in sync: done.
        actions = wait.next(at: start + .seconds(22), connected: { _ in true }, pending: { _ in [] })
        #expect(actions == [.inSync])
    }

    @Test func peersBehindAreAskedAgainAtMostEveryInterval() {
        var wait = wait()
        var actions: [SyncWait.Action]
        let connected: (NodeID) -> Bool = { _ in true }
        let usBehind: ([NodeID]) -> [NodeID] = { $0.filter { $0 == us } }
        actions = wait.next(at: start + .milliseconds(100), connected: connected, pending: usBehind)
        #expect(actions == [.nudge(after: .milliseconds(150))])
        // Events before the interval is over ask nothing, and nudge once.
        actions = wait.next(at: start + .milliseconds(200), connected: connected, pending: usBehind)
        #expect(actions == [])
        actions = wait.next(at: start + .milliseconds(250), connected: connected, pending: usBehind)
        #expect(actions == [.ask])
        actions = wait.next(at: start + .milliseconds(300), connected: connected, pending: usBehind)
        #expect(actions == [.nudge(after: .milliseconds(200))])
        actions = wait.next(at: start + .milliseconds(400), connected: connected, pending: { _ in [] })
        #expect(actions == [.inSync])
    }
}
