/// A clock offset as people read it, rounded to its last unit: "+1d 0h 0m", "+3h 12m",
/// "-4m 05s", "-2.3 s", "+450 ms" (positive: ahead of ours).
public enum ClockOffset {
    public static func text(_ millis: Int64) -> String {
        let sign = millis < 0 ? "-" : "+"
        let magnitude = millis.magnitude
        switch magnitude {
        case ..<1_000:
            return "\(sign)\(magnitude) ms"
        case ..<59_950:
            let tenths = (magnitude + 50) / 100
            return "\(sign)\(tenths / 10).\(tenths % 10) s"
        case ..<3_599_500:
            let seconds = (magnitude + 500) / 1_000
            return "\(sign)\(seconds / 60)m \(seconds % 60 < 10 ? "0" : "")\(seconds % 60)s"
        default:
            let minutes = (magnitude + 30_000) / 60_000
            let days = minutes / 1_440
            let hours = minutes % 1_440 / 60
            return days > 0 ? "\(sign)\(days)d \(hours)h \(minutes % 60)m" : "\(sign)\(hours)h \(minutes % 60)m"
        }
    }
}
