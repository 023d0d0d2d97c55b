import AdminAPI
import Foundation
import HTTPServing
import Logging
import Registry
import SyncNode

/// The admin API (`AdminAPI`'s endpoints) as the daemon serves it: one handler per concern,
/// each registered with the router for its endpoints. Reads come from the engine's published
/// snapshot and the peers' health; writes are validated by their handler, then signed and
/// committed by the engine before the answer says "done".
struct AdminService: Sendable {
    let router: AdminRouter
    let logger: Logger

    init(
        engine: SyncEngine, node: SyncNode, catalogue: MineralCatalogue, startedAt: Date, certificateExpiry: @escaping @Sendable () -> Date,
        configuredPeers: @escaping @Sendable () -> Int, hooks: @escaping @Sendable () async -> [HookItem]? = { nil },
        skipHookEvent: @escaping @Sendable (HookSkipRequest) async throws(AdminFailure) -> HookSkipResponse = { _ throws(AdminFailure) in
            throw .notFound("no hook is configured")
        },
        logger: Logger
    ) {
        let input = AdminInput(catalogue: catalogue)
        var router = AdminRouter()
        StatusHandler(
            engine: engine, node: node, catalogue: catalogue, startedAt: startedAt, certificateExpiry: certificateExpiry,
            configuredPeers: configuredPeers, hooks: hooks
        ).register(in: &router)
        ReserveHandler(engine: engine, input: input).register(in: &router)
        AlertHandler(engine: engine, input: input).register(in: &router)
        ProofHandler(engine: engine).register(in: &router)
        SyncHandler(engine: engine, node: node, input: input).register(in: &router)
        FeedHandler(engine: engine).register(in: &router)
        WatchHandler(engine: engine, logger: logger).register(in: &router)
        router.on(AdminAPI.skipHookEvent) { _, request in try await skipHookEvent(request) }
        self.router = router
        self.logger = logger
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let response = await router.handle(request)
        logger.debug("admin request", metadata: ["method": "\(request.method)", "path": "\(request.path)", "status": "\(response.status.code)"])
        return response
    }
}
