import AdminAPI
import Foundation
import NIOConcurrencyHelpers
import NodeConfig

/// How each hook's deliveries go, for `status`: written by the hooks' workers, read by the
/// admin API. Counts since the daemon started.
final class HookStatusBoard: Sendable {
    private struct Entry {
        var cursor: Int64 = 0
        var delivered = 0
        var failures = 0
        var lastDeliveredAt: Date?
        var lastError: String?
        var retryingSince: Date?
        var nextAttemptAt: Date?
        var failingEvent: String?
        var skipped = 0

        /// Failing on no event any more.
        mutating func settle() {
            retryingSince = nil
            nextAttemptAt = nil
            failingEvent = nil
        }
    }

    private let hooks: NIOLockedValueBox<[HookConfiguration]>
    private let entries: NIOLockedValueBox<[String: Entry]>

    init(hooks: [HookConfiguration]) {
        self.hooks = NIOLockedValueBox(hooks)
        entries = NIOLockedValueBox(Dictionary(uniqueKeysWithValues: hooks.map { ($0.name, Entry()) }))
    }

    /// Hooks are configured (status shows them).
    var isEmpty: Bool { hooks.withLockedValue { $0.isEmpty } }

    /// The hooks in force after a reload: a hook that keeps its name keeps its counts.
    func replace(hooks: [HookConfiguration], cursors: [String: Int64]) {
        self.hooks.withLockedValue { $0 = hooks }
        entries.withLockedValue { entries in
            var kept: [String: Entry] = [:]
            for hook in hooks {
                kept[hook.name] = entries[hook.name] ?? Entry()
                kept[hook.name]?.cursor = cursors[hook.name] ?? 0
            }
            entries = kept
        }
    }

    /// The hook has delivered or skipped every event up to `cursor`.
    func advanced(_ hook: String, to cursor: Int64) {
        entries.withLockedValue { $0[hook, default: Entry()].cursor = cursor }
    }

    func delivered(_ hook: String) {
        entries.withLockedValue { entries in
            entries[hook, default: Entry()].delivered += 1
            entries[hook]?.lastDeliveredAt = Date()
            entries[hook]?.settle()
        }
    }

    /// The hook's worker stopped (a reload, the node stopping): it is failing on nothing now.
    func stopped(_ hook: String) {
        entries.withLockedValue { $0[hook]?.settle() }
    }

    /// The operator skipped the event the hook was failing on.
    func skipped(_ hook: String) {
        entries.withLockedValue { entries in
            entries[hook, default: Entry()].skipped += 1
            entries[hook]?.settle()
        }
    }

    func failed(_ hook: String, event: String, reason: String, retryAt: Date) {
        entries.withLockedValue { entries in
            entries[hook, default: Entry()].failures += 1
            entries[hook]?.lastError = reason
            if entries[hook]?.failingEvent != event { entries[hook]?.retryingSince = nil }
            entries[hook]?.failingEvent = event
            if entries[hook]?.retryingSince == nil { entries[hook]?.retryingSince = Date() }
            entries[hook]?.nextAttemptAt = retryAt
        }
    }

    /// - Parameter newest: the newest event's number in the outbox.
    func items(newest: Int64) -> [HookItem] {
        let entries = entries.withLockedValue { $0 }
        return hooks.withLockedValue { $0 }.map { hook in
            let entry = entries[hook.name] ?? Entry()
            return HookItem(
                name: hook.name, target: hook.target.description, events: hook.events.sorted().map(\.rawValue),
                delivered: entry.delivered, failures: entry.failures, queued: Int(max(0, newest - entry.cursor)),
                lastDeliveredAt: entry.lastDeliveredAt.map(AdminJSON.timestamp), lastError: entry.lastError,
                retryingSince: entry.retryingSince.map(AdminJSON.timestamp), nextAttemptAt: entry.nextAttemptAt.map(AdminJSON.timestamp),
                failingEvent: entry.failingEvent, skipped: entry.skipped)
        }
    }
}
