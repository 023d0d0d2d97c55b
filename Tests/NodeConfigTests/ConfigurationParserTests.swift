import Foundation
import NodeConfig
import Registry
import Testing

@Suite("Config file parsing")
struct ConfigurationParserTests {
    static let complete = """
        node:
          participant: EU
          name: eu-1
          data-dir: ./data/eu-1
        listen: 127.0.0.1:7701
        admin:
          socket: ./data/eu-1/admin.sock
          mode: "0600"
        metrics:
          listen: 127.0.0.1:9701
        tls:
          trust-domain: critical-minerals
          certificate: ./pki/eu-1.pem
          private-key: /etc/mineral-sync/eu-1.key
          trust-anchors:
            EU: ./pki/eu-ca.pem
            US: ./pki/us-ca.pem
            JP: ./pki/jp-ca.pem
          crls: []
        peers:
          - address: 127.0.0.1:7702
            node: US/us-1
          - address: "[::1]:7703"
        sync:
          anti-entropy-interval: 10s
          idle-timeout: 2m
          max-frame-size: 1MiB
          max-waiting-bytes: 32MiB
          max-waiting-bytes-per-feed: 8MiB
          claim-proof-timeout: 5s
          penalty: 1m
          max-penalty: 2h
          max-invalid-entries-per-session: 500
          max-feed-bytes: 2GiB
          snapshot-every: 20000
          join-from-checkpoint: true
          max-checkpoint-bytes: 64MiB
        proofs:
          interval: 5s
          quorum: [EU, US]
        history:
          drop-archived: true
        log:
          format: json
          level: debug
        minerals:
          extensions:
            - id: scandium
              name: Scandium
        """

    @Test func readsEveryKeyAndResolvesPathsAgainstTheConfigDirectory() throws {
        let configuration = try ConfigurationParser.parse(Self.complete, file: "eu-1.yaml", baseDirectory: "/srv/ms")
        #expect(configuration.node == (try NodeID("EU/eu-1")))
        #expect(configuration.dataDirectory == "/srv/ms/data/eu-1")
        #expect(configuration.storePath == "/srv/ms/data/eu-1/registry.sqlite")
        #expect(configuration.listen == HostPort(host: "127.0.0.1", port: 7701))
        #expect(configuration.adminSocket == "/srv/ms/data/eu-1/admin.sock")
        #expect(configuration.adminSocketMode == 0o600)
        #expect(configuration.metricsListen == HostPort(host: "127.0.0.1", port: 9701))
        #expect(configuration.tls.trustDomain == "critical-minerals")
        #expect(configuration.tls.certificate == "/srv/ms/pki/eu-1.pem")
        #expect(configuration.tls.privateKey == "/etc/mineral-sync/eu-1.key")
        #expect(configuration.tls.trustAnchors == ["EU": "/srv/ms/pki/eu-ca.pem", "US": "/srv/ms/pki/us-ca.pem", "JP": "/srv/ms/pki/jp-ca.pem"])
        #expect(configuration.tls.revocationLists.isEmpty)
        #expect(configuration.peers == [HostPort(host: "127.0.0.1", port: 7702), HostPort(host: "::1", port: 7703)])
        #expect(configuration.sync.antiEntropyInterval.milliseconds == 10_000)
        #expect(configuration.sync.idleTimeout.milliseconds == 120_000)
        #expect(configuration.sync.maximumFrameBytes == 1 << 20)
        #expect(configuration.sync.maximumWaitingBytes == 32 << 20)
        #expect(configuration.sync.maximumWaitingBytesPerFeed == 8 << 20)
        #expect(configuration.sync.claimProofTimeout.milliseconds == 5_000)
        #expect(configuration.sync.penalty.milliseconds == 60_000 && configuration.sync.maximumPenalty.milliseconds == 7_200_000)
        #expect(configuration.sync.invalidEntriesPerSession == 500)
        #expect(configuration.sync.snapshotInterval == 20_000)
        #expect(configuration.sync.joinFromCheckpoint && configuration.sync.maximumCheckpointBytes == 64 << 20)
        #expect(configuration.history.dropArchived)
        #expect(!NodeConfiguration.History().dropArchived, "the default keeps every entry")
        #expect(configuration.proofs.interval.milliseconds == 5_000 && configuration.proofs.quorum == ["EU", "US"])
        #expect(configuration.sync.maximumFeedBytes == 2 << 30)
        #expect(configuration.pinnedPeers == [HostPort(host: "127.0.0.1", port: 7702): try NodeID("US/us-1")])
        #expect(configuration.logging.format == .json)
        #expect(configuration.logging.level == "debug")
        #expect(configuration.mineralExtensions.map(\.id) == ["scandium"])
        #expect(configuration.source.lines["tls.certificate"] == 13)
    }

    @Test func appliesDefaultsToOptionalSections() throws {
        let minimal = """
            node: {participant: JP, name: jp-1, data-dir: /var/lib/ms}
            listen: 0.0.0.0:7703
            admin: {socket: /run/ms/admin.sock}
            tls:
              trust-domain: critical-minerals
              certificate: jp.pem
              private-key: jp.key
              trust-anchors: {JP: jp-ca.pem}
            """
        let configuration = try ConfigurationParser.parse(minimal, file: "jp.yaml", baseDirectory: "/etc/ms")
        #expect(configuration.peers.isEmpty)
        #expect(configuration.metricsListen == nil)
        #expect(configuration.adminSocketMode == 0o660)
        #expect(configuration.sync.antiEntropyInterval.milliseconds == 10_000)
        #expect(configuration.sync.maximumFrameBytes == 4 << 20)
        #expect(configuration.logging.format == .text)
        #expect(configuration.tls.handshakeTimeout.milliseconds == 10_000)
    }

    @Test func reportsEveryProblemWithItsLineAndKey() throws {
        let broken = """
            node:
              participant: eu
              name: eu-1
            listen: 127.0.0.1:77001
            admin:
              socket: ./admin.sock
            tls:
              trust-domain: critical-minerals
              certificate: ./pki/eu-1.pem
              private-key: ./pki/eu-1.key
              trust-anchors:
                US: ./pki/us-ca.pem
                europe: ./pki/eu-ca.pem
            peers:
              - address: localhost
            sync:
              anti-entropy-intervall: 10s
              idle-timeout: soon
              snapshot-every: 10
              join-from-checkpoint: yes
            log:
              format: xml
            proofs:
              interval: 5s
              quorum: [US, JP, eu]
            """
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationParser.parse(broken, file: "eu-1.yaml", baseDirectory: "/srv")
        }
        let problems = error.problems.map(\.description)
        #expect(problems.contains { $0.hasPrefix("eu-1.yaml:2: node.participant: \"eu\" is not a participant id") })
        #expect(problems.contains { $0.hasPrefix("eu-1.yaml:1: node.data-dir: is required") })
        #expect(problems.contains { $0.hasPrefix("eu-1.yaml:4: listen: \"127.0.0.1:77001\" must be host:port") })
        #expect(problems.contains { $0.hasPrefix("eu-1.yaml:13: tls.trust-anchors.europe: \"europe\" is not a participant id") })
        #expect(problems.contains { $0.hasPrefix("eu-1.yaml:15: peers[0].address: \"localhost\" must be host:port") })
        #expect(problems.contains("eu-1.yaml:17: sync.anti-entropy-intervall: unknown key"))
        #expect(problems.contains { $0.hasPrefix("eu-1.yaml:18: sync.idle-timeout: \"soon\" must be a positive duration") })
        #expect(problems.contains { $0.hasPrefix("eu-1.yaml:19: sync.snapshot-every: ") && $0.contains("1000") })
        #expect(problems.contains("eu-1.yaml:20: sync.join-from-checkpoint: \"yes\" must be true or false"))
        #expect(problems.contains("eu-1.yaml:22: log.format: \"xml\" must be text or json"))
        #expect(problems.contains { $0.hasPrefix("eu-1.yaml:25: proofs.quorum[1]: JP has no trust anchor") })
        #expect(problems.contains { $0.hasPrefix("eu-1.yaml:25: proofs.quorum[2]: \"eu\" is not a participant id") })
        #expect(error.description.hasPrefix("configuration has \(error.problems.count) problems:"))
    }

    @Test func namesTheLineOfAYAMLSyntaxError() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationParser.parse("node:\n  participant: EU\n  name: [eu-1\nlisten: x\n", file: "bad.yaml", baseDirectory: "/")
        }
        #expect(error.problems.count == 1)
        #expect(error.problems[0].description.hasPrefix("bad.yaml:"))
        #expect(error.problems[0].message.contains("not valid YAML"))
    }

    @Test func refusesAMissingFileAndADocumentThatIsNotAMapping() throws {
        let missing = try #require(throws: ConfigurationError.self) { try ConfigurationParser.load(path: "/nonexistent/eu-1.yaml") }
        #expect(missing.problems.map(\.description) == ["/nonexistent/eu-1.yaml: config file does not exist"])
        let list = try #require(throws: ConfigurationError.self) { try ConfigurationParser.parse("- a\n- b\n", file: "x.yaml", baseDirectory: "/") }
        #expect(list.problems[0].message.contains("must be a mapping"))
        let empty = try #require(throws: ConfigurationError.self) { try ConfigurationParser.parse("", file: "x.yaml", baseDirectory: "/") }
        #expect(empty.problems.map(\.message) == ["config file is empty"])
    }

    @Test func refusesSizesThatOverflow() throws {
        let text = Self.complete.replacingOccurrences(of: "max-frame-size: 1MiB", with: "max-frame-size: 99999999999GiB")
        let error = try #require(throws: ConfigurationError.self) { try ConfigurationParser.parse(text, file: "c.yaml", baseDirectory: "/") }
        #expect(error.problems.map(\.key) == ["sync.max-frame-size"])
    }

    @Test func refusesAPeerThatIsTheNodeItselfOrListedTwice() throws {
        let text = Self.complete.replacingOccurrences(of: "\"[::1]:7703\"", with: "127.0.0.1:7701\n  - address: 127.0.0.1:7702")
        let error = try #require(throws: ConfigurationError.self) { try ConfigurationParser.parse(text, file: "c.yaml", baseDirectory: "/") }
        #expect(error.problems.map(\.message).sorted() == ["127.0.0.1:7701 is this node's own listen address", "127.0.0.1:7702 is listed twice"])
    }

    @Test func refusesAPinnedNodeThatIsNoNodeOrThisNode() throws {
        for (pin, message) in [("jp-1", "\"jp-1\" is not a node"), ("EU/eu-1", "EU/eu-1 is this node itself")] {
            let text = Self.complete.replacingOccurrences(of: "node: US/us-1", with: "node: \(pin)")
            let error = try #require(throws: ConfigurationError.self) { try ConfigurationParser.parse(text, file: "c.yaml", baseDirectory: "/") }
            #expect(error.problems.map(\.key) == ["peers[0].node"])
            #expect(error.problems.first?.message.hasPrefix(message) == true, "\(error)")
        }
    }

    @Test func refusesAMaximumPenaltyShorterThanThePenalty() throws {
        let text = Self.complete.replacingOccurrences(of: "max-penalty: 2h", with: "max-penalty: 30s")
        let error = try #require(throws: ConfigurationError.self) { try ConfigurationParser.parse(text, file: "c.yaml", baseDirectory: "/") }
        #expect(error.problems.map(\.description) == ["c.yaml:32: sync.max-penalty: 30s is shorter than sync.penalty (1m)"])
    }

    @Test func refusesMoreWaitingBytesPerFeedThanInTotal() throws {
        let text = Self.complete.replacingOccurrences(of: "max-waiting-bytes-per-feed: 8MiB", with: "max-waiting-bytes-per-feed: 64MiB")
        let error = try #require(throws: ConfigurationError.self) { try ConfigurationParser.parse(text, file: "c.yaml", baseDirectory: "/") }
        #expect(
            error.problems.map(\.description) == ["c.yaml:29: sync.max-waiting-bytes-per-feed: 67108864 bytes is more than sync.max-waiting-bytes (33554432)"])
        // Without a per-feed setting, a small total lowers the per-feed default with it.
        let small = Self.complete.replacingOccurrences(of: "max-waiting-bytes: 32MiB", with: "max-waiting-bytes: 4MiB")
            .replacingOccurrences(of: "  max-waiting-bytes-per-feed: 8MiB\n", with: "")
        #expect(try ConfigurationParser.parse(small, file: "c.yaml", baseDirectory: "/").sync.maximumWaitingBytesPerFeed == 4 << 20)
    }

    @Test(arguments: ["10s": 10_000, "250ms": 250, "5m": 300_000, "1h": 3_600_000] as [String: Int64])
    func parsesDurations(text: String, milliseconds: Int64) {
        #expect(ConfigDuration(parsing: text)?.milliseconds == milliseconds)
        #expect(ConfigDuration(parsing: text)?.description == text)
    }

    @Test func refusesMalformedDurationsAndAddresses() {
        for text in ["", "10", "0s", "-1s", "1.5s", "10 s", "2d", "1w", "s", "25h", "3000000h", "999999999ms"] {
            #expect(ConfigDuration(parsing: text) == nil, "\(text)")
        }
        #expect(ConfigDuration(parsing: "24h")?.milliseconds == 86_400_000)
        #expect(ConfigDuration(parsing: "1d")?.milliseconds == 86_400_000)
        // A setting may allow longer: a hook's max-age, up to ten years.
        #expect(ConfigDuration(parsing: "7d", maximum: .days(3650))?.description == "7d")
        #expect(ConfigDuration(parsing: "3651d", maximum: .days(3650)) == nil)
        for text in ["", "host", ":80", "host:", "host:-1", "host:65536", "::1:80", "[::1]80", "a b:1"] { #expect(HostPort(parsing: text) == nil, "\(text)") }
        #expect(HostPort(parsing: "[::1]:7701")?.description == "[::1]:7701")
    }
}
