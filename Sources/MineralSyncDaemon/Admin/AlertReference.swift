import Registry

/// How a person names an alert: its full id (64 hex digits), or a prefix of at least 8 hex
/// digits that only one known alert starts with. A prefix that several share is refused with
/// their number rather than guessed at: acting on the wrong alert is worse than typing more.
enum AlertReference {
    enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case notFound(String)
        case ambiguous(String, matches: Int)

        var description: String {
            switch self {
            case .malformed(let text): "alert id \"\(text)\" must be 64 hex digits, or a unique prefix of at least 8"
            case .notFound(let text): text.count == 64 ? "no alert \(text)" : "no alert with id starting \(text)"
            case .ambiguous(let text, let matches): "alert id prefix \(text) matches \(matches) alerts; give more digits"
            }
        }
    }

    static let minimumPrefix = 8

    static func resolve(_ text: String, among ids: some Sequence<EntryID>) throws(Failure) -> EntryID {
        let wanted = text.lowercased()
        guard wanted.count >= minimumPrefix, wanted.count <= 64, wanted.allSatisfy(\.isHexDigit) else { throw .malformed(text) }
        let matches = ids.filter { $0.hex.hasPrefix(wanted) }
        guard let only = matches.first else { throw .notFound(text) }
        guard matches.count == 1 else { throw .ambiguous(text, matches: matches.count) }
        return only
    }
}
