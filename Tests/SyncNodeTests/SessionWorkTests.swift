import NIOConcurrencyHelpers
import Testing

@testable import SyncNode

/// A session's calls into the engine: in order, by one task, bounded, and waited for.
@Suite struct SessionWorkTests {
    @Test func callsRunInTheOrderMadeAndTheLastEndsTheTask() async throws {
        let tasks = SessionTasks()
        let work = SessionWork(limit: 1_000, tasks: tasks)
        let order = NIOLockedValueBox<[Int]>([])
        for index in 0..<200 {
            let admitted = work.enqueue {
                // Calls that suspend midway (a few: each waits for a loaded pool) still finish
                // before the next one starts.
                if index % 50 == 0 { await Task.yield() }
                order.withLockedValue { $0.append(index) }
            }
            #expect(admitted)
        }
        work.finish { order.withLockedValue { $0.append(-1) } }
        await tasks.waitForAll()
        #expect(order.withLockedValue { $0 } == Array(0..<200) + [-1])
        #expect(tasks.count == 0)
    }

    @Test func atMostTheLimitWaitsButTheLastCallIsAlwaysQueued() async throws {
        let tasks = SessionTasks()
        let work = SessionWork(limit: 3, tasks: tasks)
        let gate = AsyncStream<Void>.makeStream()
        let ran = NIOLockedValueBox(0)
        // The first call holds the task, so the next ones wait.
        var admitted = work.enqueue {
            for await _ in gate.stream { break }
            ran.withLockedValue { $0 += 1 }
        }
        #expect(admitted)
        var waiting = 0
        for _ in 0..<10 {
            admitted = work.enqueue { ran.withLockedValue { $0 += 1 } }
            if admitted { waiting += 1 }
        }
        // The first may or may not have been taken off the queue yet: 2 or 3 more fit.
        #expect((2...3).contains(waiting))
        work.finish { ran.withLockedValue { $0 += 100 } }
        gate.continuation.yield()
        await tasks.waitForAll()
        #expect(ran.withLockedValue { $0 } == 1 + waiting + 100)
    }
}
