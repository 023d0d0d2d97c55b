/// How serious a disruption is, in rising order.
public enum Severity: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case info = 1
    case low, medium, high, critical

    public init(parsing text: String) throws(RegistryValueError) {
        guard let value = Self.allCases.first(where: { $0.description == text.lowercased() }) else {
            throw .invalidSeverity(text)
        }
        self = value
    }

    public var description: String {
        switch self {
        case .info: "info"
        case .low: "low"
        case .medium: "medium"
        case .high: "high"
        case .critical: "critical"
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
