import Foundation
import Logging

/// The daemon's log lines on standard error, one per event, in the configured format:
/// - `json`: one object per line, `{"ts", "level", "label", "msg", ...metadata}` (values as strings), for log shippers;
/// - `text`: `2026-11-26T10:00:00.000Z info [EU/eu-1] listening address=127.0.0.1:7701`.
public struct DaemonLogHandler: LogHandler {
    public enum Format: Sendable { case text, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let format: Format
    private static let lock = NSLock()
    // ISO8601DateFormatter is thread-safe once configured.
    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()

    public init(label: String, format: Format) {
        self.label = label
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        guard
            var line = Self.line(
                level: event.level, label: label, message: "\(event.message)", metadata: merged,
                time: Self.formatter.string(from: Date()), format: format)
        else { return }
        line.append(0x0A)
        Self.lock.withLock { FileHandle.standardError.write(line) }
    }

    /// One log line without its newline. Text lines escape every control character, quote and
    /// backslash in the message and values (peer-controlled strings reach them: a goodbye's
    /// detail, a node's name), so one event is always exactly one line and a value can never
    /// pose as another field or another event.
    static func line(
        level: Logger.Level, label: String, message: String, metadata: Logger.Metadata,
        time: String, format: Format
    ) -> Data? {
        switch format {
        case .json:
            var object = metadata.mapValues { "\($0)" }
            object["ts"] = time
            object["level"] = level.rawValue
            object["label"] = label
            object["msg"] = message
            return try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        case .text:
            let fields = metadata.sorted { $0.key < $1.key }.map { key, value in
                let text = "\(value)"
                let escaped = escape(text)
                let quoted = text.isEmpty || escaped != text || text.contains(" ") || text.contains("=")
                return "\(escape(key))=\(quoted ? "\"\(escaped)\"" : text)"
            }
            return Data(([time, level.rawValue, "[\(escape(label))]", escape(message)] + fields).joined(separator: " ").utf8)
        }
    }

    /// `\n`, `\r`, `\t`, `\"`, `\\` and `\u{XX}` for any other control character (C0, DEL, C1,
    /// and the Unicode line and paragraph separators).
    static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where needsEscape(scalar): out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar == "\"" || scalar == "\\" || (0x7F...0x9F).contains(scalar.value)
            || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
