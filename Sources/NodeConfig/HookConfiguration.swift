import Foundation
import Registry

/// A notification hook (`hooks:` in the config): which events it is told, and how: a program
/// run with the event as JSON on its standard input, or an HTTP POST of the same JSON.
public struct HookConfiguration: Sendable, Hashable {
    public enum Target: Sendable, Hashable, CustomStringConvertible {
        /// An absolute path to an executable.
        case exec(String)
        case webhook(WebhookAddress)

        public var description: String {
            switch self {
            case .exec(let path): "exec \(path)"
            case .webhook(let address): "webhook \(address)"
            }
        }
    }

    /// Names the hook in logs, status and metrics, and keys its delivery cursor in the store
    /// (renaming a hook starts it afresh). Default: its target.
    public var name: String
    public var events: Set<RegistryEventKind>
    /// Alerts below this severity are not told (alert events only).
    public var minimumSeverity: Severity?
    /// nil: every mineral.
    public var minerals: Set<MineralID>?
    public var target: Target
    /// How long one delivery may take (the program is killed, the request abandoned).
    public var timeout: ConfigDuration = .seconds(10)
    /// Entries written longer ago than this when this node commits them notify nobody (a node
    /// catching up on history).
    public var maximumAge: ConfigDuration = .days(7)

    public init(name: String, events: Set<RegistryEventKind>, target: Target) {
        self.name = name
        self.events = events
        self.target = target
    }

    /// Whether this hook is to be told about `event`.
    public func wants(_ event: RegistryEvent, committedAtMillis: UInt64) -> Bool {
        guard events.contains(event.kind), minerals?.contains(event.mineral) ?? true else { return false }
        if let minimumSeverity, event.kind.isAboutAnAlert, (event.severity ?? .info) < minimumSeverity { return false }
        return committedAtMillis <= event.writtenAtMillis || committedAtMillis - event.writtenAtMillis <= UInt64(maximumAge.milliseconds)
    }
}

/// Where a webhook posts: an `http://` URL. (TLS webhooks are not offered yet: a hook that must
/// reach an HTTPS endpoint runs a program that does.)
public struct WebhookAddress: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int
    /// The path and query, e.g. "/mineral-alerts".
    public let target: String

    /// The address `text` names, or why it names none (an http URL with a host is needed).
    public static func parse(_ text: String) -> Result<WebhookAddress, WebhookAddressProblem> {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else { return .failure(.notAURL) }
        guard scheme == "http" else { return .failure(scheme == "https" ? .https : .scheme(scheme)) }
        guard let host = components.host, !host.isEmpty else { return .failure(.noHost) }
        guard components.user == nil, components.password == nil, components.fragment == nil else { return .failure(.credentialsOrFragment) }
        let port = components.port ?? 80
        guard (1...65535).contains(port) else { return .failure(.notAURL) }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        let query = components.percentEncodedQuery.map { "?\($0)" } ?? ""
        return .success(WebhookAddress(host: host, port: port, target: path + query))
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "http://\(shownHost):\(port)\(target)"
    }
}

public enum WebhookAddressProblem: Error, Sendable, CustomStringConvertible {
    case notAURL, https
    case scheme(String)
    case noHost, credentialsOrFragment

    public var description: String {
        switch self {
        case .notAURL: "is not a URL such as http://127.0.0.1:9000/mineral-alerts"
        case .https: "is https: TLS webhooks are not supported yet; post through a local relay, or use an exec hook that does"
        case .scheme(let scheme): "has scheme \(scheme): a webhook is an http:// URL"
        case .noHost: "names no host"
        case .credentialsOrFragment: "must not carry a user, password or #fragment"
        }
    }
}
