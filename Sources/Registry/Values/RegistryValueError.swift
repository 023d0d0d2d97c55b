/// A value that does not belong in the registry, named precisely enough to fix.
public enum RegistryValueError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidParticipant(String)
    case invalidNodeName(String)
    case invalidMineral(String)
    case unknownMineral(String)
    case invalidAmount(String)
    case invalidUnit(String)
    case invalidSeverity(String)
    case invalidCategory(String)
    case textTooLong(field: String, limit: Int)
    case emptyField(String)
    case invalidCut(String)
    case invalidReference(String, Int)
    case invalidForm(String)
    case invalidBasis(String)
    /// A withheld report that carries a quantity (or a shared one without).
    case withheldQuantity

    public var description: String {
        switch self {
        case .invalidParticipant(let text): "participant id \"\(text)\" must be 2–8 characters of A–Z and 0–9"
        case .invalidNodeName(let text): "node \"\(text)\" must be <participant>/<name>, the name 1–63 of a–z, 0–9 and '-'"
        case .invalidMineral(let text): "mineral id \"\(text)\" must be 1–48 of a–z, 0–9 and '-'"
        case .unknownMineral(let text): "unknown mineral \"\(text)\": not in the catalogue (see `mineralctl minerals`, or extend it in the config)"
        case .invalidAmount(let text): "quantity \"\(text)\" must be a non-negative decimal with at most 18 integer and 9 fraction digits"
        case .invalidUnit(let text): "unit \"\(text)\" must be t or kg"
        case .invalidSeverity(let text): "severity \"\(text)\" must be one of info, low, medium, high, critical"
        case .invalidCategory(let text):
            "category \"\(text)\" must be one of export-restriction, production-outage, logistics, price-spike, geopolitical, other"
        case .textTooLong(let field, let limit): "\(field) is longer than \(limit) bytes"
        case .emptyField(let field): "\(field) must not be empty"
        case .invalidCut(let reason): "invalid feed cut: \(reason)"
        case .invalidReference(let field, let count): "\(field) must be an entry id of 32 bytes, not \(count)"
        case .invalidForm(let text): "form \"\(text)\" must be 1–32 of a–z, 0–9 and '-', e.g. metal, oxide, concentrate, magnet"
        case .invalidBasis(let text): "basis \"\(text)\" must be gross or contained"
        case .withheldQuantity: "a withheld figure carries no quantity"
        }
    }
}
