import Logging
import NIOConcurrencyHelpers
import NIOPosix
import NodeConfig
import NodeTestSupport
import Registry
import RegistryStore
import SyncNode
import TestSupport
import Testing

@testable import MineralSyncDaemon

/// A hook's worker with a node's real engine and store, delivering to a pager the test
/// controls: one that refuses every event whose text holds "POISON", and whose next attempt
/// can be held until the worker stops.
@Suite struct HookWorkerTests {
    final class Pager: HookDeliverer, Sendable {
        let delivered = NIOLockedValueBox<[String]>([])
        /// The next attempt hangs until the worker is cancelled.
        let holdNext = NIOLockedValueBox(false)
        let holding = NIOLockedValueBox(false)

        func deliver(_ body: [UInt8], kind: String, id: String, timeout: Duration) async -> HookAttempt {
            if holdNext.withLockedValue({ hold in
                defer { hold = false }
                return hold
            }) {
                holding.withLockedValue { $0 = true }
                try? await Task.sleep(for: .seconds(3_600))
                return .failed("stopped")
            }
            if String(decoding: body, as: UTF8.self).contains("POISON") { return .failed("the gateway refuses this text") }
            delivered.withLockedValue { $0.append(id) }
            return .delivered
        }
    }

    let hook = HookConfiguration(name: "pager", events: [.alertRaised], target: .exec("/bin/true"))
    let pager = Pager()
    let stuck = StuckEvents()
    let board: HookStatusBoard
    let node: InProcessNode

    init() throws {
        board = HookStatusBoard(hooks: [hook])
        node = try InProcessNode("EU", "eu-1", pki: try TestPKI(), group: MultiThreadedEventLoopGroup.singleton, logLevel: .critical)
    }

    /// The worker, running from the hook's cursor, with a back-off of 10 to 20 ms (a test that a
    /// loaded machine holds up for seconds finds it retrying, not pausing for minutes).
    func start() async throws -> Task<Void, Never> {
        await node.engine.setEvents(RegistryEventFilter(kinds: hook.events, maximumAgeMillis: UInt64(hook.maximumAge.milliseconds)))
        let cursor = try node.store.startHooks([hook.name])[hook.name] ?? 0
        var worker = HookWorker(
            hook: hook, deliverer: pager, engine: node.engine, store: node.store, status: board, stuck: stuck,
            logger: Logger(label: "test.hooks") { _ in SwiftLogNoOpLogHandler() })
        worker.initialBackoff = .milliseconds(10)
        worker.maximumBackoff = .milliseconds(20)
        return Task { [worker] in await worker.run(from: cursor) }
    }

    /// Waits for the poison event's first failure: its id.
    func failing() async throws -> String {
        try await within(20, "the hook fails on the poison event") { [stuck] in
            while stuck.failure(of: "pager") == nil { try await Task.sleep(for: .milliseconds(5)) }
            return stuck.failure(of: "pager")!.event
        }
    }

    @Test func aSkippedEventIsPassedForGoodAndTheNextIsDelivered() async throws {
        let worker = try await start()
        _ = try await node.engine.append(Ops.raise("gallium", "POISON in the text"))
        let next = try await node.engine.append(Ops.raise("gallium", "Export ban"))
        let poison = try await failing()
        #expect(pager.delivered.withLockedValue { $0 }.isEmpty, "nothing after the poison event goes first")
        let outcome = try await stuck.skip("pager", event: poison)
        #expect(outcome.resolution == .skipped && outcome.failure.event == poison && outcome.failure.lastError == "the gateway refuses this text")
        try await within(20, "the next event is delivered") { [pager] in
            while pager.delivered.withLockedValue({ $0 }) != ["alert-raised/\(next.id.hex)"] { try await Task.sleep(for: .milliseconds(5)) }
        }
        // Saved: the hook starts after both events.
        let saved = try node.store.startHooks(["pager"])["pager"] ?? 0
        #expect(try await node.store.outboxEvents(after: saved, limit: 10).events.isEmpty)
        let item = try #require(board.items(newest: saved).first)
        #expect(item.skipped == 1 && item.delivered == 1 && item.failingEvent == nil && item.retryingSince == nil)
        worker.cancel()
        await worker.value
        await node.node.shutdown()
    }

    /// An operator waiting for a skip while the attempt in flight hangs, and the worker stops (a
    /// reload, the node stopping): told so, never left waiting; status no longer shows it failing.
    @Test func aWorkerThatStopsTellsTheOperatorWaitingForASkip() async throws {
        let worker = try await start()
        _ = try await node.engine.append(Ops.raise("gallium", "POISON in the text"))
        let poison = try await failing()
        pager.holdNext.withLockedValue { $0 = true }
        try await within(20, "the next attempt is in flight") { [pager] in
            while !pager.holding.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        }
        let stuck = stuck
        let asked = Task { try await stuck.skip("pager", event: poison) }
        try await within(20, "the skip is asked") { while !stuck.isSkipAsked("pager") { try await Task.sleep(for: .milliseconds(5)) } }
        worker.cancel()
        let outcome = try await within(20, "the operator is answered") { try await asked.value }
        #expect(outcome.resolution == .stopped)
        await worker.value
        #expect(board.items(newest: 0).first?.failingEvent == nil && board.items(newest: 0).first?.retryingSince == nil)
        await node.node.shutdown()
    }
}
