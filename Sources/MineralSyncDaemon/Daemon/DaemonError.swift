/// Why the daemon could not start or keep running, in words an operator can act on.
public enum DaemonError: Error, Sendable, CustomStringConvertible {
    case listen(address: String, reason: String)
    case adminSocket(path: String, reason: String)
    case metrics(address: String, reason: String)
    case dataDirectory(path: String, reason: String)
    case store(String)
    case tls(String)

    public var description: String {
        switch self {
        case .listen(let address, let reason): "cannot listen for partners on \(address): \(reason)"
        case .adminSocket(let path, let reason): "cannot open the admin socket \(path): \(reason)"
        case .metrics(let address, let reason): "cannot serve metrics on \(address): \(reason)"
        case .dataDirectory(let path, let reason): "cannot use the data directory \(path): \(reason)"
        case .store(let reason): reason
        case .tls(let reason): "cannot set up TLS: \(reason)"
        }
    }
}
