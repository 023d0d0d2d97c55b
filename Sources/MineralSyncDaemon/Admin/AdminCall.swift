import AdminAPI
import Foundation
import HTTPServing
import NIOCore

/// One request as a handler sees it: the path's parameters, the query, the body.
struct AdminCall: Sendable {
    let request: HTTPRequest
    let parameters: [String: String]

    var query: [String: String] { request.query }

    /// A path parameter the route table guarantees.
    func parameter(_ name: String) -> String { parameters[name] ?? "" }

    /// A request body as `T`, or a validation failure naming what is wrong. With
    /// `emptyAllowed`, no body at all reads as `{}`.
    static func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest, emptyAllowed: Bool = false) throws(AdminFailure) -> T {
        if emptyAllowed, request.body.readableBytes == 0, let empty = try? AdminJSON.decoder.decode(T.self, from: Data("{}".utf8)) { return empty }
        do {
            return try AdminJSON.decoder.decode(T.self, from: Data(request.body.readableBytesView))
        } catch DecodingError.keyNotFound(let key, _) {
            throw .validation("the request body lacks \"\(key.stringValue)\"")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw .validation("the request body has the wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw .validation("the request body is not valid JSON")
        }
    }
}
