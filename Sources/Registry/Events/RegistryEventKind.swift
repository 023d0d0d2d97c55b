/// What a notification hook can be told about: a change to an alert, or a reserve left below
/// its target. The raw values are the names used in the config and in the event's JSON.
public enum RegistryEventKind: String, Sendable, Hashable, CaseIterable, Comparable {
    case alertRaised = "alert-raised"
    case alertUpdated = "alert-updated"
    case alertAcknowledged = "alert-acknowledged"
    case alertResolved = "alert-resolved"
    case reserveBelowTarget = "reserve-below-target"

    /// Alerts carry a severity (a hook's `min-severity` applies to them only).
    public var isAboutAnAlert: Bool { self != .reserveBelowTarget }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
