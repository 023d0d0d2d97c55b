import Registry

/// The protocol version this node speaks (`Hello.protocol_version`).
public let syncProtocolVersion: UInt32 = 1

/// A node's opening message: who it is and what it holds.
public struct SyncHello: Sendable, Hashable {
    public var protocolVersion: UInt32
    public var node: NodeID
    public var vector: VersionVector
    /// The id of the sender's entry at `vector[feed]`, per feed: how forks of equal length show.
    public var headIDs: [NodeID: EntryID]
    /// Optional messages the sender takes (`SyncFeature`).
    public var features: Set<String>

    public init(
        protocolVersion: UInt32 = syncProtocolVersion, node: NodeID, vector: VersionVector, headIDs: [NodeID: EntryID] = [:],
        features: Set<String> = SyncFeature.all
    ) {
        self.protocolVersion = protocolVersion
        self.node = node
        self.vector = vector
        self.headIDs = headIDs
        self.features = features
    }
}

/// Optional messages a node takes, listed in its hello: a node sends one only to a peer that
/// listed it (an older node would close the session on a message it does not know).
public enum SyncFeature {
    /// `ViewStatements`: signed "at vector V my view digest is D" (convergence proofs).
    public static let statements = "statements"
    /// `CheckpointRequest`: the sender serves its latest checkpoint's views (sync.proto,
    /// "Joining from a checkpoint").
    public static let checkpointViews = "checkpoint-views"
    /// The sender joins from a checkpoint: it is sent no entries until it sends a vector.
    public static let awaitsCheckpoint = "awaits-checkpoint"
    /// What every node of this release takes (`awaitsCheckpoint` is listed only while joining).
    public static let all: Set<String> = [statements, checkpointViews]
}

/// An origin's certificate chain (DER, leaf first), so a peer can verify that origin's entries.
public struct OriginCertificate: Sendable, Hashable {
    public var node: NodeID
    public var chain: [[UInt8]]

    public init(node: NodeID, chain: [[UInt8]]) {
        self.node = node
        self.chain = chain
    }
}

/// Why a session ends.
public enum GoodbyeReason: Int, Sendable, Hashable, CustomStringConvertible {
    case unspecified = 0
    case shuttingDown = 1
    case protocolViolation = 2
    case duplicateSession = 3
    case identityMismatch = 4
    case unsupportedVersion = 5
    case idle = 6

    public var description: String {
        switch self {
        case .unspecified: "unspecified"
        case .shuttingDown: "shutting down"
        case .protocolViolation: "protocol violation"
        case .duplicateSession: "duplicate session"
        case .identityMismatch: "identity mismatch"
        case .unsupportedVersion: "unsupported protocol version"
        case .idle: "idle"
        }
    }
}

/// One message of a sync session (see Proto/mineralsync/v1/sync.proto).
public enum SyncMessage: Sendable, Hashable {
    case hello(SyncHello)
    case entries([SignedEntry])
    case certificates([OriginCertificate])
    case vector(VersionVector)
    case ping(UInt64)
    /// The ping's nonce, and the answering node's wall clock (ms; 0 when not said).
    case pong(UInt64, wallMillis: UInt64 = 0)
    case goodbye(GoodbyeReason, detail: String)
    /// CRLs (DER) signed by participants' authorities: revocation travels like certificates.
    case revocations([[UInt8]])
    /// Signed view statements (convergence proofs), only to a peer whose hello lists them.
    case statements([SignedStatement])
    /// A joining node asks for the checkpoint state (only of a peer listing `checkpoint-views`).
    case checkpointRequest
    /// Part of the encoded checkpoint state (views.proto `CheckpointState`).
    case checkpointPart(CheckpointPart)

    public var kind: String {
        switch self {
        case .hello: "hello"
        case .entries: "entries"
        case .certificates: "certificates"
        case .vector: "vector"
        case .ping: "ping"
        case .pong: "pong"
        case .goodbye: "goodbye"
        case .revocations: "revocations"
        case .statements: "statements"
        case .checkpointRequest: "checkpoint request"
        case .checkpointPart: "checkpoint part"
        }
    }
}

/// A piece of an encoded checkpoint state: `data` is its bytes from `offset`, of `total`.
/// `total` 0: the sender has no checkpoint to serve.
public struct CheckpointPart: Sendable, Hashable {
    public var total: UInt64
    public var offset: UInt64
    public var data: [UInt8]

    /// Parts are at most this large (well within every frame limit).
    public static let maximumSize = 512 << 10

    public init(total: UInt64, offset: UInt64, data: [UInt8]) {
        self.total = total
        self.offset = offset
        self.data = data
    }

    /// `state` cut into parts, in order; a single empty part (total 0) when there is none.
    public static func parts(of state: [UInt8]) -> [CheckpointPart] {
        guard !state.isEmpty else { return [CheckpointPart(total: 0, offset: 0, data: [])] }
        return stride(from: 0, to: state.count, by: maximumSize).map {
            CheckpointPart(total: UInt64(state.count), offset: UInt64($0), data: Array(state[$0..<min($0 + maximumSize, state.count)]))
        }
    }
}
