import AdminAPI
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How mineralctl prints: aligned tables for people, JSON for programs; colour only on a
/// terminal, and never when NO_COLOR is set.
enum Output {
    static let useColour: Bool = isatty(STDOUT_FILENO) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    static let isTerminal: Bool = isatty(STDOUT_FILENO) == 1

    static func json(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
    }

    /// Columns padded to the widest cell; the header in bold on a terminal.
    static func table(_ header: [String], _ rows: [[String]]) {
        guard !rows.isEmpty else {
            print("(none)")
            return
        }
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        print(bold(line(header)))
        for row in rows { print(line(row)) }
    }

    /// `key  value` lines, keys aligned.
    static func fields(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (key, value) in pairs { print(bold(key.padding(toLength: width, withPad: " ", startingAt: 0)) + "  " + value) }
    }

    static func bold(_ text: String) -> String { useColour ? "\u{1B}[1m\(text)\u{1B}[0m" : text }

    static func severity(_ text: String) -> String {
        guard useColour else { return text }
        switch text {
        case "critical": return "\u{1B}[1;31m\(text)\u{1B}[0m"
        case "high": return "\u{1B}[31m\(text)\u{1B}[0m"
        case "medium": return "\u{1B}[33m\(text)\u{1B}[0m"
        default: return text
        }
    }

    /// "2026-11-26 09:30" from an ISO 8601 timestamp (UTC).
    /// A peer's clock offset in seconds, signed ("+86400.0 s": a day ahead of this node's).
    static func clockOffset(_ millis: Int64) -> String { String(format: "%+.1f s", Double(millis) / 1000) }

    static func time(_ iso: String?) -> String {
        guard let iso, let date = AdminJSON.parseDate(iso) else { return "-" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    static func duration(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m \(seconds % 60)s" }
        if seconds < 86400 { return "\(seconds / 3600)h \(seconds % 3600 / 60)m" }
        return "\(seconds / 86400)d \(seconds % 86400 / 3600)h"
    }

    static func vector(_ vector: [String: UInt64]) -> String {
        vector.isEmpty ? "(empty)" : vector.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}
