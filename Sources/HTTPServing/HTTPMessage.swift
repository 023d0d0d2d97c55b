import Foundation
import NIOCore
import NIOHTTP1

/// A complete request, body already collected (and bounded) by the server.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(head: HTTPRequestHead, body: ByteBuffer) {
        method = head.method
        headers = head.headers
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts[0])
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
                let value = kv.count == 2 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[1])) : ""
                query[key] = value
            }
        }
        self.query = query
        self.body = body
    }
}

/// A response: a whole body, or a stream of chunks (watch) that ends when the stream does.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case full(ByteBuffer)
        case stream(AsyncStream<ByteBuffer>)
    }

    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: Body
    /// Sent besides content-type, content-length and connection.
    public var headers: [(String, String)]

    public init(status: HTTPResponseStatus = .ok, contentType: String = "application/json", body: ByteBuffer, headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = .full(body)
        self.headers = headers
    }

    public init(status: HTTPResponseStatus = .ok, contentType: String, stream: AsyncStream<ByteBuffer>, headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        body = .stream(stream)
        self.headers = headers
    }
}
