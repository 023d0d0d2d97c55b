import Registry

/// A peer broke the sync protocol. The session closes with this reason, logged and shown in the
/// peer's health; the node goes on serving everyone else.
public enum SyncProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    case frameTooLarge(size: Int, limit: Int)
    case undecodableMessage(String)
    case emptyMessage
    case invalidNode(String)
    case impossibleVector(String)
    case unexpectedMessage(kind: String, state: String)
    case identityMismatch(certificate: NodeID, hello: NodeID)
    case unsupportedVersion(UInt32)
    case invalidCertificate(String)
    /// A count or size beyond `SyncLimits`, found before anything was copied.
    case limitExceeded(String)
    case invalidStatement(String)

    public var description: String {
        switch self {
        case .frameTooLarge(let size, let limit): "frame of \(size) bytes exceeds the \(limit)-byte limit"
        case .undecodableMessage(let reason): "message does not decode: \(reason)"
        case .emptyMessage: "message has no content"
        case .invalidNode(let reason): "invalid node in message: \(reason)"
        case .impossibleVector(let reason): "impossible version vector: \(reason)"
        case .unexpectedMessage(let kind, let state): "unexpected \(kind) message while \(state)"
        case .identityMismatch(let certificate, let hello): "hello names \(hello) but the TLS certificate names \(certificate)"
        case .unsupportedVersion(let version): "protocol version \(version) is not supported (this node speaks \(syncProtocolVersion))"
        case .invalidCertificate(let reason): "invalid origin certificate: \(reason)"
        case .limitExceeded(let reason): "message exceeds a limit: \(reason)"
        case .invalidStatement(let reason): "invalid view statement: \(reason)"
        }
    }

    /// The goodbye reason a peer is told.
    public var goodbyeReason: GoodbyeReason {
        switch self {
        case .identityMismatch: .identityMismatch
        case .unsupportedVersion: .unsupportedVersion
        default: .protocolViolation
        }
    }
}
