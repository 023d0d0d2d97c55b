import Logging
import ServiceLifecycle
import SyncNode

/// The sync node and its engine as a service. Listening and dialling began before the group
/// ran (a port in use is a start-up error, said before anything else runs). First in the group,
/// so the last to stop: on graceful shutdown it says goodbye to every peer, then closes the
/// store, after the admin socket no longer takes writes.
struct SyncNodeService: Service {
    let engine: SyncEngine
    let node: SyncNode
    /// How often the engine signs its view statement (`proofs.interval`).
    let proofInterval: Duration
    let logger: Logger

    func run() async throws {
        await withDiscardingTaskGroup { group in
            let engine = self.engine
            let interval = proofInterval
            group.addTask { await engine.proveConvergence(every: interval) }
            // A start after a clean stop skipped the store's page check: it runs now.
            group.addTask { await engine.checkStoreIntegrity() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        logger.info("shutting down: saying goodbye to peers")
        await node.shutdown()
        await engine.close()
        logger.info("stopped; store closed")
    }
}
