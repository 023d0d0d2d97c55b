/// The ownership and domain rules every node applies to every entry, whoever relayed it:
/// only a participant's own nodes report its reserves and set its targets; a node acknowledges
/// only for its own participant; minerals come from the catalogue. Rules that need another entry
/// (only the issuer updates or resolves an alert) are applied where both are known: in the
/// alert view, and before a local write.
public struct EntryPolicy: Sendable {
    public let catalogue: MineralCatalogue

    public init(catalogue: MineralCatalogue = .standard) {
        self.catalogue = catalogue
    }

    /// The rules that an entry can be judged on alone. nil means allowed.
    public func violation(of operation: EntryOperation, by author: NodeID) -> PolicyViolation? {
        switch operation {
        case .reportReserve(let report):
            if report.participant != author.participant {
                return .writesForAnotherParticipant(author: author, claimed: report.participant, operation: "report reserves")
            }
            return known(report.mineral)
        case .setTarget(let target):
            if target.participant != author.participant {
                return .writesForAnotherParticipant(author: author, claimed: target.participant, operation: "set targets")
            }
            return known(target.mineral)
        case .setConsumption(let consumption):
            if consumption.participant != author.participant {
                return .writesForAnotherParticipant(author: author, claimed: consumption.participant, operation: "report consumption")
            }
            return known(consumption.mineral)
        case .raiseAlert(let raise):
            return known(raise.mineral)
        case .acknowledgeAlert(let ack):
            if ack.participant != author.participant {
                return .writesForAnotherParticipant(author: author, claimed: ack.participant, operation: "acknowledge an alert")
            }
            return nil
        case .cutFeed(let cut):
            if cut.feed.participant != author.participant {
                return .cutNotAllowed(author: author, feed: cut.feed, why: "only a node of \(cut.feed.participant) may cut its feeds")
            }
            if cut.feed.node == author.node {
                return .cutNotAllowed(
                    author: author, feed: cut.feed,
                    why: "a node cannot cut its own feed; another node of \(author.participant) (or its replacement, under a new name) must")
            }
            return nil
        case .updateAlert, .resolveAlert, .unknown:
            return nil
        case .malformed(let reason):
            return .malformedOperation(reason)
        }
    }

    private func known(_ mineral: MineralID) -> PolicyViolation? {
        catalogue.contains(mineral) ? nil : .unknownMineral(mineral)
    }
}
