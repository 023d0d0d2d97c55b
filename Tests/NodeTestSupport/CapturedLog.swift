import Foundation
import Logging

/// Log messages kept in memory, for tests that count what a node logged.
public final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []

    public var messages: [String] { lock.withLock { kept } }

    /// Keeps every message; with `printing`, also writes it to standard error.
    public func handler(label: String, printing: Bool) -> any LogHandler { Handler(log: self, label: label, printing: printing) }

    private struct Handler: LogHandler {
        let log: CapturedLog
        let label: String
        let printing: Bool
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            log.lock.withLock { log.kept.append(message.description) }
            if printing { FileHandle.standardError.write(Data("\(label) \(level) \(message) \(metadata ?? [:])\n".utf8)) }
        }
    }
}
