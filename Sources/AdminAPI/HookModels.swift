import Foundation

/// What a notification hook is given: one JSON object per event, on a program's standard input
/// or as a webhook's request body. A stable contract, like the admin API's shapes: fields are
/// added, never renamed or removed.
public struct HookEventMessage: Codable, Sendable, Hashable {
    /// "alert-raised", "alert-updated", "alert-acknowledged", "alert-resolved" or
    /// "reserve-below-target".
    public var event: String
    /// Unique per event and the same on every node ("alert-raised/<entry id>"): a receiver fed
    /// by several nodes, or told twice (delivery is at least once), can tell repeats apart.
    public var id: String
    /// When this node committed the entry.
    public var at: String
    /// The node delivering.
    public var node: String
    public var entry: HookEntryItem
    /// The alert as it stands when delivered (as `alert show --json` shows it); null when no
    /// view shows it any more (its feed was cut).
    public var alert: AlertItem?
    /// reserve-below-target: the participant's level of the mineral against its target.
    public var level: HookLevelItem?

    public init(event: String, id: String, at: String, node: String, entry: HookEntryItem, alert: AlertItem? = nil, level: HookLevelItem? = nil) {
        self.event = event
        self.id = id
        self.at = at
        self.node = node
        self.entry = entry
        self.alert = alert
        self.level = level
    }

    private enum CodingKeys: String, CodingKey { case event, id, at, node, entry, alert, level }

    /// Every key always present (absent values as null).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(event, forKey: .event)
        try container.encode(id, forKey: .id)
        try container.encode(at, forKey: .at)
        try container.encode(node, forKey: .node)
        try container.encode(entry, forKey: .entry)
        try container.encode(alert, forKey: .alert)
        try container.encode(level, forKey: .level)
    }
}

/// The entry an event comes from.
public struct HookEntryItem: Codable, Sendable, Hashable {
    public var id: String
    public var origin: String
    public var seq: UInt64
    /// The entry's own clock: when its author wrote it.
    public var writtenAt: String

    public init(id: String, origin: String, seq: UInt64, writtenAt: String) {
        self.id = id
        self.origin = origin
        self.seq = seq
        self.writtenAt = writtenAt
    }
}

/// A participant's level of a mineral against its target, in tonnes, as it stands when delivered.
public struct HookLevelItem: Codable, Sendable, Hashable {
    public var participant: String
    public var mineral: String
    public var tonnes: String?
    public var targetTonnes: String?
    /// Level ÷ target.
    public var coverage: String?
    /// The participant's reported total, or its sites, as `reserve list` shows them.
    public var reserves: [ReserveItem]

    public init(participant: String, mineral: String, tonnes: String?, targetTonnes: String?, coverage: String?, reserves: [ReserveItem]) {
        self.participant = participant
        self.mineral = mineral
        self.tonnes = tonnes
        self.targetTonnes = targetTonnes
        self.coverage = coverage
        self.reserves = reserves
    }
}

/// A hook in `status`: how its deliveries go.
public struct HookItem: Codable, Sendable, Hashable {
    public var name: String
    /// "exec /usr/local/bin/page-duty-officer" or "webhook http://…".
    public var target: String
    public var events: [String]
    public var delivered: Int
    /// Attempts that failed (each retried, with back-off, until it succeeds).
    public var failures: Int
    /// Events committed and not yet delivered (or skipped by this hook's filters).
    public var queued: Int
    public var lastDeliveredAt: String?
    public var lastError: String?
    /// Set while an event waits to be tried again.
    public var retryingSince: String?
    public var nextAttemptAt: String?
    /// The id of the event that keeps failing (while `retryingSince` is set): what
    /// `mineralctl hooks skip` names to stop retrying it.
    public var failingEvent: String?
    /// Events an operator skipped after they kept failing (never delivered by this hook).
    public var skipped: Int?

    public init(
        name: String, target: String, events: [String], delivered: Int, failures: Int, queued: Int, lastDeliveredAt: String?,
        lastError: String?, retryingSince: String?, nextAttemptAt: String?, failingEvent: String? = nil, skipped: Int? = nil
    ) {
        self.name = name
        self.target = target
        self.events = events
        self.delivered = delivered
        self.failures = failures
        self.queued = queued
        self.lastDeliveredAt = lastDeliveredAt
        self.lastError = lastError
        self.retryingSince = retryingSince
        self.nextAttemptAt = nextAttemptAt
        self.failingEvent = failingEvent
        self.skipped = skipped
    }
}

/// `hooks skip`: stop retrying the event a hook keeps failing to deliver, and go on with the
/// next. Named by the hook and the event's id (as `status` shows them), so that an event
/// delivered meanwhile, or another one failing since, is never skipped by mistake.
public struct HookSkipRequest: Codable, Sendable, Hashable {
    public var hook: String
    public var event: String

    public init(hook: String, event: String) {
        self.hook = hook
        self.event = event
    }
}

/// What became of the event named: "skipped" (its hook's cursor is past it, saved: it is never
/// delivered by this hook), or "delivered" (the attempt in flight when the skip was asked
/// succeeded).
public struct HookSkipResponse: Codable, Sendable, Hashable {
    public var hook: String
    public var event: String
    public var outcome: String
    /// Attempts that failed before.
    public var failedAttempts: Int
    public var lastError: String

    public init(hook: String, event: String, outcome: String, failedAttempts: Int, lastError: String) {
        self.hook = hook
        self.event = event
        self.outcome = outcome
        self.failedAttempts = failedAttempts
        self.lastError = lastError
    }
}
