import NIOConcurrencyHelpers

/// The calls one peer session makes into the engine, made one at a time in the order the
/// session made them (attach first, ingests in frame order, detach last) by one task the
/// session owns. Calls made in separate tasks could run in any order: an ingest overtaking the
/// one before it makes a run wait as a gap, a detach overtaking an attach leaks the link.
///
/// The task starts with the session and ends after its last call. `SessionTasks` holds every
/// running one, so the node waits for them when it shuts down and none outlives it.
///
/// At most `limit` calls wait: a session makes more only when its peer floods it past every
/// other bound (ingests are bounded by pausing reads, control messages by their token bucket),
/// and it is closed for that.
final class SessionWork: Sendable {
    typealias Call = @Sendable () async -> Void

    let limit: Int
    private let continuation: AsyncStream<Call>.Continuation
    private let waiting = NIOLockedValueBox(0)

    init(limit: Int, tasks: SessionTasks) {
        let (calls, continuation) = AsyncStream.makeStream(of: Call.self)
        self.limit = limit
        self.continuation = continuation
        let waiting = waiting
        tasks.run {
            for await call in calls {
                waiting.withLockedValue { $0 -= 1 }
                await call()
            }
        }
    }

    /// Queues `call` after those made before; false (nothing queued) when `limit` calls wait.
    func enqueue(_ call: @escaping Call) -> Bool {
        let admitted = waiting.withLockedValue { waiting in
            guard waiting < limit else { return false }
            waiting += 1
            return true
        }
        if admitted { continuation.yield(call) }
        return admitted
    }

    /// Queues the session's last call, whatever waits already: the task ends after it.
    func finish(with last: @escaping Call) {
        waiting.withLockedValue { $0 += 1 }
        continuation.yield(last)
        continuation.finish()
    }
}

/// The running tasks of a node's sessions, each until its last call is made.
final class SessionTasks: Sendable {
    private let running = NIOLockedValueBox<(next: UInt64, tasks: [UInt64: Task<Void, Never>])>((0, [:]))

    var count: Int { running.withLockedValue { $0.tasks.count } }

    func run(_ body: @escaping @Sendable () async -> Void) {
        running.withLockedValue { running in
            let id = running.next
            running.next += 1
            // Inserted before it can end: its removal takes this lock after this insertion.
            running.tasks[id] = Task { [running = self.running] in
                await body()
                _ = running.withLockedValue { $0.tasks.removeValue(forKey: id) }
            }
        }
    }

    /// Returns once every session task ended (after their sessions' last calls).
    func waitForAll() async {
        while let task = running.withLockedValue({ $0.tasks.values.first }) { await task.value }
    }
}
