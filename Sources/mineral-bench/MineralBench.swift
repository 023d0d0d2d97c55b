import ArgumentParser

/// Release-mode benchmarks. Figures are printed with a baseline measured in the same run, so
/// that ratios, not absolute numbers from a shared and noisy machine, carry the meaning.
@main
struct MineralBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mineral-bench",
        abstract: "Measure MineralSync's hot paths (build with -c release).",
        subcommands: [
            RegistryBenchmark.self, TLSBenchmark.self, SyncBenchmark.self, CompareBenchmark.self, HostileBenchmark.self, AdminBenchmark.self,
            HistoryBenchmark.self, HookBenchmark.self
        ]
    )
}
