import Foundation

/// One endpoint of the admin API: its method, its path (with `{parameters}`), what its request
/// body and its answer are, and the status a success answers with. The table in `AdminAPI` is
/// the one place a route exists: the daemon routes by it and `mineralctl` calls through it.
public struct AdminEndpoint<Request: Codable & Sendable, Response: Codable & Sendable>: Sendable, CustomStringConvertible {
    public let method: AdminMethod
    public let path: AdminPath
    /// 200 for reads, 201 for writes that made an entry.
    public let successStatus: Int
    /// A POST whose body may be left out (every field optional): read as `{}`.
    public let bodyOptional: Bool
    /// Query parameters the endpoint reads (any other is refused, naming these).
    public let queryNames: [String]

    init(_ method: AdminMethod, _ path: AdminPath, successStatus: Int = 200, bodyOptional: Bool = false, query: [String] = []) {
        self.method = method
        self.path = path
        self.successStatus = successStatus
        self.bodyOptional = bodyOptional
        queryNames = query
    }

    public var description: String { "\(method.rawValue) \(path)" }

    /// The target for a call: the path with its parameters filled in (percent-encoded) and the
    /// query (only the items with a value, in the order given).
    public func target(_ parameters: [String: String] = [:], query: [(String, String?)] = []) -> String {
        let items = query.compactMap { name, value in value.map { "\(name)=\(AdminPath.escape($0))" } }
        return path.render(parameters) + (items.isEmpty ? "" : "?" + items.joined(separator: "&"))
    }
}

public enum AdminMethod: String, Sendable, Hashable {
    case get = "GET"
    case post = "POST"
}

/// A request without a body, or an answer that is a stream (watch).
public struct NoBody: Codable, Sendable, Hashable {
    public init() {}
}

/// A path such as `/v1/alerts/{id}/ack`: literal segments and named parameters.
public struct AdminPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
    }

    let segments: [Segment]

    public init(stringLiteral text: String) {
        segments = text.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
    }

    public var description: String {
        "/"
            + segments.map { segment in
                switch segment {
                case .literal(let text): text
                case .parameter(let name): "{\(name)}"
                }
            }.joined(separator: "/")
    }

    /// The parameters, when `parts` (a request's path split at "/", percent-decoded) is this path.
    public func match(_ parts: [String]) -> [String: String]? {
        guard parts.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text): guard text == part else { return nil }
            case .parameter(let name):
                guard !part.isEmpty else { return nil }
                parameters[name] = part
            }
        }
        return parameters
    }

    func render(_ parameters: [String: String]) -> String {
        "/"
            + segments.map { segment in
                switch segment {
                case .literal(let text): text
                case .parameter(let name): Self.escape(parameters[name] ?? "")
                }
            }.joined(separator: "/")
    }

    /// Percent-encodes everything but unreserved characters (RFC 3986), so a value stays one
    /// segment or one query value whatever it holds.
    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

/// An endpoint with its types erased, for the route table.
public struct AnyAdminEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let method: AdminMethod
    public let path: AdminPath

    public init<Request, Response>(_ endpoint: AdminEndpoint<Request, Response>) {
        method = endpoint.method
        path = endpoint.path
    }

    public var description: String { "\(method.rawValue) \(path)" }
}
