import AdminAPI
import ArgumentParser
import Foundation
import HTTPServing
import NIOCore
import NIOPosix

/// `mineralctl dashboard`: serves the read-only web dashboard from the admin socket's data.
/// Whoever may use the socket may start it, and it shows the node to whoever opens the address
/// it prints (that address carries a key); the daemon opens no port for it. Loopback by default.
struct Dashboard: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a read-only web dashboard of this node (alerts, reserves against targets, totals, peers, security events).",
        discussion: """
            The page and everything it uses come from mineralctl itself: it works offline. It reads the
            node through the admin socket, so it shows what `mineralctl` shows, live. Open the address
            it prints: it carries a key, without which the dashboard shows nothing. Ctrl-C stops it.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Where to serve it. Anyone who can reach a non-loopback address sees the registry.", valueName: "host:port"))
    var listen = "127.0.0.1:8080"

    func validate() throws {
        guard Self.address(listen) != nil else { throw ValidationError("--listen \"\(listen)\" must be host:port, e.g. 127.0.0.1:8080 or [::1]:8080") }
    }

    func run() throws {
        guard let (host, port) = Self.address(listen) else { throw ExitCode(Exit.dataError) }
        let client = global.client
        // A node that does not answer is said so now, not by a page of errors.
        _ = try Exit.guarding { try client.call(AdminAPI.status) }
        if !DashboardServer.isLoopback(host) {
            FileHandle.standardError.write(
                Data("warning: serving on \(host), not loopback: anyone who can reach it sees this node's registry (read-only)\n".utf8))
        }
        let server = DashboardServer(client: client, listenHost: host)
        let channel: any Channel
        do {
            channel = try Self.waiting {
                try await HTTPServer.start(.tcp(host: host, port: port), group: MultiThreadedEventLoopGroup.singleton, maximumBodyBytes: 0) {
                    await server.respond(to: $0)
                }
            }
        } catch {
            FileHandle.standardError.write(Data("mineralctl: cannot serve the dashboard on \(listen): \(HTTPServer.reason(error))\n".utf8))
            throw ExitCode(Exit.failure)
        }
        let bound = channel.localAddress?.port ?? port
        server.allow(port: bound)
        let shown = host.contains(":") ? "[\(host)]" : host
        print("dashboard: http://\(shown):\(bound)/?key=\(server.key)  (read-only, from the node at \(global.socketPath); Ctrl-C to stop)")
        print("The address carries this run's key: whoever has it sees the node's registry. A new run makes a new key.")
        fflush(nil)
        try channel.closeFuture.wait()
    }

    static func address(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        return (host, port)
    }

    /// Runs async work from this synchronous command and waits for it.
    static func waiting<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let semaphore = DispatchSemaphore(value: 0)
        let result = LockedResult<T>()
        Task {
            do { result.set(.success(try await body())) } catch { result.set(.failure(error)) }
            semaphore.signal()
        }
        semaphore.wait()
        return try result.get()
    }
}

private final class LockedResult<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, any Error>?
    func set(_ result: Result<T, any Error>) { lock.withLock { value = result } }
    func get() throws -> T { try lock.withLock { value! }.get() }
}
