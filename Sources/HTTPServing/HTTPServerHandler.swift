import NIOCore
import NIOHTTP1

/// Collects one request (refusing bodies over the limit with 413), hands it to the route
/// handler off the event loop, writes the response, and closes the connection. One request per
/// connection keeps the admin server simple; the CLI opens a connection per command anyway.
public final class HTTPServerHandler: ChannelInboundHandler {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias OutboundOut = HTTPServerResponsePart

    public typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

    private let maximumBodyBytes: Int
    private let handler: Handler
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var refused = false
    private var task: Task<Void, Never>?

    init(maximumBodyBytes: Int, handler: @escaping Handler) {
        self.maximumBodyBytes = maximumBodyBytes
        self.handler = handler
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maximumBodyBytes {
                refuse(context)
            }
        case .body(var chunk):
            guard body.readableBytes + chunk.readableBytes <= maximumBodyBytes else { return refuse(context) }
            body.writeBuffer(&chunk)
        case .end:
            guard let head, task == nil else { return }
            let request = HTTPRequest(head: head, body: body)
            let handler = self.handler
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            task = Self.respond(to: request, with: handler, bound: bound, loop: loop)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        context.fireChannelInactive()
    }

    private func refuse(_ context: ChannelHandlerContext) {
        refused = true
        let message = "request body is larger than \(maximumBodyBytes) bytes"
        var buffer = ByteBuffer()
        buffer.writeString(#"{"error":"too-large","message":"\#(message)"}"# + "\n")
        writeHead(.payloadTooLarge, contentType: "application/json", length: buffer.readableBytes, context)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private func writeHead(_ status: HTTPResponseStatus, contentType: String, length: Int?, extra: [(String, String)] = [], _ context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("content-type", contentType), ("connection", "close")] + extra)
        if let length { headers.add(name: "content-length", value: String(length)) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
    }

    private static func respond(
        to request: HTTPRequest, with handler: @escaping Handler,
        bound: NIOLoopBound<(HTTPServerHandler, ChannelHandlerContext)>, loop: any EventLoop
    ) -> Task<Void, Never> {
        Task {
            let response = await handler(request)
            await send(response, bound: bound, loop: loop)
        }
    }

    private static func send(
        _ response: HTTPResponse, bound: NIOLoopBound<(HTTPServerHandler, ChannelHandlerContext)>,
        loop: any EventLoop
    ) async {
        switch response.body {
        case .full(let buffer):
            loop.execute {
                let (handler, context) = bound.value
                handler.writeHead(response.status, contentType: response.contentType, length: buffer.readableBytes, extra: response.headers, context)
                context.write(handler.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        case .stream(let chunks):
            let started = loop.submit {
                let (handler, context) = bound.value
                handler.writeHead(response.status, contentType: response.contentType, length: nil, extra: response.headers, context)
                context.flush()
            }
            _ = try? await started.get()
            for await chunk in chunks {
                if Task.isCancelled { break }
                let written = loop.flatSubmit {
                    let (handler, context) = bound.value
                    return context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(chunk))))
                }
                // Back-pressure: the next chunk waits until this one reached the socket.
                guard (try? await written.get()) != nil else { break }
            }
            loop.execute {
                let (handler, context) = bound.value
                context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}
