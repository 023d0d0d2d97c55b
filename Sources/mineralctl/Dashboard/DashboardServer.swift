import AdminAPI
import Foundation
import HTTPServing
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// What `mineralctl dashboard` answers: the page's own files, the admin API's read-only
/// endpoints under `/api/`, and the node's changes as server-sent events (`/api/events`).
///
/// Only to whoever opened the address it printed: that address carries a random key, which the
/// first request exchanges for a cookie (HttpOnly, SameSite=Lax: a page elsewhere cannot make
/// the browser send it with a fetch or an event stream, and an operator following a link to
/// the printed address still gets in); every other request needs the cookie. So another local
/// user, or a page in the operator's browser, sees nothing though it can reach the port (the
/// admin socket's permissions do not reach a TCP port). On loopback, only requests addressed
/// to it by name (a page elsewhere cannot re-point a domain at 127.0.0.1). Only GET; a strict
/// content security policy.
final class DashboardServer: Sendable {
    let client: AdminClient
    /// The key in the printed address, and the cookie's value.
    let key: String
    static let cookie = "mineralsync-dashboard"
    private let listenHost: String
    private let allowedHosts = NIOLockedValueBox<Set<String>>([])
    private let streams = NIOLockedValueBox(0)
    /// Event streams open at once (each holds a thread reading the node's watch stream).
    static let maximumStreams = 16

    /// The admin endpoints the page reads.
    static let readable: [String: String] = [
        "status": AdminAPI.status.target(), "alerts": AdminAPI.alerts.target(), "reserves": AdminAPI.reserves.target(),
        "peers": AdminAPI.peers.target(), "targets": AdminAPI.targets.target(), "minerals": AdminAPI.minerals.target()
    ]

    static let securityHeaders: [(String, String)] = [
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-resource-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin")
    ]

    init(client: AdminClient, listenHost: String) {
        self.client = client
        self.listenHost = listenHost
        var generator = SystemRandomNumberGenerator()
        key = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The names this server answers to on loopback, once its port is known (browsers leave
    /// port 80 out). Elsewhere any name is taken: the key is what guards it there.
    func allow(port: Int) {
        var hosts: Set<String> = []
        for name in ["127.0.0.1", "localhost", "[::1]", listenHost.contains(":") ? "[\(listenHost)]" : listenHost] {
            hosts.insert("\(name):\(port)")
            if port == 80 { hosts.insert(name) }
        }
        allowedHosts.withLockedValue { $0 = hosts }
    }

    static func cookies(_ request: HTTPRequest) -> [(name: String, value: String)] {
        request.headers["cookie"].flatMap { $0.split(separator: ";") }.compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
    }

    /// Compares in time that does not depend on where the texts differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD else {
            return Self.error(.methodNotAllowed, "the dashboard is read-only: GET only", extra: [("allow", "GET, HEAD")])
        }
        let host = request.headers.first(name: "host")?.lowercased() ?? ""
        guard !Self.isLoopback(listenHost) || allowedHosts.withLockedValue({ $0.contains(host) }) else {
            return Self.error(.misdirectedRequest, "this dashboard answers to \(allowedHosts.withLockedValue { $0.sorted().joined(separator: ", ") }) only")
        }
        // Browsers ask for it unprompted; the page has none.
        if request.path == "/favicon.ico" { return HTTPResponse(status: .noContent, body: ByteBuffer(), headers: Self.securityHeaders) }
        if let offered = request.query["key"] {
            guard Self.same(offered, key) else {
                return Self.error(.forbidden, "this key does not open this dashboard: use the address mineralctl dashboard printed")
            }
            return HTTPResponse(
                status: .seeOther, body: ByteBuffer(),
                headers: Self.securityHeaders + [
                    ("location", "/"), ("set-cookie", "\(Self.cookie)=\(key); HttpOnly; SameSite=Lax; Path=/"), ("cache-control", "no-store")
                ])
        }
        guard Self.cookies(request).contains(where: { $0.name == Self.cookie && Self.same($0.value, key) }) else {
            return Self.error(.unauthorized, "open the address mineralctl dashboard printed: it carries the key to this dashboard")
        }
        if let asset = DashboardAssets.files[request.path] {
            return HTTPResponse(
                contentType: asset.contentType, body: ByteBuffer(string: asset.body),
                headers: Self.securityHeaders + [("cache-control", "no-cache")])
        }
        guard request.path.hasPrefix("/api/") else { return Self.error(.notFound, "no such page: \(request.path)") }
        let name = String(request.path.dropFirst("/api/".count))
        if name == "events" { return events() }
        guard let target = Self.readable[name] else {
            return Self.error(.notFound, "no such data: \(name) (one of events, \(Self.readable.keys.sorted().joined(separator: ", ")))")
        }
        let client = client
        do {
            let answer = try await NIOThreadPool.singleton.runIfActive { try client.send("GET", target, body: nil) }
            return HTTPResponse(
                status: HTTPResponseStatus(statusCode: answer.status), body: ByteBuffer(bytes: answer.body),
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
    /// A browser that leaves closes the connection to the node at once.
    private func events() -> HTTPResponse {
        let admitted = streams.withLockedValue { open -> Bool in
            guard open < Self.maximumStreams else { return false }
            open += 1
            return true
        }
        guard admitted else { return Self.error(.tooManyRequests, "\(Self.maximumStreams) event streams are open already: close a dashboard tab") }
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(1_000))
        let (socket, streams) = (client.socketPath, streams)
        let relay = Task {
            defer {
                streams.withLockedValue { $0 -= 1 }
                continuation.finish()
            }
            continuation.yield(ByteBuffer(string: "retry: 2000\n\n"))
            do {
                try await Self.watch(socket: socket, onOpen: { continuation.yield(ByteBuffer(string: "event: open\ndata: {}\n\n")) }) { line in
                    continuation.yield(ByteBuffer(string: "data: \(line)\n\n"))
                }
            } catch  where !Task.isCancelled {
                let message = (try? String(decoding: AdminJSON.encoder.encode(["message": "the node's change stream ended: \(error)"]), as: UTF8.self)) ?? "{}"
                continuation.yield(ByteBuffer(string: "event: unavailable\ndata: \(message)\n\n"))
            } catch {}
        }
        let keepalive = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(15))
                continuation.yield(ByteBuffer(string: ": keepalive\n\n"))
            }
        }
        continuation.onTermination = { _ in
            relay.cancel()
            keepalive.cancel()
        }
        return HTTPResponse(contentType: "text/event-stream", stream: stream, headers: Self.securityHeaders + [("cache-control", "no-cache")])
    }

    /// Reads `GET /v1/watch` on the admin socket, one line at a time, until the node ends it or
    /// the task is cancelled (which closes the connection).
    static func watch(socket: String, onOpen: @escaping @Sendable () -> Void, onLine: @escaping @Sendable (String) -> Void) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socket) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        try await withTaskCancellationHandler {
            try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: AdminAPI.watch.target())
                head.headers.add(name: "Host", value: "localhost")
                try await outbound.write(.head(head))
                try await outbound.write(.end(nil))
                var pending = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let response):
                        guard response.status == .ok else { throw WatchRefused(status: Int(response.status.code)) }
                        onOpen()
                    case .body(var bytes):
                        pending.writeBuffer(&bytes)
                        _ = pending.readLines { line in
                            onLine(line)
                            return true
                        }
                    case .end:
                        return
                    }
                }
            }
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }

    struct WatchRefused: Error, CustomStringConvertible {
        let status: Int
        var description: String { "the node answered HTTP \(status)" }
    }

    static func error(_ status: HTTPResponseStatus, _ message: String, extra: [(String, String)] = []) -> HTTPResponse {
        let body = (try? AdminJSON.encoder.encode(ErrorResponse(error: "dashboard", message: message))) ?? Data()
        return HTTPResponse(status: status, body: ByteBuffer(bytes: body), headers: securityHeaders + extra)
    }
}
