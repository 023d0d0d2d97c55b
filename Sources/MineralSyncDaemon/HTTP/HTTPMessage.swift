import Foundation
import NIOCore
import NIOHTTP1

/// A complete request, body already collected (and bounded) by the server.
struct HTTPRequest: Sendable {
    var method: HTTPMethod
    var path: String
    var query: [String: String]
    var body: ByteBuffer

    init(head: HTTPRequestHead, body: ByteBuffer) {
        method = head.method
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
struct HTTPResponse: Sendable {
    enum Body: Sendable {
        case full(ByteBuffer)
        case stream(AsyncStream<ByteBuffer>)
    }

    var status: HTTPResponseStatus
    var contentType: String
    var body: Body

    init(status: HTTPResponseStatus = .ok, contentType: String = "application/json", body: ByteBuffer) {
        self.status = status
        self.contentType = contentType
        self.body = .full(body)
    }

    init(status: HTTPResponseStatus = .ok, contentType: String, stream: AsyncStream<ByteBuffer>) {
        self.status = status
        self.contentType = contentType
        body = .stream(stream)
    }
}
