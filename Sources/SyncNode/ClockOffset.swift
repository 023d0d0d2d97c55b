/// A clock offset as people read it: "+1d 0h 0m", "-2.3 s", "+450 ms" (positive: ahead of ours).
public enum ClockOffset {
    public static func text(_ millis: Int64) -> String {
        let sign = millis < 0 ? "-" : "+"
        let magnitude = millis.magnitude
        switch magnitude {
        case ..<1_000: return "\(sign)\(magnitude) ms"
        case ..<60_000: return "\(sign)\(magnitude / 1_000).\(magnitude % 1_000 / 100) s"
        case ..<3_600_000: return "\(sign)\(magnitude / 60_000)m \(magnitude % 60_000 / 1_000)s"
        case ..<86_400_000: return "\(sign)\(magnitude / 3_600_000)h \(magnitude % 3_600_000 / 60_000)m"
        default: return "\(sign)\(magnitude / 86_400_000)d \(magnitude % 86_400_000 / 3_600_000)h \(magnitude % 3_600_000 / 60_000)m"
        }
    }
}
