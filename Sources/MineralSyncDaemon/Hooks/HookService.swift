import AdminAPI
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NodeConfig
import Registry
import RegistryStore
import ServiceLifecycle
import SyncNode

/// The notification hooks, as one service of the daemon's group: one worker per hook, each
/// delivering from its cursor in the store. Set up before the node listens, stopped before it:
/// a delivery in flight is abandoned (a program terminated) and made again after the restart.
/// A reload (SIGHUP) replaces the hooks in force with those configured then.
final class HookService: Service {
    private let engine: SyncEngine
    private let store: RegistryStore
    private let group: any EventLoopGroup
    private let logger: Logger
    let board: HookStatusBoard
    /// The events hooks keep failing on, and the operator's skips of them.
    private let stuck = StuckEvents()
    /// The one owner of the hooks in force and of their workers.
    private let state: NIOLockedValueBox<State>

    private struct State {
        var hooks: [HookConfiguration]
        var cursors: [String: Int64]
        var workers: Task<Void, Never>?
        var stopped = false

        /// Workers started while this reload set the hooks up (by `run`, or by another reload)
        /// are stopped: one worker per hook.
        mutating func replaceWorkers(with started: Task<Void, Never>?) {
            workers?.cancel()
            workers = started
        }
    }

    /// Sets up each hook's cursor (`RegistryStore.startHooks`) and tells the engine which events
    /// to keep for them; throws when the store cannot.
    init(hooks: [HookConfiguration], engine: SyncEngine, store: RegistryStore, group: any EventLoopGroup, logger: Logger) async throws {
        self.engine = engine
        self.store = store
        self.group = group
        self.logger = logger
        board = HookStatusBoard(hooks: hooks)
        state = NIOLockedValueBox(State(hooks: hooks, cursors: [:]))
        let cursors = try await Self.prepare(hooks, engine: engine, store: store, board: board, logger: logger)
        state.withLockedValue { $0.cursors = cursors }
    }

    /// The cursors of `hooks` (those no longer configured forgotten), the engine told what to keep.
    private static func prepare(
        _ hooks: [HookConfiguration], engine: SyncEngine, store: RegistryStore, board: HookStatusBoard,
        logger: Logger
    ) async throws -> [String: Int64] {
        let cursors = try store.startHooks(hooks.map(\.name)) { gone in
            logger.notice("a hook no longer configured (or renamed) is forgotten, with what it had not delivered", metadata: ["hook": "\(gone)"])
        }
        let kinds = Set(hooks.flatMap(\.events))
        let age = hooks.map { UInt64($0.maximumAge.milliseconds) }.max() ?? 0
        await engine.setEvents(hooks.isEmpty ? nil : RegistryEventFilter(kinds: kinds, maximumAgeMillis: age))
        board.replace(hooks: hooks, cursors: cursors)
        return cursors
    }

    func run() async throws {
        let started = state.withLockedValue { state -> [HookConfiguration] in
            // A reload before this ran started the workers of the hooks it put in force.
            if state.workers == nil { state.workers = start(state.hooks, cursors: state.cursors) }
            return state.hooks
        }
        if !started.isEmpty { logger.info("hooks started", metadata: ["hooks": "\(Self.describe(started))"]) }
        try? await gracefulShutdown()
        let workers = state.withLockedValue { state -> Task<Void, Never>? in
            state.stopped = true
            return state.workers
        }
        workers?.cancel()
        await workers?.value
    }

    /// SIGHUP: the hooks configured now replace those in force (a hook keeps its cursor across
    /// the change when its name stays). Nothing changes when they are the same.
    func reconfigure(_ hooks: [HookConfiguration]) async {
        let previous = state.withLockedValue { state -> Task<Void, Never>?? in
            guard !state.stopped, state.hooks != hooks else { return nil }
            defer { state.workers = nil }
            return .some(state.workers)
        }
        guard let previous else { return }
        previous?.cancel()
        await previous?.value
        let cursors: [String: Int64]
        do { cursors = try await Self.prepare(hooks, engine: engine, store: store, board: board, logger: logger) } catch {
            logger.error("reload: the hooks could not be set up; those in force before go on", metadata: ["reason": "\(error)"])
            // From where they got to, as the store has it (not from where they started).
            let old = state.withLockedValue { $0.hooks }
            let resumed = (try? store.startHooks(old.map(\.name))) ?? state.withLockedValue { $0.cursors }
            state.withLockedValue { state in
                guard !state.stopped else { return }
                state.cursors = resumed
                state.replaceWorkers(with: start(state.hooks, cursors: resumed))
            }
            return
        }
        let applied = state.withLockedValue { state -> Bool in
            guard !state.stopped else { return false }
            state.hooks = hooks
            state.cursors = cursors
            state.replaceWorkers(with: start(hooks, cursors: cursors))
            return true
        }
        if applied { logger.notice("reload: hooks reconfigured", metadata: ["hooks": "\(Self.describe(hooks))"]) }
    }

    /// `hooks skip`: the hook named stops retrying the event named, the one it keeps failing
    /// on, and goes on with the next. Answers once its worker has moved past the event (its
    /// cursor saved), or delivered it after all: at once when it waits to try again, else when
    /// the attempt in flight ends (within the hook's timeout).
    func skip(_ request: HookSkipRequest) async throws(AdminFailure) -> HookSkipResponse {
        // A hook's name is at most 64 characters, an event's id about 90: nothing longer is echoed.
        guard request.hook.utf8.count <= 256, request.event.utf8.count <= 256 else {
            throw .validation("hook and event: at most 256 bytes each, as status shows them")
        }
        let hooks = state.withLockedValue { $0.hooks }
        guard hooks.contains(where: { $0.name == request.hook }) else {
            let names = hooks.isEmpty ? "none is configured" : "the hooks are \(hooks.map { "\"\($0.name)\"" }.joined(separator: ", "))"
            throw .notFound("no hook is named \"\(request.hook)\": \(names)")
        }
        guard !request.event.isEmpty else { throw .validation("event: name the event the hook keeps failing on, as status shows it") }
        let outcome: StuckEvents.Outcome
        do { outcome = try await stuck.skip(request.hook, event: request.event) } catch {
            switch error {
            case .notFailing:
                throw AdminFailure(.conflict, "not-failing", "hook \"\(request.hook)\" is not failing on any event: nothing was skipped")
            case .failingOn(let other):
                throw AdminFailure(
                    .conflict, "other-event", "hook \"\(request.hook)\" is failing on event \(other), not on \(request.event): nothing was skipped")
            }
        }
        if outcome.resolution == .skippedNotRecorded {
            throw AdminFailure(
                .internalServerError, "internal",
                "hook \"\(request.hook)\" went on past the event, but the store could not record it (see the node's log): after a restart it tries the event again"
            )
        }
        if outcome.resolution == .stopped {
            throw AdminFailure(
                .serviceUnavailable, "unavailable",
                "hook \"\(request.hook)\" stopped before it moved past the event (the node is stopping, or a reload replaced the hooks): nothing was skipped")
        }
        return HookSkipResponse(
            hook: request.hook, event: request.event, outcome: outcome.resolution.rawValue, failedAttempts: outcome.failure.attempts,
            lastError: outcome.failure.lastError)
    }

    /// One worker per hook, in a task the service owns (cancelled and awaited at a reload or the stop).
    private func start(_ hooks: [HookConfiguration], cursors: [String: Int64]) -> Task<Void, Never>? {
        guard !hooks.isEmpty else { return nil }
        let workers = hooks.map { hook in
            HookWorker(hook: hook, deliverer: deliverer(for: hook), engine: engine, store: store, status: board, stuck: stuck, logger: logger)
        }
        return Task {
            await withTaskGroup(of: Void.self) { tasks in
                for worker in workers {
                    let cursor = cursors[worker.hook.name] ?? 0
                    tasks.addTask { await worker.run(from: cursor) }
                }
            }
        }
    }

    private static func describe(_ hooks: [HookConfiguration]) -> [String] {
        hooks.map { "\($0.name) (\($0.events.sorted().map(\.rawValue).joined(separator: ", ")))" }
    }

    private func deliverer(for hook: HookConfiguration) -> any HookDeliverer {
        switch hook.target {
        case .exec(let program): ExecHook(program: program)
        case .webhook(let address): WebhookPoster(address: address, group: group)
        }
    }
}
