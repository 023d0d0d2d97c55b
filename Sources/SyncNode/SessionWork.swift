import NIOConcurrencyHelpers
import Registry
import SyncProtocol

/// The calls one peer session makes into the engine, made one at a time in the order the
/// session made them (attach first, ingests in frame order, detach last) by one task the
/// session owns. Calls made in separate tasks could run in any order: an ingest overtaking the
/// one before it makes a run wait as a gap, a detach overtaking an attach leaks the link.
///
/// The task starts with the session and ends after its last call. `SessionTasks` holds every
/// running one, so the node waits for them when it shuts down and none outlives it.
///
/// Frames of entries are queued as ingests (`ingest`): a frame joins the ingest queued last
/// while that one waits and no other call was queued after it (an `IngestGroup`), so that
/// frames arriving while the engine works reach it as one batch, still in order.
///
/// At most `limit` calls wait: a session makes more only when its peer floods it past every
/// other bound (ingests are bounded by pausing reads, control messages by their token bucket),
/// and it is closed for that.
final class SessionWork: Sendable {
    typealias Call = @Sendable () async -> Void
    typealias Ingest = @Sendable (IngestGroup.Joined) async -> Void

    let limit: Int
    private let continuation: AsyncStream<Call>.Continuation
    private let state = NIOLockedValueBox(State())

    private struct State {
        var waiting = 0
        /// The ingest queued last, while no other call is queued after it.
        var openGroup: IngestGroup?
        /// The last call is queued: nothing more is.
        var finished = false
    }

    init(limit: Int, tasks: SessionTasks) {
        let (calls, continuation) = AsyncStream.makeStream(of: Call.self)
        self.limit = limit
        self.continuation = continuation
        let state = state
        tasks.run {
            for await call in calls {
                state.withLockedValue { $0.waiting -= 1 }
                await call()
            }
        }
    }

    /// Queues `call` after those made before; false (nothing queued) when `limit` calls wait,
    /// or after the last call.
    func enqueue(_ call: @escaping Call) -> Bool {
        state.withLockedValue { state in
            guard state.waiting < limit, !state.finished else { return false }
            state.waiting += 1
            // Later frames must not join an ingest queued before this call: they would overtake it.
            state.openGroup = nil
            continuation.yield(call)
            return true
        }
    }

    /// Queues a frame of entries after what was queued before: it joins the ingest queued last
    /// if that one still waits, has room (`IngestGroup.join`) and no other call came after it;
    /// otherwise it starts an ingest of its own, which `apply` takes to the engine when its turn
    /// comes. False (nothing queued) when `limit` calls wait, or after the last call.
    func ingest(
        _ entries: [SignedEntry], certificates: [OriginCertificate], maximumFrames: Int, apply: @escaping Ingest
    ) -> Bool {
        let frame = IngestGroup.Frame(entries)
        return state.withLockedValue { state in
            if let open = state.openGroup, open.join(frame, certificates: certificates) { return true }
            guard state.waiting < limit, !state.finished else { return false }
            state.waiting += 1
            let group = IngestGroup(maximumFrames: maximumFrames)
            _ = group.join(frame, certificates: certificates)
            state.openGroup = group
            continuation.yield { await apply(await group.begin()) }
            return true
        }
    }

    /// Queues the session's last call, whatever waits already: the task ends after it.
    func finish(with last: @escaping Call) {
        state.withLockedValue { state in
            state.waiting += 1
            state.openGroup = nil
            state.finished = true
            continuation.yield(last)
            continuation.finish()
        }
    }
}

/// The running tasks of a node's sessions, each until its last call is made.
final class SessionTasks: Sendable {
    private struct Running {
        var next: UInt64 = 0
        var tasks: [UInt64: Task<Void, Never>] = [:]
        /// Whoever waits for the last task to end (`waitForAll(within:)`).
        var waiters: [WaitForAll] = []
    }
    private let running = NIOLockedValueBox(Running())

    var count: Int { running.withLockedValue { $0.tasks.count } }

    func run(_ body: @escaping @Sendable () async -> Void) {
        running.withLockedValue { running in
            let id = running.next
            running.next += 1
            // Inserted before it can end: its removal takes this lock after this insertion.
            running.tasks[id] = Task { [running = self.running] in
                await body()
                let done = running.withLockedValue { running -> [WaitForAll] in
                    running.tasks.removeValue(forKey: id)
                    guard running.tasks.isEmpty else { return [] }
                    defer { running.waiters = [] }
                    return running.waiters
                }
                for waiter in done { waiter.resume(ended: true) }
            }
        }
    }

    /// Returns once every session task ended (after their sessions' last calls), or after
    /// `limit`: how many tasks still run then (0: all ended). A task ends after its session's
    /// channel closed; one that does not must not hold the node's stop for ever.
    func waitForAll(within limit: Duration) async -> Int {
        let ended = await withCheckedContinuation { continuation in
            let waiter = WaitForAll(continuation)
            let empty = running.withLockedValue { running in
                if running.tasks.isEmpty { return true }
                running.waiters.append(waiter)
                return false
            }
            if empty {
                waiter.resume(ended: true)
                return
            }
            waiter.timeOut(after: limit)
        }
        return ended ? 0 : count
    }

    /// A wait resumed once: by the last task's end or by its time limit, whichever comes first
    /// (the end stops the timer).
    final class WaitForAll: Sendable {
        private let state: NIOLockedValueBox<(continuation: CheckedContinuation<Bool, Never>?, timer: Task<Void, Never>?)>

        init(_ continuation: CheckedContinuation<Bool, Never>) { state = NIOLockedValueBox((continuation, nil)) }

        func timeOut(after limit: Duration) {
            let timer = Task {
                try? await Task.sleep(for: limit)
                if !Task.isCancelled { self.resume(ended: false) }
            }
            let resumed = state.withLockedValue { state in
                state.timer = timer
                return state.continuation == nil
            }
            if resumed { timer.cancel() }
        }

        func resume(ended: Bool) {
            let (pending, timer) = state.withLockedValue { state in
                defer { state = (nil, nil) }
                return state
            }
            timer?.cancel()
            pending?.resume(returning: ended)
        }
    }
}
