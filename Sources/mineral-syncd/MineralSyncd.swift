import ArgumentParser
import Foundation
import Logging
import Metrics
import MineralSyncDaemon
import NodeConfig
import Prometheus
import Registry
import ServiceLifecycle
import SyncNode

@main
struct MineralSyncd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mineral-syncd",
        abstract: "The MineralSync node: keeps the alliance's critical-mineral registry in sync with partner nodes.",
        subcommands: [Run.self, CheckConfig.self, VerifyArchive.self],
        defaultSubcommand: Run.self)
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the node (the default): `mineral-syncd --config /etc/mineral-sync/node.yaml`.",
        discussion: "SIGTERM or SIGINT drain and stop; SIGHUP reloads certificates, CRLs and peers.")

    @Option(name: .long, help: "The node's YAML config file.")
    var config: String

    func run() async throws {
        let configuration: NodeConfiguration
        let materials: NodeMaterials
        do {
            (configuration, materials) = try NodeMaterials.load(configurationFile: config)
        } catch {
            FileHandle.standardError.write(Data("mineral-syncd: refusing to start: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        let level = Logger.Level(rawValue: configuration.logging.level) ?? .info
        let format = configuration.logging.format
        LoggingSystem.bootstrap { label in
            var handler = DaemonLogHandler(label: label, format: format == .json ? .json : .text)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: configuration.node.description)
        let daemon = NodeDaemon(
            configurationPath: config, configuration: configuration, materials: materials, logger: logger,
            metricsRegistry: registry)
        do {
            try await daemon.run()
        } catch {
            let reason = (error as? ServiceGroupError).map { _ in "\(error)" } ?? "\(error)"
            logger.critical("mineral-syncd stopped: \(reason)")
            FileHandle.standardError.write(Data("mineral-syncd: \(Self.unwrap(error))\n".utf8))
            throw ExitCode(1)
        }
    }

    /// ServiceGroup wraps a service's error; the operator wants the daemon's own message.
    static func unwrap(_ error: any Error) -> String {
        if let daemon = error as? DaemonError { return daemon.description }
        let text = "\(error)"
        return text
    }
}

struct VerifyArchive: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-archive",
        abstract: "Check a history archive (`mineralctl archive export`) against the trust anchors of a config; exit 0 when it checks out.",
        discussion: """
            Checks that a node of every participant the config trusts signed the archive's checkpoint, that every certificate \
            chains to its participant's anchor, that every entry up to the checkpoint is there, signed and linked, and that \
            their views have the digest the participants signed. Needs no daemon and no store.
            """)

    @Argument(help: "The archive file.")
    var file: String
    @Option(name: .long, help: "A node config whose trust anchors (and mineral catalogue) to check against.")
    var config: String

    func run() throws {
        do {
            let (_, materials) = try NodeMaterials.load(configurationFile: config)
            let summary = try HistoryArchive.verify(path: file, trustStore: materials.trustStore, policy: EntryPolicy(catalogue: materials.catalogue))
            print(
                "\(file): OK — \(summary.entries) entries, every one signed and linked; their view digest \(summary.digest.hex) "
                    + "was signed by \(summary.signedBy.map(\.description).joined(separator: ", "))")
        } catch {
            FileHandle.standardError.write(Data("\(file): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a config and every file it names; say exactly what is wrong. Exit 0 when the node would start.")

    @Argument(help: "The YAML config file to check.")
    var file: String

    func run() throws {
        do {
            let (configuration, materials) = try NodeMaterials.load(configurationFile: file)
            print(
                "\(file): OK — node \(configuration.node), listening on \(configuration.listen), \(configuration.peers.count) peers, "
                    + "\(materials.trustStore.anchors.count) trust anchors, \(configuration.tls.revocationLists.count) CRLs; "
                    + "certificate valid until \(materials.certificateExpiry)")
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
