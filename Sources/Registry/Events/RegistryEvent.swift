/// Something a notification hook may be told, derived from one committed entry: which entry, what
/// it is about, and what hooks filter on. Its id is the same on every node (the entry's id and
/// the kind), so a receiver fed by several nodes can tell repeats apart.
public struct RegistryEvent: Sendable, Hashable {
    /// What it is about: an alert (its id), or a participant's level of a mineral.
    public enum Subject: Sendable, Hashable {
        case alert(EntryID)
        case level(TargetKey)
    }

    public let kind: RegistryEventKind
    public let entry: EntryID
    public let origin: NodeID
    public let seq: UInt64
    /// When its entry was written (the entry's clock, wall milliseconds).
    public let writtenAtMillis: UInt64
    public let subject: Subject
    public let mineral: MineralID
    /// The alert's severity when the entry was committed; nil for reserves.
    public let severity: Severity?

    public init(
        kind: RegistryEventKind, entry: EntryID, origin: NodeID, seq: UInt64, writtenAtMillis: UInt64, subject: Subject,
        mineral: MineralID, severity: Severity?
    ) {
        self.kind = kind
        self.entry = entry
        self.origin = origin
        self.seq = seq
        self.writtenAtMillis = writtenAtMillis
        self.subject = subject
        self.mineral = mineral
        self.severity = severity
    }

    /// "alert-raised/3f9a…": unique per entry and kind, equal on every node.
    public var id: String { "\(kind.rawValue)/\(entry.hex)" }
}
