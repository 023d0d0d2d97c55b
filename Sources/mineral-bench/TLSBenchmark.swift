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
        var pairs: [(plain: Double, tls: Double)] = []
        for _ in 0..<max(rounds, 5) {
            let plain = Double(bytes) / (try Stopwatch.seconds { _ = try LoopbackTransfer.bulk(group: group, bytes: bytes, tls: nil) }) / 1e6
            let tls = Double(bytes) / (try Stopwatch.seconds { _ = try LoopbackTransfer.bulk(group: group, bytes: bytes, tls: pki) }) / 1e6
            pairs.append((plain, tls))
        }
        let ratios = pairs.map { $0.tls / $0.plain }.sorted()
        print(String(format: "  plain  %9.1f MB/s (best)", pairs.map(\.plain).max()!))
        print(String(format: "  TLS    %9.1f MB/s (best)", pairs.map(\.tls).max()!))
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
        var clientDone = false, serverDone = false
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
