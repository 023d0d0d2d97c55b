import Foundation
import NIOCore
import NIOPosix
import OpenSSLCrypto
@_spi(Testing) import OpenSSLTLS
import TestSupport
import Testing

/// Our TLS against two other implementations: the openssl command-line tools (s_client,
/// s_server) and GnuTLS (gnutls-cli), with certificates made in the test.
@Suite(.serialized) struct InteropTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let fixture: TLSFixture
    let files: TemporaryDirectory
    let caFile: String
    let serverNode: TestNode

    init() throws {
        let fixture = try TLSFixture()
        self.fixture = fixture
        files = try TemporaryDirectory(prefix: "tls")
        caFile = try files.write("anchors.pem", ["EU", "US", "JP"].map { fixture.pki.authority($0).certificate.pemRepresentation }.joined())
        serverNode = try fixture.pki.node("JP", "tokyo-1")
    }

    @Test func serverAcceptsOpenSSLClientWithAValidCertificate() throws {
        let listener = try LoopbackServer(group: group, context: try fixture.context(.server, serverNode), mode: .reply("welcome\n"))
        defer { try? listener.stop() }
        let (certificate, key) = try files.node(try fixture.pki.node("EU", "brussels-1"), named: "eu")
        let run = try ToolRun(
            [
                "openssl", "s_client", "-connect", "127.0.0.1:\(listener.port)", "-tls1_3", "-quiet",
                "-cert", certificate, "-key", key, "-CAfile", caFile, "-alpn", "mineral-sync/1", "-verify_quiet"
            ],
            input: "hello\n")
        let connection = try listener.closedConnection(1)
        #expect(connection.recorder.identity?.peer.identity.node == "brussels-1")
        #expect(connection.recorder.received == Array("hello\n".utf8))
        #expect(run.output.contains("welcome"))
    }

    @Test func serverRefusesOpenSSLClientsWithoutACertificateOrWithTheWrongALPN() throws {
        let listener = try LoopbackServer(group: group, context: try fixture.context(.server, serverNode), mode: .reply("welcome\n"))
        defer { try? listener.stop() }
        let anonymous = try ToolRun(
            [
                "openssl", "s_client", "-connect", "127.0.0.1:\(listener.port)", "-tls1_3", "-quiet",
                "-CAfile", caFile, "-alpn", "mineral-sync/1"
            ], input: "hello\n")
        let first = try listener.closedConnection(1).recorder
        #expect(first.tlsErrors == [.noPeerCertificate])
        #expect(first.received.isEmpty && !anonymous.output.contains("welcome"))

        let (certificate, key) = try files.node(try fixture.pki.node("EU", "eu-1"), named: "eu1")
        let wrongALPN = try ToolRun(
            [
                "openssl", "s_client", "-connect", "127.0.0.1:\(listener.port)", "-tls1_3", "-quiet",
                "-cert", certificate, "-key", key, "-CAfile", caFile, "-alpn", "h2"
            ], input: "hello\n")
        let second = try listener.closedConnection(2).recorder
        #expect(second.tlsErrors == [.applicationProtocolMismatch(selected: nil)])
        #expect(!wrongALPN.output.contains("welcome"))

        let legacy = try ToolRun(
            [
                "openssl", "s_client", "-connect", "127.0.0.1:\(listener.port)", "-tls1_2", "-quiet",
                "-cert", certificate, "-key", key, "-CAfile", caFile, "-alpn", "mineral-sync/1"
            ], input: "hello\n")
        let third = try listener.closedConnection(3).recorder
        guard case .protocolVersionRefused = third.tlsErrors.first else {
            Issue.record("unexpected \(third.tlsErrors)")
            return
        }
        #expect(!legacy.output.contains("welcome"))
    }

    @Test func serverAcceptsGnuTLSClientAndRefusesOneFromAnotherAuthority() throws {
        let listener = try LoopbackServer(group: group, context: try fixture.context(.server, serverNode), mode: .reply("welcome\n"))
        defer { try? listener.stop() }
        let (certificate, key) = try files.node(try fixture.pki.node("US", "washington-1"), named: "us")
        // gnutls-cli checks the server name against the host; our certificates name nodes by
        // URI, not DNS, so it trusts our CA file but skips the host-name check (--insecure is
        // the only switch for that). What is under test is our server's verification of GnuTLS.
        let arguments = { (cert: String, key: String) in
            [
                "gnutls-cli", "--insecure", "--x509cafile", self.caFile, "--x509certfile", cert, "--x509keyfile", key,
                "--alpn", "mineral-sync/1", "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "-p", "\(listener.port)", "127.0.0.1"
            ]
        }
        let good = try ToolRun(arguments(certificate, key), input: "hello\n")
        let accepted = try listener.closedConnection(1).recorder
        #expect(accepted.identity?.peer.identity.node == "washington-1")
        #expect(accepted.received == Array("hello\n".utf8))
        #expect(good.output.contains("welcome"))

        let forged = try files.node(try fixture.pki.node("EU", "eu-5", issuedBy: "US"), named: "forged")
        let refused = try ToolRun(arguments(forged.certificate, forged.key), input: "hello\n")
        let rejected = try listener.closedConnection(2).recorder
        #expect(rejected.tlsErrors == [.peerCertificateRejected(.issuedByAnotherParticipant(claimed: "EU", issuer: "US"))])
        #expect(rejected.received.isEmpty && !refused.output.contains("welcome"))
    }

    @Test func clientConnectsToOpenSSLServerRequiringACertificate() throws {
        let (certificate, key) = try files.node(serverNode, named: "server")
        let server = try OpenSSLServer(certificate: certificate, key: key, caFile: caFile, reply: "from s_server\n")
        defer { server.stop() }
        let client = try fixture.pki.node("EU", "brussels-1")
        let view = try runClient(
            group: group, port: server.port, context: try fixture.context(.client, client), greeting: "hello s_server\n",
            closeAfter: "from s_server\n")
        #expect(view.identity?.peer.identity.node == "tokyo-1")
        #expect(view.tlsErrors.isEmpty)
        #expect(String(decoding: view.received, as: UTF8.self) == "from s_server\n")
        #expect(try server.waitForOutput(containing: "hello s_server"))
    }

    @Test func clientWithoutCertificateIsRefusedByOpenSSLServer() throws {
        let (certificate, key) = try files.node(serverNode, named: "server")
        let server = try OpenSSLServer(certificate: certificate, key: key, caFile: caFile, reply: "from s_server\n")
        defer { server.stop() }
        let view = try runClient(
            group: group, port: server.port,
            context: try fixture.context(.client, try fixture.pki.node("EU", "eu-1")) { $0.omitCertificate = true },
            greeting: "secret\n")
        guard case .alertReceived(let alert) = view.tlsErrors.first else {
            Issue.record("unexpected \(view.tlsErrors)")
            return
        }
        #expect(alert.contains("certificate required"), "\(alert)")
        #expect(view.identity?.peer.identity.node == "tokyo-1", "the client did verify the server before it was refused")
        #expect(view.received.isEmpty)
        // What matters most: the greeting written before the refusal never reached s_server.
        #expect(try !server.waitForOutput(containing: "secret", exitOnly: true))
    }

    @Test func clientRefusesOpenSSLServerWithACertificateFromAnUnknownAuthority() throws {
        let rogue = try TestPKI(participants: ["JP"], authorityName: { "\($0) Rogue CA" })
        let (certificate, key) = try files.node(try rogue.node("JP", "tokyo-1"), named: "rogue")
        let server = try OpenSSLServer(certificate: certificate, key: key, caFile: caFile, reply: "from s_server\n")
        defer { server.stop() }
        let view = try runClient(
            group: group, port: server.port, context: try fixture.context(.client, try fixture.pki.node("EU", "eu-1")),
            greeting: "secret\n")
        #expect(view.tlsErrors == [.peerCertificateRejected(.unknownAuthority(issuer: "CN=JP Rogue CA"))])
        #expect(view.received.isEmpty)
        #expect(try !server.waitForOutput(containing: "secret", exitOnly: true))
    }
}

/// Runs a command-line tool to completion with `input` on its standard input (kept open until the
/// tool exits, as an interactive user would), bounded by a deadline so a hung tool fails the test
/// instead of hanging it.
struct ToolRun {
    let output: String
    let status: Int32

    init(_ arguments: [String], input: String, deadline: TimeInterval = 20) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        guard Self.isInstalled(arguments[0]) else { throw ToolMissing(tool: arguments[0]) }
        try process.run()
        // A tool that refuses the connection may exit before reading its input: a broken pipe
        // here is part of what is tested, not a reason to crash the test process.
        try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        let collected = OutputCollector(stdout.fileHandleForReading)
        if finished.wait(timeout: .now() + deadline) == .timedOut {
            process.terminate()
            finished.wait()
        }
        try? stdin.fileHandleForWriting.close()
        output = collected.finish()
        status = process.terminationStatus
    }
}

extension ToolRun {
    /// Whether `tool` is on PATH (CI installs it; see `.ci/run`).
    static func isInstalled(_ tool: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }
}

struct ToolMissing: Error, CustomStringConvertible {
    let tool: String
    var description: String { "\(tool) is not installed: run .ci/run once (it installs what the interop tests use), or apt-get install it" }
}

/// Reads a pipe on a background thread until EOF.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    private var waiters: [(String, DispatchSemaphore)] = []

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                let ready: [DispatchSemaphore] = lock.withLock {
                    data.append(chunk)
                    let text = String(decoding: data, as: UTF8.self)
                    let due = waiters.filter { text.contains($0.0) }.map(\.1)
                    waiters.removeAll { text.contains($0.0) }
                    return due
                }
                ready.forEach { $0.signal() }
            }
            let remaining = lock.withLock {
                let all = waiters.map(\.1)
                waiters = []
                return all
            }
            remaining.forEach { $0.signal() }
            done.signal()
        }
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    /// Waits until the output contains `needle` or the pipe closes; true when it contains it.
    func wait(for needle: String, deadline: TimeInterval = 20) -> Bool {
        let semaphore = DispatchSemaphore(value: 0)
        let already = lock.withLock { () -> Bool in
            if String(decoding: data, as: UTF8.self).contains(needle) { return true }
            waiters.append((needle, semaphore))
            return false
        }
        if !already { _ = semaphore.wait(timeout: .now() + deadline) }
        return text.contains(needle)
    }

    func finish() -> String {
        _ = done.wait(timeout: .now() + 5)
        return text
    }
}

/// `openssl s_server` requiring a TLS 1.3 client certificate, on a free loopback port.
final class OpenSSLServer {
    let process = Process()
    let port: Int
    private let stdin = Pipe()
    private let collector: OutputCollector

    init(certificate: String, key: String, caFile: String, reply: String) throws {
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-tls1_3", "-Verify", "1",
            "-cert", certificate, "-key", key, "-CAfile", caFile, "-alpn", "mineral-sync/1", "-naccept", "1"
        ]
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        collector = OutputCollector(stdout.fileHandleForReading)
        guard collector.wait(for: "ACCEPT") else { throw Failure(output: collector.text) }
        // s_server sends whatever arrives on its standard input once a client is connected.
        try? stdin.fileHandleForWriting.write(contentsOf: Data(reply.utf8))
    }

    struct Failure: Error, CustomStringConvertible {
        let output: String
        var description: String { "openssl s_server did not start: \(output)" }
    }

    /// True when s_server printed `needle` (with `exitOnly`, looks only once s_server has exited).
    func waitForOutput(containing needle: String, exitOnly: Bool = false) throws -> Bool {
        if exitOnly {
            stop()
            return collector.finish().contains(needle)
        }
        return collector.wait(for: needle)
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// Binds port 0 to learn a free port, then releases it for s_server.
    static func freePort() throws -> Int {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let channel = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        return port
    }
}
