/// Whether a reserve quantity is the material's gross weight or the mineral it contains (a
/// tonne of concentrate holds far less than a tonne of the metal).
public enum ReserveBasis: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case gross = 1
    case contained

    public init(parsing text: String) throws(RegistryValueError) {
        guard let value = Self.allCases.first(where: { $0.description == text.lowercased() }) else { throw .invalidBasis(text) }
        self = value
    }

    public var description: String {
        switch self {
        case .gross: "gross"
        case .contained: "contained"
        }
    }
}
