import Foundation
import Registry
import RegistryStore

/// Events for hooks: which committed entries give rise to one is decided here, and they
/// are written to the store's outbox in the transaction that commits the entries; the hooks
/// (the daemon's `HookService`) read them from there, told when there are new ones.
extension SyncEngine {
    /// What the hooks want (nil: there is none) and how many undelivered events the
    /// outbox keeps at most.
    public func setEvents(_ filter: RegistryEventFilter?, outboxLimit: Int = EventOutbox.defaultLimit) {
        eventFilter = filter
        self.outboxLimit = outboxLimit
    }

    /// An element now and after every commit that wrote events. Bounded: a slow reader
    /// sees only that there are new ones.
    public func eventsWritten() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = nextObserver
        nextObserver += 1
        eventWatchers[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.stopWatchingEvents(id) } }
        continuation.yield()
        if closed { continuation.finish() }
        return stream
    }

    private func stopWatchingEvents(_ id: UInt64) { eventWatchers[id] = nil }

    /// - Parameter folded: the views hold `entries` already (received ones; a node's own are
    ///   folded after they are committed).
    func events(for entries: [Entry], folded: Bool) -> [RegistryEvent] {
        guard let filter = eventFilter, !entries.isEmpty else { return [] }
        // Entries of a feed cut before them are held as evidence, shown by no view: they notify nobody.
        let hidden = registry.hiddenFeeds
        let shown = hidden.isEmpty ? entries : entries.filter { $0.seq <= hidden[$0.origin] ?? .max }
        return filter.events(for: shown, views: registry.views, folded: folded, nowMillis: clock())
    }

    func eventsCommitted() {
        for watcher in eventWatchers.values { watcher.yield() }
    }

    /// The outbox dropped its oldest undelivered events (a hook that fails for long, or
    /// a flood): logged at most once a minute, with how many since the last line.
    func recordDrops(_ dropped: Int) {
        guard dropped > 0 else { return }
        metrics.eventsDropped.increment(by: Int64(dropped))
        let now = ContinuousClock.now
        let total = dropped + (outboxDropsLogged?.dropped ?? 0)
        if let last = outboxDropsLogged, now - last.at < .seconds(60) {
            outboxDropsLogged = (last.at, total)
            return
        }
        logger.critical(
            "the hooks' outbox is full: its oldest undelivered events were dropped (a hook has failed for long, or a partner floods)",
            metadata: ["dropped": "\(total)", "limit": "\(outboxLimit)"])
        outboxDropsLogged = (now, 0)
    }
}
