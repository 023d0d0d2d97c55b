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
        let time = Self.formatter.string(from: Date())
        var line: Data
        switch format {
        case .json:
            var object = merged.mapValues { "\($0)" }
            object["ts"] = time
            object["level"] = event.level.rawValue
            object["label"] = label
            object["msg"] = "\(event.message)"
            guard let encoded = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
            line = encoded
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { key, value in
                let text = "\(value)"
                return text.contains(" ") || text.isEmpty ? "\(key)=\"\(text)\"" : "\(key)=\(text)"
            }
            line = Data(([time, event.level.rawValue, "[\(label)]", "\(event.message)"] + fields).joined(separator: " ").utf8)
        }
        line.append(0x0A)
        Self.lock.withLock { FileHandle.standardError.write(line) }
    }
}
