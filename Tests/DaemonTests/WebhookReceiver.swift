import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport

/// A webhook endpoint for tests: an HTTP/1 server on 127.0.0.1 that records each POST (when it
/// arrived, its headers and body) and answers with `answer` — 204, an error, or never.
final class WebhookReceiver: Sendable {
    struct Request: Sendable {
        let at: Date
        let path: String
        let headers: [String: String]
        let body: Data
    }

    enum Answer: Sendable {
        case status(Int)
        case never
    }

    private let channel: any Channel
    private let state = NIOLockedValueBox<(requests: [Request], waiters: [(Int, CheckedContinuation<[Request], Never>)])>(([], []))
    let answer = NIOLockedValueBox<Answer>(.status(204))
    var port: Int { channel.localAddress?.port ?? 0 }

    init() async throws {
        let box = state
        let answer = answer
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(record: { request in
                            let resumed = box.withLockedValue { state -> [(CheckedContinuation<[Request], Never>, [Request])] in
                                state.requests.append(request)
                                let ready = state.waiters.filter { $0.0 <= state.requests.count }
                                state.waiters.removeAll { $0.0 <= state.requests.count }
                                return ready.map { ($0.1, state.requests) }
                            }
                            for (waiter, requests) in resumed { waiter.resume(returning: requests) }
                            return answer.withLockedValue { $0 }
                        }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var requests: [Request] { state.withLockedValue { $0.requests } }

    /// Returns once `count` requests have arrived (all of them, in order); throws after `seconds`.
    func waitFor(_ count: Int, seconds: Double = 30) async throws -> [Request] {
        try await within(seconds, "\(count) webhook requests") { [self] in await arrived(count) }
    }

    private func arrived(_ count: Int) async -> [Request] {
        await withCheckedContinuation { continuation in
            let now = state.withLockedValue { state -> [Request]? in
                if state.requests.count >= count { return state.requests }
                state.waiters.append((count, continuation))
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    func close() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let record: @Sendable (Request) -> Answer
        var head: HTTPRequestHead?
        var body = Data()

        init(record: @escaping @Sendable (Request) -> Answer) { self.record = record }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = Data()
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head else { return }
                let headers = Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
                switch record(Request(at: Date(), path: head.uri, headers: headers, body: body)) {
                case .never: return
                case .status(let code):
                    var response = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code))
                    response.headers.add(name: "Content-Length", value: "0")
                    response.headers.add(name: "Connection", value: "close")
                    context.write(wrapOutboundOut(.head(response)), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
                }
            }
        }
    }
}
