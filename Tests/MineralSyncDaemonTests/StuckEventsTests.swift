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
        let asked = Task { try await stuck.skip("pager", event: "alert-raised/aa") }
        while !stuck.isSkipAsked("pager") { await Task.yield() }
        #expect(!stuck.isPausing("pager"))
        // The worker's next pause ends at once: the skip was asked.
        #expect(await stuck.pause("pager", for: .seconds(3_600)))
        stuck.resolved("pager", .skipped)
        #expect(try await asked.value.resolution == .skipped)

        // The attempt in flight delivered it: the operator is told so.
        stuck.failed("pager", failure)
        let second = Task { try await stuck.skip("pager", event: "alert-raised/aa") }
        while !stuck.isSkipAsked("pager") { await Task.yield() }
        stuck.resolved("pager", .delivered)
        #expect(try await second.value.resolution == .delivered)
    }

    /// Two workers of one hook (a reload racing the start): the one failing on another event
    /// takes over, and whoever waited on the first is told it stopped.
    @Test func aFailureOfAnotherEventTellsWhoeverWaitedOnTheFirst() async throws {
        let stuck = StuckEvents()
        stuck.failed("pager", failure)
        let asked = Task { try await stuck.skip("pager", event: "alert-raised/aa") }
        while !stuck.isSkipAsked("pager") { await Task.yield() }
        stuck.failed("pager", StuckEvents.Failure(event: "alert-raised/bb", attempts: 1, lastError: "refused"))
        #expect(try await asked.value.resolution == .stopped)
        #expect(!stuck.isSkipAsked("pager") && stuck.failure(of: "pager")?.event == "alert-raised/bb")
    }

    @Test func aPauseRunsItsTimeWithoutASkipAndEndsWhenTheWorkerIsCancelled() async {
        let stuck = StuckEvents()
        stuck.failed("pager", failure)
        #expect(await !stuck.pause("pager", for: .milliseconds(20)))
        let worker = Task { await stuck.pause("pager", for: .seconds(3_600)) }
        // Cancelled while it pauses (not before: then it would not even start).
        while !stuck.isPausing("pager") { await Task.yield() }
        worker.cancel()
        #expect(await !worker.value)
    }

    @Test func aHookThatStopsTellsWhoeverWaits() async throws {
        let stuck = StuckEvents()
        stuck.failed("pager", failure)
        let asked = Task { try await stuck.skip("pager", event: "alert-raised/aa") }
        while !stuck.isSkipAsked("pager") { await Task.yield() }
        stuck.resolved("pager", .stopped)
        #expect(try await asked.value.resolution == .stopped)
    }
}
