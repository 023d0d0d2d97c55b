import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import NIOTLS
import OpenSSLCrypto
import OpenSSLTLS

/// `mineral-bench tls`: (a) mutual TLS 1.3 handshakes per second, both ends in this process and
/// their bytes handed over in memory; (b) bulk throughput over loopback, TLS against the same NIO
/// code without TLS; (c) the round trip of a 256-byte message, TLS against plain.
struct TLSBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "Handshakes per second, bulk throughput and round-trip time, TLS vs plain TCP.")

    @Option(help: "Handshakes to time.") var handshakes = 2_000
    @Option(help: "MiB to send for the bulk test.") var mebibytes = 512
    @Option(help: "Round trips to time.") var roundTrips = 20_000
    @Option(help: "Rounds per measurement; the best is reported.") var rounds = 3

    func validate() throws {
        guard handshakes >= 1, mebibytes >= 1, roundTrips >= 1, rounds >= 1 else {
            throw ValidationError("need --handshakes, --mebibytes, --round-trips and --rounds ≥ 1")
        }
    }

    func run() throws {
        #if DEBUG
            print("warning: a debug build; run `swift run -c release mineral-bench tls` for real figures")
        #endif
        print("mutual TLS 1.3 handshakes in memory (both ends in this process, best of \(rounds))")
        for algorithm in KeyAlgorithm.allCases {
            let pki = try BenchmarkPKI(algorithm: algorithm)
            let seconds = try Stopwatch.best(rounds: rounds) {
                for _ in 0..<handshakes { try Self.handshakeInMemory(client: pki.client, server: pki.server) }
            }
            print("  \(algorithm.description.padding(toLength: 8, withPad: " ", startingAt: 0))" + formatRate(handshakes, seconds) + "   goal ≥ 600/s")
        }

        let pki = try BenchmarkPKI(algorithm: .ed25519)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let bytes = mebibytes << 20
        print("")
        print("bulk transfer over loopback, \(mebibytes) MiB in 64 KiB writes, plain and TLS interleaved, \(max(rounds, 5)) pairs")
        // Plain and TLS alternate, so both see the same load on a shared machine; the ratio is
        // taken per pair and the median reported (the spread shows how noisy the machine was).
        typealias Run = (rate: Double, cores: Double, cpuPerByte: Double)
        func transfer(_ tls: BenchmarkPKI?) throws -> Run {
            let time = try Stopwatch.withCPU { _ = try LoopbackTransfer.bulk(group: group, bytes: bytes, tls: tls) }
            return (Double(bytes) / time.wall / 1e6, time.cpu / time.wall, time.cpu / Double(bytes) * 1e9)
        }
        var pairs: [(plain: Run, tls: Run)] = []
        for _ in 0..<max(rounds, 5) {
            let plain = try transfer(nil)
            pairs.append((plain, try transfer(pki)))
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let ratios = pairs.map { $0.tls.rate / $0.plain.rate }.sorted()
        // CPU per byte shows what bounds the ratio: TLS adds the cipher's work to the same
        // kernel copies, on the same 2 cores.
        for (name, runs) in [("plain", pairs.map(\.plain)), ("TLS  ", pairs.map(\.tls))] {
            print(
                String(
                    format: "  %@  %9.1f MB/s (best)   median: %.2f cores busy, %.2f ns of CPU per byte",
                    name, runs.map(\.rate).max()!, median(runs.map(\.cores)), median(runs.map(\.cpuPerByte))))
        }
        print(String(format: "  TLS ÷ plain: %.2f median of pairs (%.2f–%.2f)   goal ≥ 0.6", ratios[ratios.count / 2], ratios.first!, ratios.last!))

        print("")
        print("256-byte round trips over loopback (\(roundTrips) each)")
        let plain = try LoopbackTransfer.roundTrips(group: group, count: roundTrips, tls: nil)
        let tls = try LoopbackTransfer.roundTrips(group: group, count: roundTrips, tls: pki)
        print(String(format: "  plain p50 %6.1f µs   p99 %6.1f µs", plain.p50, plain.p99))
        print(String(format: "  TLS   p50 %6.1f µs   p99 %6.1f µs", tls.p50, tls.p99))
        print(String(format: "  TLS adds %.1f µs at p50   goal ≤ 25 µs", tls.p50 - plain.p50))
    }

    /// One full mutual handshake between two in-memory connections.
    static func handshakeInMemory(client clientContext: TLSContext, server serverContext: TLSContext) throws {
        let client = try TLSConnection(context: clientContext)
        let server = try TLSConnection(context: serverContext)
        var clientDone = false
        var serverDone = false
        for _ in 0..<10 {
            if !clientDone, case .complete = client.handshake() { clientDone = true }
            if let bytes = client.takeCiphertext() { server.receive(bytes) }
            if !serverDone, case .complete = server.handshake() { serverDone = true }
            if let bytes = server.takeCiphertext() { client.receive(bytes) }
            if clientDone && serverDone { break }
        }
        guard clientDone, serverDone, client.verifiedPeer != nil, server.verifiedPeer != nil else {
            throw ValidationError("handshake did not complete")
        }
    }
}
