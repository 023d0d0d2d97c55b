import NIOConcurrencyHelpers

/// The event each hook keeps failing to deliver, and the operator's requests to skip it
/// (`mineralctl hooks skip`). A hook delivers in commit order and retries a failure for as long
/// as it takes, so one event its program or endpoint always refuses (a poison event) would hold
/// back every later one: the operator, told by `status` which event it is, may skip it. Written
/// by the hooks' workers and the admin API; each hook's entry is owned here.
final class StuckEvents: Sendable {
    /// What became of the event a skip named.
    enum Resolution: String, Sendable {
        /// Its hook's cursor is past it, saved: that hook never delivers it.
        case skipped
        /// Its hook went on past it, but the store could not record that: after a restart the
        /// hook tries it again.
        case skippedNotRecorded
        /// The attempt in flight when the skip was asked delivered it.
        case delivered
        /// The hook's worker stopped first (the node stopping, or a reload that replaced it).
        case stopped
    }

    /// Why a skip was refused: the hook is not failing, or is failing on another event.
    enum Refusal: Error, Equatable {
        case notFailing
        case failingOn(String)
    }

    struct Failure: Sendable, Equatable {
        var event: String
        var attempts: Int
        var lastError: String
    }

    struct Outcome: Sendable, Equatable {
        var resolution: Resolution
        /// How it stood when it was resolved.
        var failure: Failure
    }

    private struct Stuck {
        var failure: Failure
        var skipAsked = false
        /// The worker, pausing before its next attempt.
        var pause: CheckedContinuation<Void, Never>?
        /// Operators waiting for what becomes of the event.
        var askers: [CheckedContinuation<Result<Outcome, Refusal>, Never>] = []
    }

    private let hooks = NIOLockedValueBox<[String: Stuck]>([:])

    /// The hook failed to deliver `failure.event` (its attempt `failure.attempts`). A hook fails
    /// on one event at a time; should another worker of the same name have been failing on
    /// another, whoever waited for that one is told it stopped.
    func failed(_ hook: String, _ failure: Failure) {
        let replaced = hooks.withLockedValue { hooks -> Stuck? in
            guard hooks[hook]?.failure.event != failure.event else {
                hooks[hook]?.failure = failure
                return nil
            }
            defer { hooks[hook] = Stuck(failure: failure) }
            return hooks[hook]
        }
        if let replaced { Self.tell(replaced, .stopped) }
    }

    /// The hook is done with the event it was failing on: those who asked to skip it are told.
    func resolved(_ hook: String, _ resolution: Resolution) {
        guard let stuck = hooks.withLockedValue({ $0.removeValue(forKey: hook) }) else { return }
        Self.tell(stuck, resolution)
    }

    private static func tell(_ stuck: Stuck, _ resolution: Resolution) {
        for asker in stuck.askers { asker.resume(returning: .success(Outcome(resolution: resolution, failure: stuck.failure))) }
        stuck.pause?.resume()
    }

    /// Waits `duration` before the next attempt, or less if a skip of the event is asked
    /// meanwhile. Returns whether it was.
    func pause(_ hook: String, for duration: Duration) async -> Bool {
        if hooks.withLockedValue({ $0[hook]?.skipAsked ?? false }) { return true }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try? await Task.sleep(for: duration) }
            tasks.addTask { await self.untilSkipAsked(hook) }
            await tasks.next()
            tasks.cancelAll()
        }
        return hooks.withLockedValue { $0[hook]?.skipAsked ?? false }
    }

    private func untilSkipAsked(_ hook: String) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (pause: CheckedContinuation<Void, Never>) in
                let now = hooks.withLockedValue { hooks -> Bool in
                    guard hooks[hook] != nil, hooks[hook]?.skipAsked == false, !Task.isCancelled else { return true }
                    hooks[hook]?.pause = pause
                    return false
                }
                if now { pause.resume() }
            }
        } onCancel: {
            hooks.withLockedValue { hooks in
                defer { hooks[hook]?.pause = nil }
                return hooks[hook]?.pause
            }?.resume()
        }
    }

    /// Asks `hook` to skip `event`, the one it keeps failing on, and waits for its worker to
    /// move past it (or to deliver it, or to stop). Once asked, a skip is not withdrawn: the
    /// asker leaving changes nothing.
    func skip(_ hook: String, event: String) async throws(Refusal) -> Outcome {
        let outcome = await withCheckedContinuation { (asker: CheckedContinuation<Result<Outcome, Refusal>, Never>) in
            let refusal = hooks.withLockedValue { hooks -> (Refusal?, CheckedContinuation<Void, Never>?) in
                guard let stuck = hooks[hook] else { return (.notFailing, nil) }
                guard stuck.failure.event == event else { return (.failingOn(stuck.failure.event), nil) }
                hooks[hook]?.skipAsked = true
                hooks[hook]?.askers.append(asker)
                defer { hooks[hook]?.pause = nil }
                return (nil, stuck.pause)
            }
            if let problem = refusal.0 { return asker.resume(returning: .failure(problem)) }
            refusal.1?.resume()
        }
        return try outcome.get()
    }

    /// Whether `hook`'s worker is pausing before its next attempt (rather than making one).
    func isPausing(_ hook: String) -> Bool {
        hooks.withLockedValue { $0[hook]?.pause != nil }
    }

    /// Whether a skip of the event `hook` is failing on was asked.
    func isSkipAsked(_ hook: String) -> Bool {
        hooks.withLockedValue { $0[hook]?.skipAsked ?? false }
    }

    /// The event `hook` is failing on, if any.
    func failure(of hook: String) -> Failure? {
        hooks.withLockedValue { $0[hook]?.failure }
    }
}
