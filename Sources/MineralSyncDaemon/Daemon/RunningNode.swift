import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NodeConfig
import OpenSSLCrypto
import OpenSSLTLS
import SyncNode

/// The parts of a started daemon, and what SIGHUP and shutdown do to them.
final class RunningNode: Sendable {
    let engine: SyncEngine
    let node: SyncNode
    private let lock: DataDirectoryLock
    private let state: NIOLockedValueBox<State>

    private struct State {
        var configuration: NodeConfiguration
        var materials: NodeMaterials
        var admin: (any Channel)?
        var metrics: (any Channel)?
    }

    init(configuration: NodeConfiguration, materials: NodeMaterials, engine: SyncEngine, node: SyncNode, lock: DataDirectoryLock) {
        self.engine = engine
        self.node = node
        self.lock = lock
        state = NIOLockedValueBox(State(configuration: configuration, materials: materials))
    }

    /// When the certificate in use expires (it changes when a reload renews it).
    var certificateExpiry: Date { state.withLockedValue { $0.materials.certificateExpiry } }

    var admin: (any Channel)? {
        get { state.withLockedValue { $0.admin } }
        set { state.withLockedValue { $0.admin = newValue } }
    }

    var metrics: (any Channel)? {
        get { state.withLockedValue { $0.metrics } }
        set { state.withLockedValue { $0.metrics = newValue } }
    }

    var configuredPeerCount: Int { state.withLockedValue { $0.configuration.peers.count } }

    /// SIGHUP: re-reads the config and the files it names. A config with problems changes
    /// nothing (each problem is logged). Otherwise new connections get the new certificate,
    /// anchors and CRLs, live sessions whose peer is no longer trusted are closed, and peers are
    /// added or removed. A new certificate (and key) is a rotation: the feed continues, signed
    /// with the new key from the next entry on. Settings that need a restart are named in a warning.
    func reload(path: String, logger: Logger) async {
        logger.info("SIGHUP: reloading configuration", metadata: ["config": "\(path)"])
        let configuration: NodeConfiguration
        let materials: NodeMaterials
        do {
            (configuration, materials) = try NodeMaterials.load(configurationFile: path)
        } catch {
            for problem in error.problems { logger.error("reload refused: \(problem)") }
            logger.error("reload refused; the running configuration stays in force")
            return
        }
        let (old, running) = state.withLockedValue { ($0.configuration, $0.materials) }
        guard configuration.node == old.node else {
            logger.error("reload refused: the config now names node \(configuration.node), this process is \(old.node); restart to change identity")
            return
        }
        var restartNeeded: [String] = []
        if configuration.dataDirectory != old.dataDirectory { restartNeeded.append("node.data-dir") }
        if configuration.listen != old.listen { restartNeeded.append("listen") }
        if configuration.adminSocket != old.adminSocket || configuration.adminSocketMode != old.adminSocketMode { restartNeeded.append("admin") }
        if configuration.metricsListen != old.metricsListen { restartNeeded.append("metrics") }
        if configuration.sync != old.sync { restartNeeded.append("sync") }
        if configuration.logging != old.logging { restartNeeded.append("log") }
        if configuration.mineralExtensions.map(\.id) != old.mineralExtensions.map(\.id) { restartNeeded.append("minerals") }
        let trust = await engine.trustStore(mergedWith: materials.trustStore)
        do {
            let (server, client) = try NodeDaemon.tlsContexts(configuration, materials, trust: trust)
            node.replaceTLS(server: server, client: client)
        } catch {
            logger.error("reload refused: TLS setup failed: \(error)")
            return
        }
        await engine.replaceTrustStore(materials.trustStore)
        if materials.certificateChain.first?.der != running.certificateChain.first?.der {
            do {
                try await engine.rotate(to: materials.privateKey, certificateChain: materials.certificateChain)
            } catch {
                logger.error("reload: the new certificate cannot sign entries, this node keeps signing with the previous one: \(error)")
            }
        }
        let closed = node.closeSessionsNoLongerTrusted(by: trust)
        let wanted = Set(configuration.peers.map(\.description))
        for peer in old.peers where !wanted.contains(peer.description) { node.removePeer(host: peer.host, port: peer.port) }
        for peer in configuration.peers { node.addPeer(host: peer.host, port: peer.port, node: configuration.pinnedPeers[peer]) }
        state.withLockedValue { state in
            state.configuration.tls = configuration.tls
            state.configuration.peers = configuration.peers
            state.configuration.pinnedPeers = configuration.pinnedPeers
            state.materials = materials
        }
        if !restartNeeded.isEmpty {
            logger.warning("reload: changes to \(restartNeeded.joined(separator: ", ")) take effect only after a restart")
        }
        logger.info("configuration reloaded", metadata: [
            "peers": "\(configuration.peers.count)", "crls": "\(configuration.tls.revocationLists.count)",
            "sessions-closed": "\(closed.map(\.description).joined(separator: ","))",
            "certificate-expires": "\(materials.certificateExpiry)",
        ])
    }

    /// A CRL from a peer was put in force: new connections are checked against it, and sessions
    /// with the nodes it revokes are closed.
    func trustChanged(_ trust: TrustStore, logger: Logger) {
        let (configuration, materials) = state.withLockedValue { ($0.configuration, $0.materials) }
        do {
            let (server, client) = try NodeDaemon.tlsContexts(configuration, materials, trust: trust)
            node.replaceTLS(server: server, client: client)
        } catch {
            logger.error("a revocation list from a peer is in force for entries, but TLS could not be set up with it: \(error)")
        }
        node.closeSessionsNoLongerTrusted(by: trust)
    }

    /// Graceful stop: no new admin requests, goodbye to every peer, store closed.
    func stop() async {
        let (admin, metrics) = state.withLockedValue { ($0.admin, $0.metrics) }
        try? await admin?.close()
        await node.shutdown()
        await engine.close()
        try? await metrics?.close()
        lock.release()
    }
}
