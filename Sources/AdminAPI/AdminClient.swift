import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 client for the daemon's admin Unix socket, used by mineralctl and
/// the tests. The daemon answers one request per connection and closes it, so a response is
/// everything read until end of file.
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
    public func call<Request, Response>(_ endpoint: AdminEndpoint<Request, Response>, _ body: Request, parameters: [String: String] = [:],
                                        query: [(String, String?)] = []) throws(ClientError) -> Response {
        let data: Data
        do { data = try AdminJSON.encoder.encode(body) } catch { throw .malformedResponse("could not encode the request: \(error)") }
        return try decode(try send(endpoint.method.rawValue, endpoint.target(parameters, query: query), body: data))
    }

    /// Calls an endpoint of `AdminAPI` that takes no body.
    public func call<Response>(_ endpoint: AdminEndpoint<NoBody, Response>, parameters: [String: String] = [:],
                               query: [(String, String?)] = []) throws(ClientError) -> Response {
        try decode(try send(endpoint.method.rawValue, endpoint.target(parameters, query: query), body: nil))
    }

    /// Streams an endpoint's events (watch) until the daemon ends the stream or `onEvent`
    /// returns false; a line that is not an event is passed to `onUnreadable`.
    public func stream<Event>(_ endpoint: AdminEndpoint<NoBody, Event>, onOpen: () -> Void = {}, onUnreadable: (String) -> Void = { _ in },
                              onEvent: (Event) -> Bool) throws(ClientError) {
        try stream(endpoint.target(), onOpen: onOpen) { line in
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

    /// Sends a request and returns the raw response (any status).
    public func send(_ method: String, _ path: String, body: Data?) throws(ClientError) -> Response {
        let fd = try connect()
        defer { close(fd) }
        try write(fd, Self.request(method, path, body: body))
        var received = Data()
        while try readMore(fd, into: &received, resetEnds: true) {}
        return try Self.parse(received)
    }

    /// Streams a response body line by line (watch) until the daemon ends it or `onLine`
    /// returns false. `onOpen` runs once the daemon has accepted the request (status 200).
    public func stream(_ path: String, onOpen: () -> Void = {}, onLine: (String) -> Bool) throws(ClientError) {
        let fd = try connect()
        defer { close(fd) }
        try write(fd, Self.request("GET", path, body: nil))
        var pending = Data()
        var headersDone = false
        var chunked = false
        var body = Data()
        while try readMore(fd, into: &pending) {
            if !headersDone {
                guard let end = pending.range(of: Data("\r\n\r\n".utf8)) else { continue }
                let head = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
                let status = Self.status(of: head)
                chunked = head.lowercased().contains("transfer-encoding: chunked")
                pending = Data(pending[end.upperBound...])
                headersDone = true
                if status != 200 {
                    // Read the rest for the error message.
                    while try readMore(fd, into: &pending) {}
                    throw Self.apiError(status: status, body: chunked ? Self.dechunk(&pending) : pending)
                }
                onOpen()
            }
            body.append(chunked ? Self.dechunk(&pending) : pending)
            if !chunked { pending = Data() }
            while let newline = body.firstIndex(of: 0x0A) {
                let line = String(decoding: body[body.startIndex..<newline], as: UTF8.self)
                body = Data(body[(newline + 1)...])
                if !line.isEmpty, !onLine(line) { return }
            }
        }
    }

    /// Appends what the socket has to `data`; false at end of file. With `resetEnds`, a reset
    /// after a response arrived (a daemon that closed early, as on 413) counts as the end.
    private func readMore(_ fd: Int32, into data: inout Data, resetEnds: Bool = false) throws(ClientError) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                data.append(contentsOf: buffer[0..<count])
                return true
            }
            if count == 0 { return false }
            if errno == EINTR { continue }
            if resetEnds, errno == ECONNRESET, !data.isEmpty { return false }
            throw .socket(path: socketPath, reason: String(cString: strerror(errno)))
        }
    }

    /// The daemon's `{error, message}`, or a stand-in when the body is not one.
    static func apiError(status: Int, body: Data) -> ClientError {
        .api(status: status, (try? AdminJSON.decoder.decode(ErrorResponse.self, from: body))
            ?? ErrorResponse(error: "http-\(status)", message: "the node answered HTTP \(status)"))
    }

    private func decode<T: Decodable>(_ response: Response) throws(ClientError) -> T {
        guard (200..<300).contains(response.status) else { throw Self.apiError(status: response.status, body: response.body) }
        do { return try AdminJSON.decoder.decode(T.self, from: response.body) } catch {
            throw .malformedResponse("\(error)")
        }
    }

    private func connect() throws(ClientError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .socket(path: socketPath, reason: String(cString: strerror(errno))) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw .socket(path: socketPath, reason: "the path is longer than a Unix socket path may be (107 bytes)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (index, byte) in bytes.enumerated() { raw[index] = byte } }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            switch code {
            case ENOENT, ECONNREFUSED: throw .notRunning(path: socketPath)
            case EACCES, EPERM: throw .permissionDenied(path: socketPath)
            default: throw .socket(path: socketPath, reason: String(cString: strerror(code)))
            }
        }
        return fd
    }

    /// Writes the request. A daemon that refuses a request early (413) closes while the body
    /// is still being sent: the write then stops (no SIGPIPE) and the response is read anyway.
    private func write(_ fd: Int32, _ data: Data) throws(ClientError) {
        var offset = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { return }
                throw .socket(path: socketPath, reason: String(cString: strerror(errno)))
            }
            offset += written
        }
    }

    static func request(_ method: String, _ path: String, body: Data?) -> Data {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: mineralctl\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        var data = Data((head + "\r\n").utf8)
        if let body { data.append(body) }
        return data
    }

    static func status(of head: String) -> Int {
        let parts = head.split(separator: " ", maxSplits: 2)
        return parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
    }

    static func parse(_ data: Data) throws(ClientError) -> Response {
        guard let end = data.range(of: Data("\r\n\r\n".utf8)) else { throw .malformedResponse("no HTTP header") }
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
        var body = Data(data[end.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { body = dechunk(&body) }
        return Response(status: status(of: head), body: body)
    }

    /// Removes complete chunks from `pending` and returns their payload.
    static func dechunk(_ pending: inout Data) -> Data {
        var output = Data()
        while let lineEnd = pending.range(of: Data("\r\n".utf8)) {
            let sizeText = String(decoding: pending[pending.startIndex..<lineEnd.lowerBound], as: UTF8.self)
            guard let sizeField = sizeText.split(separator: ";").first, sizeField.count <= 8,
                  let size = Int(sizeField.trimmingCharacters(in: .whitespaces), radix: 16) else { break }
            let start = lineEnd.upperBound
            guard pending.distance(from: start, to: pending.endIndex) >= size + 2 else { break }
            let payloadEnd = pending.index(start, offsetBy: size)
            output.append(pending[start..<payloadEnd])
            pending = Data(pending[pending.index(payloadEnd, offsetBy: 2)...])
            if size == 0 { break }
        }
        return output
    }
}
