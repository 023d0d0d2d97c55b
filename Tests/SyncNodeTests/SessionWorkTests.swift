import NIOConcurrencyHelpers
import Registry
import TestSupport
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
        #expect(await tasks.waitForAll(within: .seconds(30)) == 0)
        #expect(order.withLockedValue { $0 } == Array(0..<200) + [-1])
        #expect(tasks.count == 0)
    }

    /// A stop waits for its sessions' tasks, but not for ever: one that does not end is counted
    /// after the limit; the wait returns as soon as the last one ends.
    @Test func waitingForAllTasksEndsAtTheLastOneOrAtTheLimit() async throws {
        let tasks = SessionTasks()
        #expect(await tasks.waitForAll(within: .seconds(30)) == 0, "none runs")
        let gate = AsyncStream<Void>.makeStream()
        tasks.run { for await _ in gate.stream { break } }
        tasks.run {}
        #expect(await tasks.waitForAll(within: .milliseconds(200)) == 1, "one never ends")
        let waiting = Task { await tasks.waitForAll(within: .seconds(600)) }
        gate.continuation.yield()
        #expect(await waiting.value == 0, "resumed by the last task's end, long before its limit")
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
        #expect(await tasks.waitForAll(within: .seconds(30)) == 0)
        #expect(ran.withLockedValue { $0 } == 1 + waiting + 100)
    }

    /// Frames queued while the task is busy join into one ingest, but never one queued before
    /// another call: the engine sees everything in the order the peer sent it.
    @Test func framesJoinTheIngestQueuedLastButNeverOvertakeACall() async throws {
        let tasks = SessionTasks()
        let work = SessionWork(limit: 100, tasks: tasks)
        var author = TestAlliance.standard.author("EU/eu-1")
        let frames = (0..<5).map { frame in
            (0..<2).map { author.write(Ops.report("EU", "gallium", "\(frame * 2 + $0)"), at: 1_000 + UInt64(frame * 2 + $0)).signed }
        }
        let gate = AsyncStream<Void>.makeStream()
        let order = NIOLockedValueBox<[String]>([])
        #expect(work.enqueue { for await _ in gate.stream { break } })
        let record: SessionWork.Ingest = { joined in
            let seqs = joined.batch.entries.map(\.seq)
            order.withLockedValue { $0.append("ingest \(seqs.first!)-\(seqs.last!) in \(joined.frames)") }
        }
        #expect(work.ingest(frames[0], certificates: [], maximumFrames: 2, apply: record))
        #expect(work.ingest(frames[1], certificates: [], maximumFrames: 2, apply: record))
        #expect(work.ingest(frames[2], certificates: [], maximumFrames: 2, apply: record), "the group is full: one of its own")
        #expect(work.enqueue { order.withLockedValue { $0.append("call") } })
        #expect(work.ingest(frames[3], certificates: [], maximumFrames: 2, apply: record))
        work.finish { order.withLockedValue { $0.append("last") } }
        #expect(!work.ingest(frames[4], certificates: [], maximumFrames: 2, apply: record), "nothing is queued after the last call")
        gate.continuation.yield()
        #expect(await tasks.waitForAll(within: .seconds(30)) == 0)
        #expect(order.withLockedValue { $0 } == ["ingest 1-4 in 2", "ingest 5-6 in 1", "call", "ingest 7-8 in 1", "last"])
    }
}
