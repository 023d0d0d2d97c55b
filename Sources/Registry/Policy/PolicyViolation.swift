/// Why an operation may not change the registry. For a local request it is the error the CLI
/// shows, and nothing is written; for a received entry (authentic, but breaking the rules) the
/// entry is kept as evidence and left out of every view.
public enum PolicyViolation: Error, Sendable, Hashable, CustomStringConvertible {
    case writesForAnotherParticipant(author: NodeID, claimed: ParticipantID, operation: String)
    case notIssuer(author: NodeID, issuer: ParticipantID, operation: String)
    case unknownMineral(MineralID)
    case malformedOperation(String)
    case unknownAlert(EntryID)
    case alertResolved(EntryID)
    case cutNotAllowed(author: NodeID, feed: NodeID, why: String)
    /// The feed this node writes was cut by another node of its participant.
    case feedCut(feed: NodeID, by: NodeID, seq: UInt64)

    /// What the view digest writes for an entry that breaks the policy (views.proto): the rule
    /// it breaks, in words every implementation spells the same, unlike `description`.
    public var code: String {
        switch self {
        case .writesForAnotherParticipant: "writes-for-another-participant"
        case .notIssuer: "not-issuer"
        case .unknownMineral: "unknown-mineral"
        case .malformedOperation: "malformed-operation"
        case .unknownAlert: "unknown-alert"
        case .alertResolved: "alert-resolved"
        case .cutNotAllowed: "cut-not-allowed"
        case .feedCut: "feed-cut"
        }
    }

    public var description: String {
        switch self {
        case .writesForAnotherParticipant(let author, let claimed, let operation):
            "\(author) may not \(operation) for \(claimed): a node writes only for its own participant (\(author.participant))"
        case .notIssuer(let author, let issuer, let operation):
            "\(author) may not \(operation): only \(issuer), which raised the alert, may"
        case .unknownMineral(let mineral):
            "unknown mineral \"\(mineral)\": not in this node's catalogue"
        case .malformedOperation(let reason):
            "malformed operation: \(reason)"
        case .unknownAlert(let id):
            "no alert \(id.hex) is known"
        case .alertResolved(let id):
            "alert \(id.hex) is already resolved"
        case .cutNotAllowed(let author, let feed, let why):
            "\(author) may not cut the feed of \(feed): \(why)"
        case .feedCut(let feed, let by, let seq):
            "\(by) cut this node's feed \(feed) at seq \(seq): it writes nothing more; run the node under a new name with a new certificate"
        }
    }
}
