import Foundation
import Registry

/// What a session logs about the entries it refused, bounded whatever the peer sends: the first
/// few of each window in full, then one summary per window ("rejected 1,912,331 entries from
/// JP/jp-666 in the last 10 s: malformed 1,912,300, bad signature 31"). Pure: the handler logs
/// the lines it returns.
struct RejectionLog {
    /// How many refusals of one kind went unlogged.
    struct KindCount: Equatable {
        let kind: String
        let count: Int
    }

    enum Line: Equatable {
        case detail(EntryRejection)
        case summary(count: Int, seconds: Int, byKind: [KindCount])

        /// 1912331 as "1,912,331", whatever the locale (log lines are parsed by scripts).
        static func grouped(_ value: Int) -> String {
            let digits = Array(String(value.magnitude))
            var out = ""
            for (index, digit) in digits.enumerated() {
                if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
                out.append(digit)
            }
            return value < 0 ? "-" + out : out
        }

        /// The text of a summary line.
        var summaryText: String? {
            guard case .summary(let count, let seconds, let byKind) = self else { return nil }
            let kinds = byKind.map { "\($0.kind) \(Self.grouped($0.count))" }.joined(separator: ", ")
            return "rejected \(Self.grouped(count)) more entries in the last \(seconds) s: \(kinds)"
        }
    }

    let window: TimeInterval
    let detailedPerWindow: Int
    private var windowStart: Date?
    private var detailed = 0
    private var unlogged: [String: Int] = [:]

    init(window: TimeInterval = 10, detailedPerWindow: Int = 5) {
        self.window = window
        self.detailedPerWindow = detailedPerWindow
    }

    /// Rejections just decided: the lines to log now.
    mutating func record(_ rejections: [EntryRejection], now: Date) -> [Line] {
        var lines = flush(now: now, force: false).map { [$0] } ?? []
        if windowStart == nil { windowStart = now }
        for rejection in rejections {
            if detailed < detailedPerWindow {
                detailed += 1
                lines.append(.detail(rejection))
            } else {
                unlogged[rejection.reason.kind, default: 0] += 1
            }
        }
        return lines
    }

    /// The summary of a window that has ended (or of the current one, when `force`: the session
    /// closes), if anything in it went unlogged.
    mutating func flush(now: Date, force: Bool) -> Line? {
        guard let start = windowStart, force || now.timeIntervalSince(start) >= window else { return nil }
        defer {
            windowStart = nil
            detailed = 0
            unlogged = [:]
        }
        guard !unlogged.isEmpty else { return nil }
        let byKind = unlogged.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { KindCount(kind: $0.key, count: $0.value) }
        return .summary(count: byKind.reduce(0) { $0 + $1.count }, seconds: max(1, Int(now.timeIntervalSince(start).rounded(.up))), byKind: byKind)
    }
}
