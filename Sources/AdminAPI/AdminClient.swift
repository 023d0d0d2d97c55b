import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A blocking client of the daemon's admin socket, for mineralctl and the tests: HTTP/1.1
/// through SwiftNIO's codec over a Unix-domain channel (no HTTP parsing of our own). The daemon
/// answers one request per connection and closes it. Calls block the calling thread until the
/// answer is complete (or, for a stream, until it ends).
public struct AdminClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) { self.socketPath = socketPath }

    public struct Response: Sendable {
        public let status: Int
        public let body: Data
    }

    /// Why the daemon could not be asked, in words a person can act on.
    public enum ClientError: Error, Sendable, CustomStringConvertible {
        case notRunning(path: String)
        case permissionDenied(path: String)
        case socket(path: String, reason: String)
        case malformedResponse(String)
        case api(status: Int, ErrorResponse)

        public var description: String {
            switch self {
            case .notRunning(let path): "the node is not running (no daemon is listening on \(path); start mineral-syncd or pass --socket)"
            case .permissionDenied(let path): "permission denied on \(path): run as the node's user or a member of its group"
            case .socket(let path, let reason): "cannot talk to the node at \(path): \(reason)"
            case .malformedResponse(let reason): "the node sent a response that could not be read: \(reason)"
            case .api(_, let error): error.message
            }
        }
    }

    /// Calls an endpoint of `AdminAPI` that takes a body; `parameters` fill the path's
    /// `{names}`, `query` items without a value are left out.
    public func call<Request, Response>(
        _ endpoint: AdminEndpoint<Request, Response>, _ body: Request, parameters: [String: String] = [:],
        query: [(String, String?)] = []
    ) throws(ClientError) -> Response {
        let data: Data
        do { data = try AdminJSON.encoder.encode(body) } catch { throw .malformedResponse("could not encode the request: \(error)") }
        return try decode(try send(endpoint.method.rawValue, endpoint.target(parameters, query: query), body: data))
    }

    /// Calls an endpoint of `AdminAPI` that takes no body.
    public func call<Response>(
        _ endpoint: AdminEndpoint<NoBody, Response>, parameters: [String: String] = [:],
        query: [(String, String?)] = []
    ) throws(ClientError) -> Response {
        try decode(try send(endpoint.method.rawValue, endpoint.target(parameters, query: query), body: nil))
    }

    /// Streams an endpoint's events (watch) until the daemon ends the stream or `onEvent`
    /// returns false; a line that is not an event is passed to `onUnreadable`.
    public func stream<Event>(
        _ endpoint: AdminEndpoint<NoBody, Event>, query: [(String, String?)] = [], onOpen: () -> Void = {},
        onUnreadable: (String) -> Void = { _ in }, onEvent: (Event) -> Bool
    ) throws(ClientError) {
        try stream(endpoint.target(query: query), onOpen: onOpen) { line in
            guard let event = try? AdminJSON.decoder.decode(Event.self, from: Data(line.utf8)) else {
                onUnreadable(line)
                return true
            }
            return onEvent(event)
        }
    }

    public func get<T: Decodable>(_ path: String, as type: T.Type = T.self) throws(ClientError) -> T {
        try decode(try send("GET", path, body: nil))
    }

    public func post<T: Decodable>(_ path: String, _ body: some Encodable, as type: T.Type = T.self) throws(ClientError) -> T {
        let data: Data
        do { data = try AdminJSON.encoder.encode(body) } catch { throw .malformedResponse("could not encode the request: \(error)") }
        return try decode(try send("POST", path, body: data))
    }

    /// Sends a request and returns the whole response (any status).
    public func send(_ method: String, _ path: String, body: Data?) throws(ClientError) -> Response {
        let exchange = try open(method, path, body: body)
        defer { exchange.close() }
        var status: Int?
        var received = Data()
        while true {
            switch exchange.next() {
            case .head(let code): status = code
            case .body(let bytes): received.append(contentsOf: bytes.readableBytesView)
            case .end:
                guard let status else { throw .malformedResponse("the connection ended before a response") }
                return Response(status: status, body: received)
            case .failed(let reason):
                // A daemon that refused the request early (413) closes while the body is still
                // being sent: the response that arrived before is the answer.
                if let status { return Response(status: status, body: received) }
                throw .socket(path: socketPath, reason: reason)
            }
        }
    }

    /// Streams a response body line by line (watch) until the daemon ends it or `onLine`
    /// returns false. `onOpen` runs once the daemon has accepted the request (status 200).
    public func stream(_ path: String, onOpen: () -> Void = {}, onLine: (String) -> Bool) throws(ClientError) {
        let exchange = try open("GET", path, body: nil)
        defer { exchange.close() }
        var status: Int?
        var pending = ByteBuffer()
        while true {
            switch exchange.next() {
            case .head(let code):
                status = code
                if code == 200 { onOpen() }
            case .body(var bytes):
                pending.writeBuffer(&bytes)
                guard status == 200 else { continue }  // an error's body, read whole below
                if !pending.readLines(onLine) { return }
            case .end:
                guard let status else { throw .malformedResponse("the connection ended before a response") }
                if status != 200 { throw Self.apiError(status: status, body: Data(pending.readableBytesView)) }
                return
            case .failed(let reason):
                if let status, status != 200 { throw Self.apiError(status: status, body: Data(pending.readableBytesView)) }
                if status == 200 { return }  // the stream ended with its connection (the node stopped)
                throw .socket(path: socketPath, reason: reason)
            }
        }
    }

    /// The daemon's `{error, message}`, or a stand-in when the body is not one.
    static func apiError(status: Int, body: Data) -> ClientError {
        .api(
            status: status,
            (try? AdminJSON.decoder.decode(ErrorResponse.self, from: body))
                ?? ErrorResponse(error: "http-\(status)", message: "the node answered HTTP \(status)"))
    }

    private func decode<T: Decodable>(_ response: Response) throws(ClientError) -> T {
        guard (200..<300).contains(response.status) else { throw Self.apiError(status: response.status, body: response.body) }
        do { return try AdminJSON.decoder.decode(T.self, from: response.body) } catch {
            throw .malformedResponse("\(error)")
        }
    }

    /// Connects and sends the request; the answer is read from the exchange.
    private func open(_ method: String, _ path: String, body: Data?) throws(ClientError) -> Exchange {
        let exchange = Exchange()
        let channel: any Channel
        do {
            channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseReader(exchange: exchange))
                    }
                }
                .connect(unixDomainSocketPath: socketPath).wait()
        } catch let error as IOError {
            switch error.errnoCode {
            case ENOENT, ECONNREFUSED: throw .notRunning(path: socketPath)
            case EACCES, EPERM: throw .permissionDenied(path: socketPath)
            default: throw .socket(path: socketPath, reason: String(cString: strerror(error.errnoCode)))
            }
        } catch SocketAddressError.unixDomainSocketPathTooLong {
            throw .socket(path: socketPath, reason: "the path is longer than a Unix socket path may be (107 bytes)")
        } catch {
            throw .socket(path: socketPath, reason: "\(error)")
        }
        exchange.channel = channel
        var headers = HTTPHeaders([("Host", "localhost"), ("User-Agent", "mineralctl"), ("Connection", "close")])
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: "\(body.count)")
        }
        channel.write(
            HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: headers)),
            promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        // A write that fails (the daemon closed early) is not the answer: the response is.
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return exchange
    }
}

/// What arrives on one connection, handed from the event loop to the calling thread in order.
private final class Exchange: @unchecked Sendable {
    enum Event {
        case head(Int)
        case body(ByteBuffer)
        case end
        case failed(String)
    }

    private let condition = NSCondition()
    private var events: [Event] = []
    private var finished = false
    /// Set once connected, before any event is read; closed by the reader when it is done.
    var channel: (any Channel)?

    /// Called on the event loop. Nothing more is taken after the end or a failure.
    func post(_ event: Event) {
        condition.lock()
        defer { condition.unlock() }
        guard !finished else { return }
        switch event {
        case .end, .failed: finished = true
        default: break
        }
        events.append(event)
        condition.signal()
    }

    /// Blocks until the next event.
    func next() -> Event {
        condition.lock()
        defer { condition.unlock() }
        while events.isEmpty { condition.wait() }
        return events.removeFirst()
    }

    func close() { channel?.close(promise: nil) }
}

/// Hands the response's parts to the exchange; a connection that ends or fails ends it.
private final class ResponseReader: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let exchange: Exchange

    init(exchange: Exchange) { self.exchange = exchange }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): exchange.post(.head(Int(head.status.code)))
        case .body(let bytes): exchange.post(.body(bytes))
        case .end: exchange.post(.end)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = (error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(error)"
        exchange.post(.failed(reason))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        exchange.post(.failed("the node closed the connection"))
        context.fireChannelInactive()
    }
}

extension ByteBuffer {
    /// Hands each complete line (without its newline; empty lines skipped) to `onLine`, reading
    /// each once where it lies (a batch of a catch-up is one large chunk), and keeps the rest of
    /// a line that has not ended yet. Returns false as soon as `onLine` does.
    package mutating func readLines(_ onLine: (String) -> Bool) -> Bool {
        while let newline = readableBytesView.firstIndex(of: 0x0A) {
            let line = readString(length: newline - readerIndex) ?? ""
            moveReaderIndex(forwardBy: 1)
            if !line.isEmpty, !onLine(line) { return false }
        }
        discardReadBytes()
        return true
    }
}
