/// What kind of disruption an alert reports.
public enum AlertCategory: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case exportRestriction = 1
    case productionOutage, logistics, priceSpike, geopolitical, other

    public init(parsing text: String) throws(RegistryValueError) {
        guard let value = Self.allCases.first(where: { $0.description == text.lowercased() }) else {
            throw .invalidCategory(text)
        }
        self = value
    }

    public var description: String {
        switch self {
        case .exportRestriction: "export-restriction"
        case .productionOutage: "production-outage"
        case .logistics: "logistics"
        case .priceSpike: "price-spike"
        case .geopolitical: "geopolitical"
        case .other: "other"
        }
    }
}
