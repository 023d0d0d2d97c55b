import Logging
import NIOCore
import NodeConfig
import Registry
import RegistryStore
import ServiceLifecycle
import SyncNode

/// The notification hooks, as one service of the daemon's group: one worker per hook, each
/// delivering from its cursor in the store. Started after the sync node, stopped before it:
/// a delivery in flight is abandoned (a program terminated) and made again after the restart.
final class HookService: Service {
    private let hooks: [HookConfiguration]
    private let cursors: [String: Int64]
    private let engine: SyncEngine
    private let store: RegistryStore
    private let group: any EventLoopGroup
    private let logger: Logger
    let board: HookStatusBoard

    /// Sets up each hook's cursor (`RegistryStore.startHooks`) and tells the engine which events
    /// to keep for them; throws when the store cannot.
    init(hooks: [HookConfiguration], engine: SyncEngine, store: RegistryStore, group: any EventLoopGroup, logger: Logger) async throws {
        self.hooks = hooks
        self.engine = engine
        self.store = store
        self.group = group
        self.logger = logger
        board = HookStatusBoard(hooks: hooks)
        cursors = try store.startHooks(hooks.map(\.name)) { gone in
            logger.notice("a hook no longer configured (or renamed) is forgotten, with what it had not delivered", metadata: ["hook": "\(gone)"])
        }
        let kinds = Set(hooks.flatMap(\.events))
        let age = hooks.map { UInt64($0.maximumAge.milliseconds) }.max() ?? 0
        await engine.setEvents(hooks.isEmpty ? nil : RegistryEventFilter(kinds: kinds, maximumAgeMillis: age))
        for hook in hooks {
            board.advanced(hook.name, to: cursors[hook.name] ?? 0)
        }
    }

    func run() async throws {
        guard !hooks.isEmpty else { return try await gracefulShutdown() }
        logger.info("hooks started", metadata: ["hooks": "\(hooks.map { "\($0.name) (\($0.events.sorted().map(\.rawValue).joined(separator: ", ")))" })"])
        await withTaskGroup(of: Void.self) { tasks in
            for hook in hooks {
                let worker = HookWorker(hook: hook, deliverer: deliverer(for: hook), engine: engine, store: store, status: board, logger: logger)
                let cursor = cursors[hook.name] ?? 0
                tasks.addTask { await worker.run(from: cursor) }
            }
            tasks.addTask { try? await gracefulShutdown() }
            await tasks.next()  // the shutdown (or, were every worker to end, the first of them)
            tasks.cancelAll()
        }
    }

    private func deliverer(for hook: HookConfiguration) -> any HookDeliverer {
        switch hook.target {
        case .exec(let program): ExecHook(program: program)
        case .webhook(let address): WebhookPoster(address: address, group: group)
        }
    }
}
