import AdminAPI
import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import OpenSSLTLS
import Registry
import SyncNode
import SyncProtocol

/// `mineral-bench hostile`: a victim `mineral-syncd` (a real daemon process, default config)
/// relays alerts between two honest in-process nodes (US and JP dial it; they share no link),
/// while an authenticated attacker (a TLS client with a valid JP certificate) floods one attack
/// at a time. Reported per phase: honest alert propagation US → victim → JP (p50/p99, and the
/// ratio to the run without an attacker), `GET /v1/status` latency at the victim, the victim's
/// peak RSS against the bound, whether a local write went through, and what became of the
/// attacker.
struct HostileBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostile",
        abstract: "Honest alert propagation and the victim's memory while an authenticated peer attacks.")

    @Option(help: "Alerts timed per phase.") var alerts = 60
    @Option(help: "Seconds each attack floods before the alerts are timed.") var warmup = 2.0
    @Option(help: "The victim's memory bound, MiB.") var boundMiB = 256

    func validate() throws {
        guard alerts >= 1, warmup >= 0, boundMiB >= 1 else { throw ValidationError("need --alerts ≥ 1, --warmup ≥ 0 and a memory bound ≥ 1 MiB") }
    }

    func run() async throws {
        #if DEBUG
            print("warning: a debug build; run `swift run -c release mineral-bench hostile` for real figures")
        #endif
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mineral-bench-hostile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let pki = try BenchAlliance(trustDomain: "critical-minerals")
        let victim = try BenchDaemon(pki: pki, scratch: scratch, identity: pki.identity("EU", "eu-1"))
        defer { victim.stop() }
        try victim.start()

        let us = try InProcessNode(bench: pki.identity("US", "us-1"), pki: pki, group: group, directory: "\(scratch)/us")
        let jp = try InProcessNode(bench: pki.identity("JP", "jp-1"), pki: pki, group: group, directory: "\(scratch)/jp")
        for node in [us, jp] {
            try await node.node.start()
            node.node.addPeer(host: "127.0.0.1", port: victim.port)
        }
        let arrivals = ArrivalLog()
        let stream = await jp.engine.subscribe()
        let watcher = Task { for await batch in stream { arrivals.record(batch.map(\.id), at: jp.engine.node) } }
        _ = try await timedAlert(us, arrivals, timeout: 60)  // connected

        print("victim: mineral-syncd (EU/eu-1, default bounds) relaying US/us-1 → JP/jp-1; \(alerts) alerts per phase")
        print("phase                         alert p50   p99    ×base p50/p99   status p99   peak RSS   local write   attacker")
        var baseline: (Double, Double)?
        var attackerNumber = 0
        for attack in Attack.allCases {
            attackerNumber += 1
            let attacker = attack == .none ? nil : try pki.identity("JP", "jp-666-\(attackerNumber)")
            let flood = attacker.map { identity in
                Task { await Attacker.flood(attack, as: identity, pki: pki, port: victim.port, group: group, victim: victim.node) }
            }
            try await Task.sleep(for: .seconds(warmup))
            let statusTimes = StatusProbe(socket: victim.socket)
            statusTimes.start()
            var latencies: [Double] = []
            for _ in 0..<alerts { latencies.append(try await timedAlert(us, arrivals, timeout: 30)) }
            let wrote = victim.localWrite()
            statusTimes.stop()
            flood?.cancel()
            let outcome = await flood?.value ?? "-"
            latencies.sort()
            let p50 = latencies[latencies.count / 2] * 1000
            let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)] * 1000
            if baseline == nil { baseline = (p50, p99) }
            let ratio = String(format: "%.2f / %.2f", p50 / baseline!.0, p99 / baseline!.1)
            let peak = victim.peakRSSMiB()
            print(
                String(
                    format: "%-28@ %7.1f ms %6.1f ms   %-13@   %6.1f ms   %4d MiB%@   %-11@   %@", attack.rawValue as NSString, p50, p99,
                    ratio as NSString, statusTimes.p99 * 1000, peak, (peak > boundMiB ? " OVER" : "") as NSString,
                    (wrote ? "ok" : "refused") as NSString, outcome as NSString))
        }
        watcher.cancel()
        for node in [us, jp] { await node.stop() }
        try await group.shutdownGracefully()
    }

    private func timedAlert(_ origin: InProcessNode, _ arrivals: ArrivalLog, timeout: Double) async throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        let entry = try await origin.engine.append(
            .raiseAlert(
                AlertRaise(
                    mineral: try MineralID("gallium"), severity: .high,
                    category: .exportRestriction, summary: "bench \(start)")))
        let last = try await arrivals.waitForAll(entry.id, count: 1, timeout: timeout)
        return Double(last - start) / 1e9
    }
}

/// What the attacker does, one phase each.
enum Attack: String, CaseIterable {
    case none = "no attacker (baseline)"
    case vectorPingFlood = "empty vectors and pings"
    case waitingFlood = "own entries ahead of a gap"
    case invalidEntries = "entries with bad signatures"
    case oversizedSignatures = "4 MiB-frame junk signatures"
    case unprovenClaim = "claims the victim's feed"
    case garbageFrames = "frames that do not decode"
}

/// An authenticated partner node that floods one attack, reconnecting whenever it is closed,
/// until cancelled. Returns what became of it.
enum Attacker {
    static func flood(
        _ attack: Attack, as identity: BenchAlliance.Identity, pki: BenchAlliance, port: Int,
        group: any EventLoopGroup, victim: NodeID
    ) async -> String {
        var connections = 0
        var lastGoodbye: String?
        var author = FeedAuthor(node: identity.id, key: identity.key)
        // seq 1 is never sent: everything after it waits for a gap that never fills.
        if let (_, next) = try? author.drafting(
            .raiseAlert(AlertRaise(mineral: try! MineralID("gallium"), severity: .low, category: .other, summary: "gap")), now: 1)
        {
            author = next
        }
        var nonce: UInt64 = 0
        while !Task.isCancelled {
            guard let connection = try? await AttackConnection.open(identity, pki: pki, port: port, group: group) else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            connections += 1
            let claim = attack == .unprovenClaim ? VersionVector([victim: 1 << 40]) : VersionVector()
            try? await connection.send(.hello(SyncHello(node: identity.id, vector: claim)))
            while connection.isActive, !Task.isCancelled {
                do {
                    switch attack {
                    case .none: return "-"
                    case .vectorPingFlood:
                        for _ in 0..<200 {
                            nonce += 1
                            connection.queue(.vector(VersionVector()))
                            connection.queue(.ping(nonce))
                        }
                        try await connection.flush()
                    case .waitingFlood:
                        var batch: [SignedEntry] = []
                        for _ in 0..<200 {
                            let note = String(repeating: "w", count: 2000)
                            let report = ReserveReport(
                                participant: "JP", mineral: try MineralID("gallium"), site: "", quantity: Quantity(amount: try Amount("1"), unit: .tonne),
                                asOfMillis: 1, note: note)
                            let (entry, next) = try author.drafting(.reportReserve(report), now: 2)
                            author = next
                            batch.append(entry.signed)
                        }
                        try await connection.send(.entries(batch))
                    case .invalidEntries:
                        let (entry, _) = try author.drafting(
                            .raiseAlert(AlertRaise(mineral: try MineralID("gallium"), severity: .low, category: .other, summary: "x")), now: 3)
                        let forged = SignedEntry(body: entry.signed.body, signature: entry.signed.signature.map { $0 ^ 0x5A })
                        try await connection.send(.entries(Array(repeating: forged, count: 2_000)))
                    case .oversizedSignatures:
                        let (entry, _) = try author.drafting(
                            .raiseAlert(AlertRaise(mineral: try MineralID("gallium"), severity: .low, category: .other, summary: "x")), now: 3)
                        try await connection.send(.entries([SignedEntry(body: entry.signed.body, signature: Array(repeating: 0xAB, count: 3 << 20))]))
                    case .unprovenClaim:
                        nonce += 1
                        try await connection.send(.ping(nonce))
                        try await Task.sleep(for: .milliseconds(200))
                    case .garbageFrames:
                        try await connection.sendRaw((0..<4096).map { _ in UInt8.random(in: 0...255) })
                    }
                } catch {
                    break
                }
            }
            lastGoodbye = connection.goodbye ?? lastGoodbye
            connection.close()
            try? await Task.sleep(for: .milliseconds(100))
        }
        return "\(connections) connection\(connections == 1 ? "" : "s"); told: \(lastGoodbye.map { String($0.prefix(90)) } ?? "nothing")"
    }
}

/// One TLS connection of the attacker, reading (and discarding) everything the victim sends.
final class AttackConnection: @unchecked Sendable {
    private let channel: any Channel
    private let inbound: Drain

    private init(channel: any Channel, inbound: Drain) {
        self.channel = channel
        self.inbound = inbound
    }

    static func open(_ identity: BenchAlliance.Identity, pki: BenchAlliance, port: Int, group: any EventLoopGroup) async throws -> AttackConnection {
        let tls = try TLSContext(
            configuration: .makeClientConfiguration(certificateChain: [identity.certificate], privateKey: identity.key, trustStore: pki.trust))
        let drain = Drain()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(OpenSSLHandler(context: tls))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SyncFrameDecoder(maximumFrameSize: 64 << 20)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(SyncFrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(drain)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return AttackConnection(channel: channel, inbound: drain)
    }

    var isActive: Bool { channel.isActive }
    var goodbye: String? { inbound.goodbye.withLockedValue { $0 } }

    func send(_ message: SyncMessage) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: try SyncMessageCodec.encode(message)))
    }

    func queue(_ message: SyncMessage) {
        guard let bytes = try? SyncMessageCodec.encode(message) else { return }
        channel.write(ByteBuffer(bytes: bytes), promise: nil)
    }

    func flush() async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: try SyncMessageCodec.encode(.ping(0))))
    }

    /// Bytes framed as a message, whatever they are.
    func sendRaw(_ payload: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: payload))
    }

    func close() { channel.close(promise: nil) }

    final class Drain: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let goodbye = NIOLockedValueBox<String?>(nil)

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            if case .goodbye(_, let detail)? = try? SyncMessageCodec.decode(frame.readableBytesView) { goodbye.withLockedValue { $0 = detail } }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
