import Testing

@testable import MineralSyncDaemon

/// The operator's skip of an event a hook keeps failing on, against the worker's pauses and
/// attempts. Every wait here ends on an event (a skip, a resolution, a cancellation); the only
/// timed pause is one that must run its full, short time.
@Suite struct StuckEventsTests {
    let failure = StuckEvents.Failure(event: "alert-raised/aa", attempts: 3, lastError: "exited with status 3")

    @Test func aSkipIsRefusedUnlessItNamesTheEventTheHookIsFailingOn() async {
        let stuck = StuckEvents()
        await #expect(throws: StuckEvents.Refusal.notFailing) { try await stuck.skip("pager", event: "alert-raised/aa") }
        stuck.failed("pager", failure)
        await #expect(throws: StuckEvents.Refusal.failingOn("alert-raised/aa")) { try await stuck.skip("pager", event: "alert-raised/bb") }
        await #expect(throws: StuckEvents.Refusal.notFailing) { try await stuck.skip("webhook", event: "alert-raised/aa") }
        // Delivered at last: nothing is left to skip.
        stuck.resolved("pager", .delivered)
        await #expect(throws: StuckEvents.Refusal.notFailing) { try await stuck.skip("pager", event: "alert-raised/aa") }
    }

    @Test func aSkipEndsTheWorkersPauseAndIsAnsweredWhenTheWorkerMovedPast() async throws {
        let stuck = StuckEvents()
        stuck.failed("pager", failure)
        let worker = Task {
            // A back-off far longer than the test: only the skip can end it.
            let skipped = await stuck.pause("pager", for: .seconds(3_600))
            if skipped { stuck.resolved("pager", .skipped) }
            return skipped
        }
        // Asked while the worker pauses (not before: then its pause would not even start).
        while !stuck.isPausing("pager") { await Task.yield() }
        let outcome = try await stuck.skip("pager", event: "alert-raised/aa")
        #expect(await worker.value)
        #expect(outcome == StuckEvents.Outcome(resolution: .skipped, failure: failure))
        #expect(stuck.failure(of: "pager") == nil)
    }

    @Test func aSkipAskedDuringAnAttemptIsTakenAtTheNextPauseOrAnsweredDelivered() async throws {
        let stuck = StuckEvents()
        stuck.failed("pager", failure)
        // Asked while an attempt is in flight (the worker is not pausing).
        async let asked = stuck.skip("pager", event: "alert-raised/aa")
        while stuck.failure(of: "pager") != nil, !(await stuck.pause("pager", for: .milliseconds(1))) { await Task.yield() }
        // The worker's next pause ends at once: the skip was asked.
        #expect(await stuck.pause("pager", for: .seconds(3_600)))
        stuck.resolved("pager", .skipped)
        #expect(try await asked.resolution == .skipped)

        // The attempt in flight delivered it: the operator is told so.
        stuck.failed("pager", failure)
        async let second = stuck.skip("pager", event: "alert-raised/aa")
        while !(await stuck.pause("pager", for: .milliseconds(1))) { await Task.yield() }
        stuck.resolved("pager", .delivered)
        #expect(try await second.resolution == .delivered)
    }

    @Test func aPauseRunsItsTimeWithoutASkipAndEndsWhenTheWorkerIsCancelled() async {
        let stuck = StuckEvents()
        stuck.failed("pager", failure)
        #expect(await !stuck.pause("pager", for: .milliseconds(20)))
        let worker = Task { await stuck.pause("pager", for: .seconds(3_600)) }
        worker.cancel()
        #expect(await !worker.value)
    }

    @Test func aHookThatStopsTellsWhoeverWaits() async throws {
        let stuck = StuckEvents()
        stuck.failed("pager", failure)
        async let asked = stuck.skip("pager", event: "alert-raised/aa")
        while !(await stuck.pause("pager", for: .milliseconds(1))) { await Task.yield() }
        stuck.resolved("pager", .stopped)
        #expect(try await asked.resolution == .stopped)
    }
}
