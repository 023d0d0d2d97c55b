/// A participant's annual consumption of a mineral as folded.
public struct ConsumptionRecord: Sendable, Hashable {
    public let consumption: ReserveConsumption
    public let order: EventOrder

    public var key: TargetKey { consumption.key }
}

extension ConsumptionRecord: RegisterRecord {
    /// Only consumption reports are written to consumption registers.
    init(written entry: Entry) {
        guard case .setConsumption(let consumption) = entry.operation else { preconditionFailure("\(entry) in a consumption register") }
        self.init(consumption: consumption, order: EventOrder(entry))
    }
}
