import AdminAPI
import Foundation
import Logging
import Metrics
import NodeConfig
import Registry
import RegistryStore
import SyncNode

/// Delivers one hook's events, in commit order, at least once: it reads the outbox after its
/// cursor, skips what the hook does not want, delivers the rest one at a time (retrying a
/// failure with back-off from 1 s to 5 min, for as long as it takes, or until the operator
/// skips that event: `StuckEvents`), and moves its cursor in the store after each delivery. A
/// restart resumes at the cursor; an event delivered just before a crash, whose cursor was not
/// yet written, is delivered again (its id says so).
///
/// It runs beside sync and never holds it up: it reads the store beside the writer and the
/// views from the engine's published snapshot; the only thing it writes is its cursor.
struct HookWorker: Sendable {
    let hook: HookConfiguration
    let deliverer: any HookDeliverer
    let engine: SyncEngine
    let store: RegistryStore
    let status: HookStatusBoard
    let stuck: StuckEvents
    let logger: Logger
    /// The first retry's delay, doubling to `maximumBackoff`.
    var initialBackoff: Duration = .seconds(1)
    var maximumBackoff: Duration = .seconds(300)

    /// What became of an event the hook wants.
    enum Delivery {
        case delivered(attempts: Int)
        /// Skipped by the operator after `attempts` failed (`StuckEvents`).
        case skipped(attempts: Int)
    }

    func run(from cursor: Int64) async {
        // Whoever waits for what becomes of the event it was failing on learns that it stopped,
        // and status no longer shows it failing (a worker that replaces this one tries afresh).
        defer {
            stuck.resolved(hook.name, .stopped)
            status.stopped(hook.name)
        }
        var cursor = cursor
        let wakes = await engine.eventsWritten()
        let deliveries = Counter(label: "mineralsync_hook_deliveries_total", dimensions: [("hook", hook.name)])
        let failures = Counter(label: "mineralsync_hook_failures_total", dimensions: [("hook", hook.name)])
        let skipped = Counter(label: "mineralsync_hook_skipped_total", dimensions: [("hook", hook.name)])
        let latency = Metrics.Timer(label: "mineralsync_hook_delivery_seconds", dimensions: [("hook", hook.name)], preferredDisplayUnit: .seconds)
        for await _ in wakes {
            while !Task.isCancelled {
                let read: EventOutbox.Batch
                do { read = try await store.outboxEvents(after: cursor, limit: 100) } catch {
                    if Task.isCancelled { break }  // the node is stopping
                    logger.error("hook cannot read its events from the store; trying again in 5 s", metadata: ["hook": "\(hook.name)", "reason": "\(error)"])
                    try? await Task.sleep(for: .seconds(5))
                    continue
                }
                let batch = read.events
                guard let through = read.through else { break }
                var moved = false
                for stored in batch {
                    guard !Task.isCancelled else { break }
                    if hook.wants(stored.event, committedAtMillis: stored.committedAtMillis) {
                        guard let delivery = await deliver(stored, deliveries: deliveries, failures: failures, skipped: skipped, latency: latency) else {
                            break
                        }
                        cursor = stored.number
                        moved = false
                        // Logged once its cursor is saved: from this line on, a restart does not deliver it again.
                        let saved = await save(cursor)
                        switch delivery {
                        case .delivered(let attempts):
                            stuck.resolved(hook.name, .delivered)
                            guard saved else { continue }
                            let metadata: Logger.Metadata = ["hook": "\(hook.name)", "event": "\(stored.event.id)", "attempts": "\(attempts)"]
                            if attempts > 1 {
                                logger.notice("hook delivered after failing", metadata: metadata)
                            } else {
                                logger.debug("hook delivered", metadata: metadata)
                            }
                        case .skipped(let attempts):
                            let failure = stuck.failure(of: hook.name)
                            stuck.resolved(hook.name, saved ? .skipped : .skippedNotRecorded)
                            logger.warning(
                                "hook event skipped by the operator: this hook never delivers it",
                                metadata: [
                                    "hook": "\(hook.name)", "event": "\(stored.event.id)", "failed-attempts": "\(attempts)",
                                    "last-error": "\(failure?.lastError ?? "?")", "cursor-saved": "\(saved)"
                                ])
                        }
                    } else {
                        cursor = stored.number
                        moved = true
                    }
                }
                // Rows this version cannot read (a newer kind, after a downgrade) are passed over.
                if through > cursor, !Task.isCancelled {
                    if through != batch.last?.number {
                        logger.warning("hook passed over events it cannot read", metadata: ["hook": "\(hook.name)", "through": "\(through)"])
                    }
                    cursor = through
                    moved = true
                }
                if moved { await save(cursor) }
            }
            if Task.isCancelled { break }
        }
    }

    /// Tries until delivered, or until the operator skips it; nil when cancelled (the node is stopping).
    private func deliver(_ stored: EventOutbox.Stored, deliveries: Counter, failures: Counter, skipped: Counter, latency: Metrics.Timer) async -> Delivery? {
        var backoff = initialBackoff
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            let message = HookEventRenderer.message(stored, views: await engine.currentSnapshot().views, node: engine.node)
            let outcome = await deliverer.deliver(
                HookEventRenderer.body(message), kind: message.event, id: message.id,
                timeout: .milliseconds(hook.timeout.milliseconds))
            // Stopped by the node's shutdown: made again at the next start, not a failure.
            if Task.isCancelled, case .failed = outcome { return nil }
            switch outcome {
            case .delivered:
                deliveries.increment()
                let nowMillis = UInt64(Date().timeIntervalSince1970 * 1000)
                latency.recordNanoseconds(Int64(clamping: (nowMillis > stored.committedAtMillis ? nowMillis - stored.committedAtMillis : 0) * 1_000_000))
                status.delivered(hook.name)
                return .delivered(attempts: attempt)
            case .failed(let reason):
                failures.increment()
                let retry = Date().addingTimeInterval(Double(backoff.components.seconds) + Double(backoff.components.attoseconds) / 1e18)
                // Skippable before status shows it (`hooks skip` names what status shows).
                stuck.failed(hook.name, StuckEvents.Failure(event: message.id, attempts: attempt, lastError: reason))
                status.failed(hook.name, event: message.id, reason: reason, retryAt: retry)
                // One line per attempt: the back-off bounds them (at most one per 5 minutes once it has grown).
                logger.warning(
                    "hook failed; it will be tried again",
                    metadata: [
                        "hook": "\(hook.name)", "event": "\(message.id)", "attempt": "\(attempt)", "reason": "\(reason)", "retry-in": "\(backoff.shortText)"
                    ])
                if await stuck.pause(hook.name, for: backoff) {
                    skipped.increment()
                    status.skipped(hook.name)
                    return .skipped(attempts: attempt)
                }
                backoff = min(backoff * 2, maximumBackoff)
            }
        }
        return nil
    }

    /// Saved even when the node is stopping (a delivery that completed as the stop began is not
    /// to be made again): the write runs in a task of its own, which the stop does not cancel.
    /// - Returns: whether the cursor was saved (otherwise the failure is logged).
    @discardableResult
    private func save(_ cursor: Int64) async -> Bool {
        let (store, name) = (store, hook.name)
        let saving = Task { try await store.saveHookCursor(name, delivered: cursor) }
        do {
            try await saving.value
            status.advanced(hook.name, to: cursor)
            return true
        } catch {
            logger.error(
                "hook cannot record what it delivered; it may deliver it again after a restart",
                metadata: ["hook": "\(hook.name)", "reason": "\(error)"])
            return false
        }
    }
}
