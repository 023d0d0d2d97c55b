import AdminAPI
import Foundation
import HTTPServing
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// What `mineralctl dashboard` answers: the page's own files, the admin API's read-only
/// endpoints under `/api/`, and the node's changes as server-sent events (`/api/events`).
/// Only GET; only requests addressed to this server by name (a page elsewhere cannot reach it
/// by re-pointing a domain at 127.0.0.1); a strict content security policy.
final class DashboardServer: Sendable {
    let client: AdminClient
    private let listenHost: String
    private let allowedHosts = NIOLockedValueBox<Set<String>>([])
    private let streams = NIOLockedValueBox(0)
    /// Event streams open at once (each holds a thread reading the node's watch stream).
    static let maximumStreams = 16

    /// The admin endpoints the page reads.
    static let readable: [String: String] = [
        "status": AdminAPI.status.target(), "alerts": AdminAPI.alerts.target(), "reserves": AdminAPI.reserves.target(),
        "peers": AdminAPI.peers.target(), "targets": AdminAPI.targets.target(), "minerals": AdminAPI.minerals.target(),
    ]

    static let securityHeaders: [(String, String)] = [
        ("content-security-policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-resource-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
    ]

    init(client: AdminClient, listenHost: String) {
        self.client = client
        self.listenHost = listenHost
    }

    /// The names this server answers to, once its port is known.
    func allow(port: Int) {
        var hosts: Set<String> = ["127.0.0.1:\(port)", "localhost:\(port)", "[::1]:\(port)"]
        hosts.insert(listenHost.contains(":") ? "[\(listenHost)]:\(port)" : "\(listenHost):\(port)")
        allowedHosts.withLockedValue { $0 = hosts }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD else {
            return Self.error(.methodNotAllowed, "the dashboard is read-only: GET only", extra: [("allow", "GET, HEAD")])
        }
        let host = request.headers.first(name: "host")?.lowercased() ?? ""
        guard allowedHosts.withLockedValue({ $0.contains(host) }) else {
            return Self.error(.misdirectedRequest, "this dashboard answers to \(allowedHosts.withLockedValue { $0.sorted().joined(separator: ", ") }) only")
        }
        if let asset = DashboardAssets.files[request.path] {
            return HTTPResponse(contentType: asset.contentType, body: ByteBuffer(string: asset.body),
                                headers: Self.securityHeaders + [("cache-control", "no-cache")])
        }
        // Browsers ask for it unprompted; the page has none.
        if request.path == "/favicon.ico" { return HTTPResponse(status: .noContent, body: ByteBuffer(), headers: Self.securityHeaders) }
        guard request.path.hasPrefix("/api/") else { return Self.error(.notFound, "no such page: \(request.path)") }
        let name = String(request.path.dropFirst("/api/".count))
        if name == "events" { return events() }
        guard let target = Self.readable[name] else {
            return Self.error(.notFound, "no such data: \(name) (one of events, \(Self.readable.keys.sorted().joined(separator: ", ")))")
        }
        let client = client
        do {
            let answer = try await NIOThreadPool.singleton.runIfActive { try client.send("GET", target, body: nil) }
            return HTTPResponse(status: HTTPResponseStatus(statusCode: answer.status), body: ByteBuffer(bytes: answer.body),
                                headers: Self.securityHeaders + [("cache-control", "no-store")])
        } catch let error as AdminClient.ClientError {
            return Self.error(.serviceUnavailable, error.description)
        } catch {
            return Self.error(.serviceUnavailable, "\(error)")
        }
    }

    /// The node's `watch` stream as server-sent events: each change one `data:` line (a
    /// `WatchEvent`), a comment every 15 s so that proxies and the browser keep the stream, and
    /// an `unavailable` event when the node goes away (the browser then reconnects by itself).
    private func events() -> HTTPResponse {
        let admitted = streams.withLockedValue { open -> Bool in
            guard open < Self.maximumStreams else { return false }
            open += 1
            return true
        }
        guard admitted else { return Self.error(.tooManyRequests, "\(Self.maximumStreams) event streams are open already: close a dashboard tab") }
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(1_000))
        let stopped = NIOLockedValueBox(false)
        let (client, streams) = (client, streams)
        let keepalive = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(15))
                continuation.yield(ByteBuffer(string: ": keepalive\n\n"))
            }
        }
        continuation.onTermination = { _ in
            stopped.withLockedValue { $0 = true }
            keepalive.cancel()
        }
        // The admin client blocks: the stream is read on a thread of its own, which ends at the
        // node's next change after the browser left (or when the node stops).
        Thread.detachNewThread {
            defer {
                streams.withLockedValue { $0 -= 1 }
                continuation.finish()
            }
            continuation.yield(ByteBuffer(string: "retry: 2000\n\n"))
            do {
                try client.stream(AdminAPI.watch.target(), onOpen: { continuation.yield(ByteBuffer(string: "event: open\ndata: {}\n\n")) }) { line in
                    guard !stopped.withLockedValue({ $0 }) else { return false }
                    continuation.yield(ByteBuffer(string: "data: \(line)\n\n"))
                    return true
                }
            } catch {
                let message = (try? String(decoding: AdminJSON.encoder.encode(["message": "\(error)"]), as: UTF8.self)) ?? "{}"
                continuation.yield(ByteBuffer(string: "event: unavailable\ndata: \(message)\n\n"))
            }
        }
        return HTTPResponse(contentType: "text/event-stream", stream: stream, headers: Self.securityHeaders + [("cache-control", "no-cache")])
    }

    static func error(_ status: HTTPResponseStatus, _ message: String, extra: [(String, String)] = []) -> HTTPResponse {
        let body = (try? AdminJSON.encoder.encode(ErrorResponse(error: "dashboard", message: message))) ?? Data()
        return HTTPResponse(status: status, body: ByteBuffer(bytes: body), headers: securityHeaders + extra)
    }
}
