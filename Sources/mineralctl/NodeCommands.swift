import AdminAPI
import ArgumentParser
import Foundation

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The node: identity, uptime, entries, vector, peers, security events.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let status = try Exit.guarding { try global.client.call(AdminAPI.status) }
        if global.json { return Output.json(status) }
        Output.fields([
            ("node", "\(status.node) (participant \(status.participant))"),
            ("uptime", Output.duration(status.uptimeSeconds)),
            ("entries", "\(status.entries)"),
            ("writable", status.writable ? "yes" : "no — a peer says it holds more of this node's feed; waiting (seconds) for the entry that proves it"),
            ("feed", status.feed),
            ("peers", "\(status.peersConnected) connected / \(status.peersConfigured) configured"),
            ("vector", Output.vector(status.versionVector)),
            ("view digest", status.viewDigest),
            ("certificate", "expires \(Output.time(status.certificateExpiresAt))"),
            (
                "key history",
                status.keyHistory.map { key in
                    "\(key.fingerprint.prefix(16)) valid \(Output.time(key.validFrom)) – \(Output.time(key.validUntil))\(key.current ? " (current)" : "")"
                }.joined(separator: "; ")
            ),
            (
                "revocation",
                status.revocationLists.isEmpty
                    ? "no CRLs in force"
                    : status.revocationLists.map { crl in
                        "\(crl.participants.joined(separator: ",")) CRL issued \(Output.time(crl.issuedAt)), next \(Output.time(crl.nextUpdate))"
                    }.joined(separator: "; ")
            ),
            (
                "feeds cut",
                status.feedsCut.isEmpty
                    ? "none"
                    : status.feedsCut.map { cut in
                        "\(cut.feed) at seq \(cut.seq) by \(cut.by)\(cut.inForce ? "" : " (a lower cut is in force)")\(cut.heldAfterCut > 0 ? ", \(cut.heldAfterCut) later entries held as evidence" : "")"
                    }.joined(separator: "; ")
            ),
            ("clock", status.clockWarning ?? "agrees with the peers measured"),
            (
                "agreement",
                (status.agreements ?? []).isEmpty
                    ? "not compared with any participant yet"
                    : (status.agreements ?? []).map { agreement in
                        "\(agreement.participant) at \(agreement.entries) entries (\(agreement.node), \(Output.time(agreement.signedAt)))"
                    }.joined(separator: "; ")
            ),
            (
                "checkpoint",
                status.checkpoint.map { "\($0.entries) entries, digest \($0.digest.prefix(16)), signed by \($0.signedBy.joined(separator: ", "))" }
                    ?? "none yet"
            ),
            (
                "history",
                status.joinedFrom.map { "from the checkpoint at \($0.entries) entries (joined from it: no entry before it is held here)" }
                    ?? "every entry"
            ),
            ("hooks", Self.hooksLine(status.hooks)),
            ("security", status.securityEvents.isEmpty ? "no events" : "\(status.securityEvents.count) events")
        ])
        if let hooks = status.hooks, !hooks.isEmpty {
            print("")
            Output.table(
                ["HOOK", "TARGET", "DELIVERED", "FAILURES", "QUEUED", "LAST DELIVERED", "STATE"],
                hooks.map { hook in
                    let state =
                        hook.retryingSince.map {
                            "failing\(hook.failingEvent.map { " on \($0)" } ?? "") since \(Output.time($0)), next try \(Output.time(hook.nextAttemptAt)): \(hook.lastError ?? "?")"
                        }
                        ?? "ok"
                    return [hook.name, hook.target, "\(hook.delivered)", "\(hook.failures)", "\(hook.queued)", Output.time(hook.lastDeliveredAt), state]
                })
        }
        if !status.securityEvents.isEmpty {
            print("")
            Output.table(["KIND", "SUBJECT", "DETAIL"], status.securityEvents.map { [$0.kind, $0.subject, $0.detail] })
        }
    }
}

extension Status {
    static func hooksLine(_ hooks: [HookItem]?) -> String {
        guard let hooks, !hooks.isEmpty else { return "none configured" }
        let failing = hooks.filter { $0.retryingSince != nil }
        return failing.isEmpty ? "\(hooks.count) delivering" : "\(failing.count) of \(hooks.count) failing: \(failing.map(\.name).joined(separator: ", "))"
    }
}

struct Peers: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Each peer: state, last contact, lag each way, rejections, penalties, last error.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let peers = try Exit.guarding { try global.client.call(AdminAPI.peers) }
        if global.json { return Output.json(peers) }
        Output.table(
            ["NODE", "ADDRESS", "STATE", "CONNECTED SINCE", "LAST CONTACT", "CLOCK", "LAG OUT", "LAG IN", "REJECTED", "LAST REASON"],
            peers.map { peer in
                let state = peer.penalizedUntil.map { "penalized until \(Output.time($0))" } ?? peer.state
                let reason = peer.penalizedUntil != nil ? peer.lastOffence : peer.lastRejection ?? peer.lastError
                return [
                    peer.node, peer.address ?? "-", state, Output.time(peer.connectedSince), Output.time(peer.lastContact),
                    peer.clockOffsetMillis.map(Output.clockOffset) ?? "-", "\(peer.lagOut)", "\(peer.lagIn)", "\(peer.rejected)", reason ?? "-"
                ]
            })
    }
}

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start an anti-entropy round now; with --wait, block until the peer(s) hold the same vector.")
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Only this peer, e.g. US/us-1.", valueName: "node")) var peer: String?
    @Flag(help: "Wait until in sync.") var wait = false
    @Option(help: "Give up waiting after this many seconds.") var timeout: Double = 300

    func run() throws {
        let request = SyncRequest(peer: peer, wait: wait, timeoutSeconds: timeout)
        let client = global.client
        let progress = wait && Output.isTerminal && !global.json ? ProgressLine(client: client, peer: peer) : nil
        progress?.start()
        let result = Result<SyncResponse, AdminClient.ClientError>(catching: { () throws(AdminClient.ClientError) -> SyncResponse in
            try client.call(AdminAPI.sync, request)
        })
        progress?.stop()
        let response = try Exit.guarding { try result.get() }
        if global.json { return Output.json(response) }
        if response.peers.isEmpty {
            print("no connected peers")
        } else if wait {
            print("in sync with \(response.peers.joined(separator: ", ")): \(Output.vector(response.versionVector))")
        } else {
            print("anti-entropy round started with \(response.peers.joined(separator: ", "))")
        }
    }
}

/// A one-line progress bar on a terminal while `sync --wait` runs: entries still to exchange.
final class ProgressLine: @unchecked Sendable {
    private let client: AdminClient
    private let peer: String?
    private let lock = NSLock()
    private var running = true
    private let finished = DispatchSemaphore(value: 0)
    private var first: UInt64?

    init(client: AdminClient, peer: String?) {
        self.client = client
        self.peer = peer
    }

    func start() {
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                if let peers = try? client.call(AdminAPI.peers) {
                    let remaining = peers.filter { peer == nil || $0.node == peer }.filter { $0.state == "connected" }.reduce(0) { $0 + $1.lagIn + $1.lagOut }
                    let total = lock.withLock { () -> UInt64 in
                        first = max(first ?? remaining, remaining)
                        return first!
                    }
                    let done = total == 0 ? 1.0 : Double(total - remaining) / Double(total)
                    let width = 30
                    let bar = String(repeating: "#", count: Int(done * Double(width))) + String(repeating: ".", count: width - Int(done * Double(width)))
                    FileHandle.standardError.write(Data("\r  syncing [\(bar)] \(remaining) entries to go   ".utf8))
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
            finished.signal()
        }
        thread.start()
    }

    /// Stops drawing and clears the line (after the last draw, never before it).
    func stop() {
        lock.withLock { running = false }
        finished.wait()
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

struct Minerals: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The mineral catalogue this node accepts, with the HS codes its trade is reported under.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let minerals = try Exit.guarding { try global.client.call(AdminAPI.minerals) }
        if global.json { return Output.json(minerals) }
        Output.table(
            ["ID", "NAME", "HS CODES", "LISTED BY"],
            minerals.map {
                [$0.id, $0.name, $0.hsCodes.isEmpty ? "-" : $0.hsCodes.joined(separator: " "), $0.sources.joined(separator: ", ")]
            })
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stream new and changed alerts and reserve reports as they arrive, until interrupted.",
        discussion: """
            When the node stops or restarts, watch says so on standard error and connects again as \
            soon as it is back (events in between are not replayed: see `alert list`). With \
            --no-reconnect it exits (status 69) instead.
            """)
    @OptionGroup var global: GlobalOptions

    @Flag(help: "Exit when the node stops, instead of waiting for it to come back.")
    var noReconnect = false

    @Option(help: ArgumentHelp("Only this kind of change: alert or reserve.", valueName: "kind"))
    var only: String?

    func run() throws {
        if !global.json { Self.notice("watching \(global.socketPath) (Ctrl-C to stop)") }
        // The first connection must work: a wrong socket path is an error, not a wait.
        try Exit.guarding { try stream() }
        var delay = 0.2
        while true {
            if noReconnect {
                FileHandle.standardError.write(Data("mineralctl: the node at \(global.socketPath) stopped; watch ends\n".utf8))
                throw ExitCode(Exit.unavailable)
            }
            Self.notice("lost the node at \(global.socketPath) (it stopped or restarted); reconnecting")
            while true {
                Thread.sleep(forTimeInterval: delay)
                do {
                    try stream(onConnected: {
                        Self.notice("watching \(global.socketPath) again; events while it was away are not replayed (see `mineralctl alert list`)")
                    })
                    delay = 0.2
                    break
                } catch {
                    switch error {
                    case .notRunning, .socket: delay = min(delay * 2, 5)
                    default: try Exit.guarding { throw error }  // says why, and exits
                    }
                }
            }
        }
    }

    /// Streams until the node ends the stream (or the connection drops).
    private func stream(onConnected: () -> Void = {}) throws(AdminClient.ClientError) {
        var announced = false
        do {
            try global.client.stream(
                AdminAPI.watch.target(query: [("type", only)]),
                onOpen: {
                    announced = true
                    onConnected()
                }
            ) { line in
                if global.json {
                    print(line)
                } else if let event = try? AdminJSON.decoder.decode(WatchEvent.self, from: Data(line.utf8)) {
                    print(Self.describe(event))
                }
                fflush(nil)
                return true
            }
        } catch .socket where announced {
            return  // dropped mid-stream (the node was killed): reconnect like after a clean end
        }
    }

    private static func notice(_ text: String) {
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }

    static func describe(_ event: WatchEvent) -> String {
        if let alert = event.alert {
            let state = alert.resolved ? "resolved" : alert.acknowledgedBy.isEmpty ? "open" : "acked by \(alert.acknowledgedBy.joined(separator: ","))"
            return "\(Output.time(alert.updatedAt))  ALERT    \(Output.severity(alert.severity)) \(alert.mineral) \(alert.category) "
                + "[\(state)] \(alert.summary)  (\(alert.id.prefix(12)) by \(alert.issuer))"
        }
        if let reserve = event.reserve {
            let site = reserve.site.isEmpty ? "" : " at \(reserve.site)"
            return
                "\(Output.time(reserve.asOf))  RESERVE  \(reserve.participant) \(reserve.mineral) \(reserve.quantity) \(reserve.unit)\(site)  (by \(reserve.reportedBy))"
        }
        return "\(event.type) from \(event.origin)"
    }
}

struct Proof: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The latest checkpoint: the same views signed by a node of every participant, verifiable offline.",
        discussion: """
            With --out DIR, writes per participant the signed message (statement context, a zero byte, the statement), \
            the signature and the certificate chain, and prints the openssl commands that verify them (README, "Proofs").
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Write the files an auditor verifies with openssl into this directory (created if missing).") var out: String?

    func run() throws {
        let proof = try Exit.guarding { try global.client.call(AdminAPI.proof) }
        if let out {
            try Exit.guarding {
                do { try write(proof, to: out) } catch let error as UsageError { throw error } catch {
                    throw UsageError(message: "cannot write the proof to \(out): \(error.localizedDescription)")
                }
            }
        }
        if global.json { return Output.json(proof) }
        Output.fields([
            ("entries", "\(proof.entries)"),
            ("vector", Output.vector(proof.versionVector)),
            ("view digest", proof.digest)
        ])
        print("")
        Output.table(
            ["PARTICIPANT", "NODE", "SIGNED AT", "ALGORITHM"], proof.statements.map { [$0.participant, $0.node, Output.time($0.signedAt), $0.algorithm] })
    }

    private func write(_ proof: ProofResponse, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var commands: [String] = []
        for statement in proof.statements {
            guard let bytes = Data(base64Encoded: statement.statement), let signature = Data(base64Encoded: statement.signature) else {
                throw UsageError(message: "the daemon sent a statement of \(statement.node) that is not base64")
            }
            let name = statement.node.replacingOccurrences(of: "/", with: "-")
            try (Data(proof.signatureContext.utf8) + [0] + bytes).write(to: URL(fileURLWithPath: "\(directory)/\(name).msg"))
            try bytes.write(to: URL(fileURLWithPath: "\(directory)/\(name).statement"))
            try signature.write(to: URL(fileURLWithPath: "\(directory)/\(name).sig"))
            try statement.certificateChain.write(toFile: "\(directory)/\(name).pem", atomically: true, encoding: .utf8)
            commands.append("openssl x509 -in \(name).pem -pubkey -noout > \(name).pub")
            commands.append(
                statement.algorithm == "ed25519"
                    ? "openssl pkeyutl -verify -pubin -inkey \(name).pub -rawin -in \(name).msg -sigfile \(name).sig"
                    : "openssl dgst -sha256 -verify \(name).pub -signature \(name).sig \(name).msg")
        }
        try (["set -e"] + commands).joined(separator: "\n").appending("\n").write(toFile: "\(directory)/verify.sh", atomically: true, encoding: .utf8)
        FileHandle.standardError.write(
            Data("wrote \(proof.statements.count) signed statements to \(directory); verify with: (cd \(directory) && sh verify.sh)\n".utf8))
    }
}
