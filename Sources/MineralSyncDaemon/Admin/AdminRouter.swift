import AdminAPI
import Foundation
import HTTPServing
import NIOCore
import NIOHTTP1

/// Serves the endpoints of `AdminAPI`, each by the handler registered for it: decodes the body
/// as the endpoint's request type, encodes the answer as its response type with its success
/// status, and turns a failure into its `{error, message}`. A path of the table asked with
/// another method is 405 (naming the allowed ones); any other path is 404.
struct AdminRouter: Sendable {
    typealias Handler = @Sendable (AdminCall) async throws -> HTTPResponse

    private var routes: [(endpoint: AnyAdminEndpoint, handler: Handler)] = []

    /// Registers the handler of an endpoint that answers with one JSON value.
    mutating func on<Request, Response>(
        _ endpoint: AdminEndpoint<Request, Response>,
        _ handler: @escaping @Sendable (AdminCall, Request) async throws -> Response
    ) {
        let (status, queryNames) = (HTTPResponseStatus(statusCode: endpoint.successStatus), endpoint.queryNames)
        let emptyAllowed = endpoint.bodyOptional
        register(AnyAdminEndpoint(endpoint)) { call in
            try Self.check(call.query, allowed: queryNames)
            let body = Request.self == NoBody.self ? NoBody() as! Request : try AdminCall.decode(Request.self, call.request, emptyAllowed: emptyAllowed)
            return Self.json(try await handler(call, body), status: status)
        }
    }

    /// Registers the handler of an endpoint that answers with a stream (watch).
    mutating func stream<Event>(_ endpoint: AdminEndpoint<NoBody, Event>, _ handler: @escaping @Sendable (AdminCall) throws -> HTTPResponse) {
        let queryNames = endpoint.queryNames
        register(AnyAdminEndpoint(endpoint)) { call in
            try Self.check(call.query, allowed: queryNames)
            return try handler(call)
        }
    }

    private mutating func register(_ endpoint: AnyAdminEndpoint, _ handler: @escaping Handler) {
        precondition(!routes.contains { $0.endpoint == endpoint }, "\(endpoint) registered twice")
        routes.append((endpoint, handler))
    }

    /// The endpoints of the table no handler serves (a test keeps this empty).
    var unserved: [AnyAdminEndpoint] { AdminAPI.all.filter { endpoint in !routes.contains { $0.endpoint == endpoint } } }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        do {
            let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
            let matches = routes.compactMap { route in route.endpoint.path.match(parts).map { (route, $0) } }
            guard let method = AdminMethod(rawValue: request.method.rawValue),
                let (route, parameters) = matches.first(where: { $0.0.endpoint.method == method })
            else {
                if matches.isEmpty {
                    throw AdminFailure.notFound(
                        parts.first == "v1"
                            ? "no route \(request.method) \(request.path)"
                            : "no route \(request.path); the API lives under /v1/")
                }
                let allowed = matches.map(\.0.endpoint.method.rawValue).joined(separator: ", ")
                throw AdminFailure(.methodNotAllowed, "method-not-allowed", "\(request.method) is not allowed on \(request.path) (allowed: \(allowed))")
            }
            return try await route.handler(AdminCall(request: request, parameters: parameters))
        } catch let failure as AdminFailure {
            return Self.json(failure.body, status: failure.status)
        } catch {
            return Self.json(ErrorResponse(error: "internal", message: "\(error)"), status: .internalServerError)
        }
    }

    /// A query may name only what the endpoint reads: a misspelt filter is an error, not ignored.
    private static func check(_ query: [String: String], allowed: [String]) throws(AdminFailure) {
        guard let unknown = query.keys.sorted().first(where: { !allowed.contains($0) }) else { return }
        throw .validation(
            allowed.isEmpty
                ? "this endpoint takes no query parameters (got \"\(unknown)\")"
                : "unknown query parameter \"\(unknown)\"; this endpoint reads \(allowed.joined(separator: ", "))")
    }

    static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        var data = (try? AdminJSON.encoder.encode(value)) ?? Data(#"{"error":"internal","message":"could not encode the response"}"#.utf8)
        data.append(0x0A)
        return HTTPResponse(status: status, body: ByteBuffer(bytes: data))
    }
}
