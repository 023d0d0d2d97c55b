import Foundation
import OpenSSLCrypto
import Registry
import Yams

/// Reads a config file's YAML into a `NodeConfiguration`, collecting every problem with its line.
/// Pure apart from reading the file itself: it does not look at the files the config names.
/// Unknown keys are errors: a misspelt `anti-entropy-intervall` must not silently mean "default".
public enum ConfigurationParser {
    public static func load(path: String) throws(ConfigurationError) -> NodeConfiguration {
        let absolute = absolutePath(path, relativeTo: FileManager.default.currentDirectoryPath)
        guard let data = FileManager.default.contents(atPath: absolute) else {
            let reason = FileManager.default.fileExists(atPath: absolute) ? "cannot be read (permissions?)" : "does not exist"
            throw ConfigurationError(problems: [ConfigProblem(file: path, line: nil, key: "", message: "config file \(reason)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(problems: [ConfigProblem(file: path, line: nil, key: "", message: "config file is not UTF-8 text")])
        }
        return try parse(text, file: path, baseDirectory: (absolute as NSString).deletingLastPathComponent)
    }

    /// - Parameters:
    ///   - file: the name used in problems.
    ///   - baseDirectory: where relative paths in the config are resolved.
    public static func parse(_ text: String, file: String, baseDirectory: String) throws(ConfigurationError) -> NodeConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError(problems: [problem(from: error, file: file)])
        } catch {
            throw ConfigurationError(problems: [ConfigProblem(file: file, line: nil, key: "", message: "not valid YAML: \(error)")])
        }
        let reader = ConfigReader(file: file, baseDirectory: baseDirectory)
        guard let root, let document = reader.mapping(root, key: "") else {
            if root == nil { reader.report(nil, "", "config file is empty") }
            throw ConfigurationError(problems: reader.problems)
        }
        if let configuration = read(document, reader), reader.problems.isEmpty { return configuration }
        throw ConfigurationError(problems: reader.problems)
    }

    private static func read(_ document: ConfigReader.Section, _ r: ConfigReader) -> NodeConfiguration? {
        let nodeSection = r.section(document, "node", required: true)
        let participant = nodeSection.flatMap { r.participant($0, "participant") }
        let name = nodeSection.flatMap { r.string($0, "name", required: true) }
        var node: NodeID?
        if let participant, let name, let section = nodeSection {
            do { node = try NodeID(participant: participant, name: name) } catch {
                r.report(section.node("name"), "node.name", "\"\(name)\" is not a node name (1–63 of a–z, 0–9 and '-')")
            }
        }
        let dataDirectory = nodeSection.flatMap { r.path($0, "data-dir", required: true) }
        if let nodeSection { r.finish(nodeSection) }

        let listen = r.address(document, "listen", required: true)

        let adminSection = r.section(document, "admin", required: true)
        let adminSocket = adminSection.flatMap { r.path($0, "socket", required: true) }
        let adminMode = adminSection.flatMap { r.fileMode($0, "mode") } ?? 0o660
        if let adminSection { r.finish(adminSection) }

        var metrics: HostPort?
        if let section = r.section(document, "metrics", required: false) {
            metrics = r.address(section, "listen", required: true)
            r.finish(section)
        }

        let tls = r.section(document, "tls", required: true).flatMap { section -> NodeConfiguration.TLS? in
            defer { r.finish(section) }
            let domain = r.string(section, "trust-domain", required: true)
            if let domain, !SPIFFEIdentity.isValidTrustDomain(domain) {
                r.report(section.node("trust-domain"), "tls.trust-domain", "\"\(domain)\" is not a trust domain (lower-case letters, digits, '.', '-' and '_')")
            }
            let certificate = r.path(section, "certificate", required: true)
            let key = r.path(section, "private-key", required: true)
            var anchors: [ParticipantID: String] = [:]
            if let anchorSection = r.section(section, "trust-anchors", required: true) {
                for (participantText, valueNode) in anchorSection.remainingPairs() {
                    let key = "\(anchorSection.path).\(participantText)"
                    guard let participant = try? ParticipantID(participantText) else {
                        r.report(valueNode, key, "\"\(participantText)\" is not a participant id (2–8 of A–Z and 0–9)")
                        continue
                    }
                    if let path = r.pathValue(valueNode, key: key) { anchors[participant] = path }
                }
                if anchorSection.isEmpty { r.report(anchorSection.node, anchorSection.path, "at least one trust anchor is needed") }
            }
            let crls = r.list(section, "crls").compactMap { item, key in r.pathValue(item, key: key) }
            let timeout = r.duration(section, "handshake-timeout") ?? .seconds(10)
            guard let domain, let certificate, let key else { return nil }
            return NodeConfiguration.TLS(
                trustDomain: domain, certificate: certificate, privateKey: key,
                trustAnchors: anchors, revocationLists: crls, handshakeTimeout: timeout)
        }
        if let tls, let participant, tls.trustAnchors[participant] == nil, !tls.trustAnchors.isEmpty,
            let section = document.child("tls")
        {
            r.report(section.node, "tls.trust-anchors", "no trust anchor for this node's own participant \(participant)")
        }

        var peers: [HostPort] = []
        var pinnedPeers: [HostPort: NodeID] = [:]
        for (item, key) in r.list(document, "peers") {
            guard let peer = r.mapping(item, key: key) else { continue }
            if let address = r.address(peer, "address", required: true) {
                if address == listen {
                    r.report(peer.node("address"), "\(key).address", "\(address) is this node's own listen address")
                } else if peers.contains(address) {
                    r.report(peer.node("address"), "\(key).address", "\(address) is listed twice")
                } else {
                    peers.append(address)
                    if let text = r.string(peer, "node", required: false) {
                        do {
                            let pinned = try NodeID(text)
                            if pinned == node {
                                r.report(peer.node("node"), "\(key).node", "\(pinned) is this node itself")
                            } else {
                                pinnedPeers[address] = pinned
                            }
                        } catch {
                            r.report(peer.node("node"), "\(key).node", "\"\(text)\" is not a node: \(error.description) (write PARTICIPANT/name, e.g. JP/jp-1)")
                        }
                    }
                }
            }
            r.finish(peer)
        }

        var sync = NodeConfiguration.Sync()
        if let section = r.section(document, "sync", required: false) {
            if let value = r.duration(section, "anti-entropy-interval") { sync.antiEntropyInterval = value }
            if let value = r.duration(section, "idle-timeout") { sync.idleTimeout = value }
            // At least 1 MiB: honest peers send frames of up to 1 MiB (a smaller limit would refuse them).
            if let value = r.byteSize(section, "max-frame-size", in: (1 << 20)...(64 << 20)) { sync.maximumFrameBytes = value }
            if let value = r.byteSize(section, "max-pending-bytes", in: 64 << 10...(1 << 30)) { sync.maximumPendingBytes = value }
            if let value = r.integer(section, "batch-size", in: 1...10_000) { sync.batchSize = value }
            if let value = r.byteSize(section, "max-feed-bytes", in: 1 << 20...(1 << 40)) { sync.maximumFeedBytes = value }
            if let value = r.duration(section, "claim-proof-timeout") { sync.claimProofTimeout = value }
            if let value = r.duration(section, "penalty") { sync.penalty = value }
            if let value = r.duration(section, "max-penalty") { sync.maximumPenalty = value }
            if let value = r.duration(section, "max-clock-skew") { sync.maximumClockSkew = value }
            if let value = r.integer(section, "snapshot-every", in: 1_000...10_000_000) { sync.snapshotInterval = value }
            if let value = r.boolean(section, "join-from-checkpoint") { sync.joinFromCheckpoint = value }
            if let value = r.byteSize(section, "max-checkpoint-bytes", in: (1 << 20)...(4 << 30)) { sync.maximumCheckpointBytes = value }
            if sync.maximumPenalty.milliseconds < sync.penalty.milliseconds {
                r.report(
                    section.node("max-penalty") ?? section.node, "sync.max-penalty", "\(sync.maximumPenalty) is shorter than sync.penalty (\(sync.penalty))")
            }
            if let value = r.integer(section, "max-invalid-entries-per-session", in: 1...10_000_000) { sync.invalidEntriesPerSession = value }
            if let value = r.byteSize(section, "max-waiting-bytes", in: 1 << 20...(4 << 30)) { sync.maximumWaitingBytes = value }
            if let value = r.byteSize(section, "max-waiting-bytes-per-feed", in: 64 << 10...(4 << 30)) {
                if value <= sync.maximumWaitingBytes {
                    sync.maximumWaitingBytesPerFeed = value
                } else {
                    r.report(
                        section.node("max-waiting-bytes-per-feed"), "sync.max-waiting-bytes-per-feed",
                        "\(value) bytes is more than sync.max-waiting-bytes (\(sync.maximumWaitingBytes))")
                }
            } else if sync.maximumWaitingBytesPerFeed > sync.maximumWaitingBytes {
                sync.maximumWaitingBytesPerFeed = sync.maximumWaitingBytes
            }
            r.finish(section)
        }

        var logging = NodeConfiguration.Logging()
        if let section = r.section(document, "log", required: false) {
            if let text = r.string(section, "format", required: false) {
                if let format = NodeConfiguration.LogFormat(rawValue: text) {
                    logging.format = format
                } else {
                    r.report(section.node("format"), "log.format", "\"\(text)\" must be text or json")
                }
            }
            if let text = r.string(section, "level", required: false) {
                let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                if levels.contains(text) {
                    logging.level = text
                } else {
                    r.report(section.node("level"), "log.level", "\"\(text)\" must be one of \(levels.joined(separator: ", "))")
                }
            }
            r.finish(section)
        }

        var proofs = NodeConfiguration.Proofs()
        if let section = r.section(document, "proofs", required: false) {
            if let value = r.duration(section, "interval") { proofs.interval = value }
            if section.node("quorum") != nil {
                var quorum: [ParticipantID] = []
                for (item, key) in r.list(section, "quorum") {
                    guard let text = item.string, let participant = try? ParticipantID(text) else {
                        r.report(item, key, "\"\(item.string ?? "")\" is not a participant id (2-8 of A-Z, 0-9)")
                        continue
                    }
                    // A participant this node does not trust can sign nothing it takes: no checkpoint would ever form.
                    if let tls, !tls.trustAnchors.isEmpty, tls.trustAnchors[participant] == nil {
                        r.report(item, key, "\(participant) has no trust anchor in tls.trust-anchors: its statements would never count")
                        continue
                    }
                    quorum.append(participant)
                }
                if quorum.isEmpty { r.report(section.node("quorum") ?? section.node, "proofs.quorum", "names no participant") }
                proofs.quorum = quorum
            }
            r.finish(section)
        }

        var history = NodeConfiguration.History()
        if let section = r.section(document, "history", required: false) {
            if let value = r.boolean(section, "drop-archived") { history.dropArchived = value }
            r.finish(section)
        }

        var extensions: [(id: String, name: String)] = []
        if let section = r.section(document, "minerals", required: false) {
            for (item, key) in r.list(section, "extensions") {
                guard let mineral = r.mapping(item, key: key) else { continue }
                if let id = r.string(mineral, "id", required: true), let name = r.string(mineral, "name", required: true) {
                    if (try? MineralID(id)) == nil {
                        r.report(mineral.node("id"), "\(key).id", RegistryValueError.invalidMineral(id).description)
                    } else {
                        extensions.append((id, name))
                    }
                }
                r.finish(mineral)
            }
            if (try? MineralCatalogue(extensions: extensions)) == nil, !extensions.isEmpty {
                r.report(section.node, "minerals.extensions", "an extension repeats a mineral already in the catalogue")
            }
            r.finish(section)
        }
        let hooks = readHooks(document, r, catalogue: (try? MineralCatalogue(extensions: extensions)) ?? .standard)
        r.finish(document)

        guard let node, let dataDirectory, let listen, let adminSocket, let tls else { return nil }
        var configuration = NodeConfiguration(
            node: node, dataDirectory: dataDirectory, listen: listen, adminSocket: adminSocket,
            adminSocketMode: adminMode, metricsListen: metrics, tls: tls, peers: peers)
        configuration.pinnedPeers = pinnedPeers
        configuration.sync = sync
        configuration.proofs = proofs
        configuration.history = history
        configuration.logging = logging
        configuration.mineralExtensions = extensions
        configuration.hooks = hooks
        configuration.source = NodeConfiguration.Source(file: r.file, lines: r.lines)
        return configuration
    }

    /// `hooks:`, a list: each names its events and one target, `exec:` or `webhook:`.
    private static func readHooks(_ document: ConfigReader.Section, _ r: ConfigReader, catalogue: MineralCatalogue) -> [HookConfiguration] {
        var hooks: [HookConfiguration] = []
        let kinds = RegistryEventKind.allCases.map(\.rawValue).joined(separator: ", ")
        for (item, key) in r.list(document, "hooks") {
            guard let section = r.mapping(item, key: key) else { continue }
            defer { r.finish(section) }
            var events: Set<RegistryEventKind> = []
            let listed = r.list(section, "events")
            for (eventNode, eventKey) in listed {
                guard let text = eventNode.string, let kind = RegistryEventKind(rawValue: text) else {
                    r.report(eventNode, eventKey, "\"\(eventNode.string ?? "")\" is not an event: one of \(kinds)")
                    continue
                }
                events.insert(kind)
            }
            if listed.isEmpty {
                r.report(section.node("events") ?? section.node, "\(key).events", "names no event: list at least one of \(kinds)")
            }
            var severity: Severity?
            if let text = r.string(section, "min-severity", required: false) {
                do { severity = try Severity(parsing: text) } catch {
                    r.report(
                        section.node("min-severity"), "\(key).min-severity",
                        "\"\(text)\" must be one of \(Severity.allCases.map(\.description).joined(separator: ", "))")
                }
                if !events.isEmpty, !events.contains(where: \.isAboutAnAlert) {
                    r.report(section.node("min-severity"), "\(key).min-severity", "applies to alert events only, and this hook has none")
                }
            }
            var minerals: Set<MineralID>?
            if section.node("minerals") != nil {
                var named = Set<MineralID>()
                let listedMinerals = r.list(section, "minerals")
                for (mineralNode, mineralKey) in listedMinerals {
                    do { named.insert(try catalogue.resolve(mineralNode.string ?? "")) } catch {
                        r.report(mineralNode, mineralKey, "\"\(mineralNode.string ?? "")\" is not a mineral of the catalogue (mineralctl minerals lists them)")
                    }
                }
                if listedMinerals.isEmpty { r.report(section.node("minerals"), "\(key).minerals", "names no mineral (leave it out for every mineral)") }
                minerals = named
            }
            let exec = r.path(section, "exec", required: false)
            let webhookText = r.string(section, "webhook", required: false)
            var target: HookConfiguration.Target?
            switch (exec, webhookText) {
            case (let path?, nil): target = .exec(path)
            case (nil, let text?):
                switch WebhookAddress.parse(text) {
                case .success(let address): target = .webhook(address)
                case .failure(let problem): r.report(section.node("webhook"), "\(key).webhook", "\"\(text)\" \(problem)")
                }
            case (.some, .some): r.report(section.node, key, "has both exec: and webhook:; a hook does one (write two hooks for both)")
            case (nil, nil):
                if section.node("exec") == nil, section.node("webhook") == nil {
                    r.report(
                        section.node, key, "needs exec: (a program run with the event on its standard input) or webhook: (an http:// URL posted the event)")
                }
            }
            let timeout = r.duration(section, "timeout", maximum: .seconds(300))
            let maximumAge = r.duration(section, "max-age", maximum: .days(3650))
            let name = r.string(section, "name", required: false)
            if let name, name.count > 64 || name.contains(where: { $0.isNewline || $0 == "\"" }) {
                r.report(section.node("name"), "\(key).name", "must be at most 64 characters, on one line, without quotes")
            }
            guard let target, !events.isEmpty else { continue }
            var hook = HookConfiguration(name: name ?? target.description, events: events, target: target)
            hook.minimumSeverity = severity
            hook.minerals = minerals
            if let timeout { hook.timeout = timeout }
            if let maximumAge { hook.maximumAge = maximumAge }
            if hooks.contains(where: { $0.name == hook.name }) {
                r.report(section.node("name") ?? section.node, "\(key).name", "\"\(hook.name)\" names another hook too: give each hook a name of its own")
                continue
            }
            hooks.append(hook)
        }
        return hooks
    }

    static func problem(from error: YamlError, file: String) -> ConfigProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigProblem(file: file, line: mark.line, key: "", message: "not valid YAML: \(problem) (column \(mark.column))")
        default:
            return ConfigProblem(file: file, line: nil, key: "", message: "not valid YAML: \(error)")
        }
    }

    static func absolutePath(_ path: String, relativeTo base: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let joined = expanded.hasPrefix("/") ? expanded : (base as NSString).appendingPathComponent(expanded)
        return (joined as NSString).standardizingPath
    }
}
