/// A duration written in the config as a number and a unit: `250ms`, `10s`, `5m`, `1h`, `7d`.
public struct ConfigDuration: Sendable, Hashable, CustomStringConvertible {
    public let milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func seconds(_ seconds: Int64) -> ConfigDuration { ConfigDuration(milliseconds: seconds * 1000) }

    /// The longest duration most settings may have: a day.
    public static let maximum = ConfigDuration(milliseconds: 86_400_000)

    public static func days(_ days: Int64) -> ConfigDuration { ConfigDuration(milliseconds: days * 86_400_000) }

    /// nil unless `text` is a positive whole number followed by ms, s, m, h or d, at most `maximum`.
    public init?(parsing text: String, maximum: ConfigDuration = Self.maximum) {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text.dropFirst(digits.count)
        guard !digits.isEmpty, digits.count <= 9, let value = Int64(digits), value > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "ms": scale = 1
        case "s": scale = 1000
        case "m": scale = 60_000
        case "h": scale = 3_600_000
        case "d": scale = 86_400_000
        default: return nil
        }
        guard value <= maximum.milliseconds / scale else { return nil }
        milliseconds = value * scale
    }

    public var description: String {
        if milliseconds % 86_400_000 == 0, milliseconds > 86_400_000 { return "\(milliseconds / 86_400_000)d" }
        if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}
