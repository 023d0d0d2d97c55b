import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeConfig
import OpenSSLCrypto
import OpenSSLTLS
import ServiceLifecycle
import SyncNode
import UnixSignals

/// The configuration in force, and what changes it: SIGHUP (a reload) and a CRL from a peer
/// (new TLS contexts). The one owner of the running configuration and materials; status reads
/// the certificate's expiry and the number of peers configured from here.
final class ConfigurationReloader: Service, Sendable {
    let engine: SyncEngine
    let node: SyncNode
    let hooks: HookService
    private let path: String
    private let hangUps: UnixSignalsSequence
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    private struct State {
        var configuration: NodeConfiguration
        var materials: NodeMaterials
    }

    /// - Parameter hangUps: SIGHUP, trapped before anything started (one that arrives early is
    ///   handled once this runs, never fatal).
    init(
        path: String, configuration: NodeConfiguration, materials: NodeMaterials, engine: SyncEngine, node: SyncNode, hooks: HookService,
        hangUps: UnixSignalsSequence, logger: Logger
    ) {
        self.path = path
        self.engine = engine
        self.node = node
        self.hooks = hooks
        self.hangUps = hangUps
        self.logger = logger
        state = NIOLockedValueBox(State(configuration: configuration, materials: materials))
    }

    func run() async throws {
        for await _ in hangUps.cancelOnGracefulShutdown() { await reload() }
    }

    /// When the certificate in use expires (it changes when a reload renews it).
    var certificateExpiry: Date { state.withLockedValue { $0.materials.certificateExpiry } }

    var configuredPeerCount: Int { state.withLockedValue { $0.configuration.peers.count } }

    /// SIGHUP: re-reads the config and the files it names. A config with problems changes
    /// nothing (each problem is logged). Otherwise new connections get the new certificate,
    /// anchors and CRLs, live sessions whose peer is no longer trusted are closed, peers are
    /// added or removed, and the hooks configured replace those in force. A new certificate (and key) is a rotation: the feed continues, signed
    /// with the new key from the next entry on. Settings that need a restart are named in a warning.
    func reload() async {
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
        await hooks.reconfigure(configuration.hooks)
        state.withLockedValue { state in
            state.configuration.tls = configuration.tls
            state.configuration.peers = configuration.peers
            state.configuration.pinnedPeers = configuration.pinnedPeers
            state.configuration.hooks = configuration.hooks
            state.materials = materials
        }
        if !restartNeeded.isEmpty {
            logger.warning("reload: changes to \(restartNeeded.joined(separator: ", ")) take effect only after a restart")
        }
        logger.info(
            "configuration reloaded",
            metadata: [
                "peers": "\(configuration.peers.count)", "crls": "\(configuration.tls.revocationLists.count)",
                "sessions-closed": "\(closed.map(\.description).joined(separator: ","))",
                "certificate-expires": "\(materials.certificateExpiry)"
            ])
    }

    /// A CRL from a peer was put in force: new connections are checked against it, and sessions
    /// with the nodes it revokes are closed.
    func trustChanged(_ trust: TrustStore) {
        let (configuration, materials) = state.withLockedValue { ($0.configuration, $0.materials) }
        do {
            let (server, client) = try NodeDaemon.tlsContexts(configuration, materials, trust: trust)
            node.replaceTLS(server: server, client: client)
        } catch {
            logger.error("a revocation list from a peer is in force for entries, but TLS could not be set up with it: \(error)")
        }
        node.closeSessionsNoLongerTrusted(by: trust)
    }
}
