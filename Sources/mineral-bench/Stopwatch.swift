import Foundation

/// Wall-clock timing with the best of several rounds (the least disturbed by other load).
enum Stopwatch {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func secondsAsync(_ body: () async throws -> Void) async rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try await body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Wall-clock and CPU seconds (user + system, every thread of this process) of `body`.
    static func withCPU(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        let cpuBefore = processCPUSeconds()
        let wall = try seconds(body)
        return (wall, processCPUSeconds() - cpuBefore)
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func best(rounds: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<rounds { best = min(best, try seconds(body)) }
        return best
    }
}

func formatRate(_ count: Int, _ seconds: Double) -> String {
    let rate = Double(count) / seconds
    return String(format: "%12.0f /s  (%.3f s for %d)", rate, seconds, count)
}
