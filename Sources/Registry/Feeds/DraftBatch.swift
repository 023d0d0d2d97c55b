/// Local writes drafted together (an import): each names, in `supersedes`, the previous draft
/// of the batch to its register, not the register's latest as committed, so that a batch's
/// writes to one register form a chain rather than siblings.
public struct DraftBatch: Sendable {
    enum Register: Hashable {
        case reserve(ReserveKey)
        case target(TargetKey)
        case consumption(TargetKey)
        case alert(EntryID)

        init?(_ operation: EntryOperation) {
            switch operation {
            case .reportReserve(let report): self = .reserve(report.key)
            case .setTarget(let target): self = .target(TargetKey(participant: target.participant, mineral: target.mineral))
            case .setConsumption(let consumption): self = .consumption(consumption.key)
            case .updateAlert(let update): self = .alert(update.alertID)
            default: return nil
            }
        }
    }

    var latest: [Register: EntryID] = [:]

    public init() {}
}
