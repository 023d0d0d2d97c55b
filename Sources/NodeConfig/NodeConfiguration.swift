import Foundation
import Registry

/// Everything `mineral-syncd` is told by its config file, parsed and checked for form but not yet
/// for the files it names (that is `NodeMaterials`). Paths are absolute: relative ones in the
/// file are resolved against the directory of the config file, never the working directory.
public struct NodeConfiguration: Sendable, Hashable {
    public enum LogFormat: String, Sendable, Hashable, CaseIterable { case text, json }

    public struct TLS: Sendable, Hashable {
        public var trustDomain: String
        public var certificate: String
        public var privateKey: String
        /// participant → CA certificate file(s) trusted to issue that participant's nodes.
        public var trustAnchors: [ParticipantID: String]
        public var revocationLists: [String] = []
        public var handshakeTimeout: ConfigDuration = .seconds(10)
    }

    /// Convergence proofs: how often this node signs its view statement, and which participants
    /// must all sign the same views for a checkpoint (nil: every participant it trusts).
    public struct Proofs: Sendable, Hashable {
        public var interval: ConfigDuration = .seconds(30)
        public var quorum: [ParticipantID]?
        public init() {}
    }

    public struct Sync: Sendable, Hashable {
        public var antiEntropyInterval: ConfigDuration = .seconds(10)
        public var idleTimeout: ConfigDuration = .seconds(60)
        public var maximumFrameBytes = 4 << 20
        public var maximumPendingBytes = 8 << 20
        /// Entries received ahead of a gap that may wait for it, in total and per feed.
        public var maximumWaitingBytes = 64 << 20
        public var maximumWaitingBytesPerFeed = 16 << 20
        /// Signed bytes stored per received feed (a partner that signs without end).
        public var maximumFeedBytes = 4 << 30
        public var batchSize = 500
        /// Entries committed between two snapshots of the registry (and one at every clean stop):
        /// a restart after a crash folds at most about this many.
        public var snapshotInterval = 50_000
        /// A node with an empty store starts from the latest checkpoint a peer serves (the views
        /// at the checkpoint's vector, checked against its co-signed digest) and syncs only the
        /// entries after it, instead of every entry since the alliance began.
        public var joinFromCheckpoint = false
        /// The largest checkpoint state this node takes from a peer.
        public var maximumCheckpointBytes = 256 << 20
        /// How long a peer's unproven claim to hold this node's own feed holds writes.
        public var claimProofTimeout: ConfigDuration = .seconds(3)
        /// The penalty box: first penalty, doubling to at most the maximum.
        public var penalty: ConfigDuration = .seconds(30)
        public var maximumPenalty: ConfigDuration = .seconds(3600)
        /// Invalid entries (bad signature, broken chain, malformed) one session may send.
        public var invalidEntriesPerSession = 1_000
        /// A peer whose clock, or an origin whose entries, are further from ours is a security event.
        public var maximumClockSkew: ConfigDuration = .seconds(60)
    }

    /// What may happen to the history below a checkpoint once it is archived.
    public struct History: Sendable, Hashable {
        /// `mineralctl archive drop` may remove the entries an archive holds from the store
        /// (the node then holds them no more, as a node that joined from that checkpoint).
        public var dropArchived = false
        public init() {}
    }

    public struct Logging: Sendable, Hashable {
        public var format: LogFormat = .text
        public var level: String = "info"
    }

    public var node: NodeID
    public var dataDirectory: String
    public var listen: HostPort
    public var adminSocket: String
    /// Permission bits of the admin socket (owner and group may administer the node).
    public var adminSocketMode: Int = 0o660
    /// Where Prometheus scrapes `/metrics`; nil: no metrics endpoint.
    public var metricsListen: HostPort?
    public var tls: TLS
    public var peers: [HostPort]
    /// `peers[].node`: the node a dialled address must turn out to be (its certificate is checked
    /// in the handshake); addresses without one may be any node the trust anchors vouch for.
    public var pinnedPeers: [HostPort: NodeID] = [:]
    public var sync = Sync()
    public var proofs = Proofs()
    public var history = History()
    public var logging = Logging()
    /// Minerals this alliance added to the standard catalogue (id → display name).
    public var mineralExtensions: [(id: String, name: String)] = []
    /// Notification hooks, each with a name of its own.
    public var hooks: [HookConfiguration] = []

    /// Where each value came from, so later checks of the files it names can point at the line.
    public struct Source: Sendable {
        public var file: String
        public var lines: [String: Int]

        public func problem(_ key: String, _ message: String) -> ConfigProblem {
            ConfigProblem(file: file, line: lines[key], key: key, message: message)
        }
    }

    public var source = Source(file: "config", lines: [:])

    /// Where the registry database lives.
    public var storePath: String { (dataDirectory as NSString).appendingPathComponent("registry.sqlite") }

    public static func == (a: Self, b: Self) -> Bool {
        a.node == b.node && a.dataDirectory == b.dataDirectory && a.listen == b.listen && a.adminSocket == b.adminSocket
            && a.adminSocketMode == b.adminSocketMode && a.metricsListen == b.metricsListen && a.tls == b.tls && a.peers == b.peers
            && a.pinnedPeers == b.pinnedPeers
            && a.sync == b.sync && a.logging == b.logging && a.hooks == b.hooks
            && a.mineralExtensions.map(\.id) == b.mineralExtensions.map(\.id) && a.mineralExtensions.map(\.name) == b.mineralExtensions.map(\.name)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(node)
        hasher.combine(listen)
    }
}
