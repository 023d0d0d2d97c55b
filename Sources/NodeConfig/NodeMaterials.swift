import Foundation
import OpenSSLCrypto
import Registry

/// What the files a config names hold, loaded and checked together: the node's key and
/// certificate chain, the trust anchors and CRLs, the mineral catalogue. `check-config` and the
/// daemon's start and SIGHUP reload all go through `load`, so they refuse the same things with
/// the same messages.
public struct NodeMaterials: Sendable {
    public let certificateChain: [Certificate]
    public let privateKey: PrivateKey
    public let trustStore: TrustStore
    public let revocationLists: [CertificateRevocationList]
    public let catalogue: MineralCatalogue

    public var certificateExpiry: Date { certificateChain[0].notAfter }

    /// The config file and everything it names: the one check that `check-config`, the daemon's
    /// start and its SIGHUP reload all go through.
    public static func load(configurationFile path: String) throws(ConfigurationError) -> (NodeConfiguration, NodeMaterials) {
        let configuration = try ConfigurationParser.load(path: path)
        return (configuration, try load(configuration))
    }

    /// - Parameter now: the time certificates must be valid at.
    public static func load(_ configuration: NodeConfiguration, now: Date = Date()) throws(ConfigurationError) -> NodeMaterials {
        let source = configuration.source
        var problems: [ConfigProblem] = []
        func attempt<T>(_ key: String, _ body: () throws -> T) -> T? {
            do { return try body() } catch {
                problems.append(source.problem(key, "\(error)"))
                return nil
            }
        }
        let tls = configuration.tls

        let key = attempt("tls.private-key") { try PrivateKey(pemFile: tls.privateKey) }
        let chain = attempt("tls.certificate") { try Certificate.chain(pemFile: tls.certificate) }
        var anchors: [String: [Certificate]] = [:]
        for (participant, path) in tls.trustAnchors.sorted(by: { $0.key < $1.key }) {
            anchors[participant.rawValue] = attempt("tls.trust-anchors.\(participant)") { try Certificate.chain(pemFile: path) }
        }
        let crls = tls.revocationLists.enumerated().compactMap { index, path in
            attempt("tls.crls[\(index)]") { try CertificateRevocationList.load(pemFile: path) }
        }
        let catalogue = attempt("minerals.extensions") { try MineralCatalogue(extensions: configuration.mineralExtensions) }
        checkDirectories(configuration, into: &problems)
        for (index, hook) in configuration.hooks.enumerated() {
            guard case .exec(let program) = hook.target else { continue }
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: program, isDirectory: &isDirectory) {
                problems.append(source.problem("hooks[\(index)].exec", "\(program) does not exist"))
            } else if isDirectory.boolValue || !FileManager.default.isExecutableFile(atPath: program) {
                problems.append(source.problem("hooks[\(index)].exec", "\(program) is not an executable file (chmod +x?)"))
            }
        }

        // Checks that need several files, only once each file is sound on its own.
        var trustStore: TrustStore?
        if anchors.count == tls.trustAnchors.count, crls.count == tls.revocationLists.count {
            trustStore = attempt("tls.trust-anchors") {
                try TrustStore(trustDomain: tls.trustDomain, anchors: anchors, revocationLists: crls)
            }
        }
        if let key, let chain {
            if !chain[0].matches(key) {
                problems.append(source.problem("tls.private-key", "does not belong to the certificate \(chain[0].subject) in \(tls.certificate)"))
            }
        }
        if let chain, let trustStore {
            checkIdentity(of: chain, configuration: configuration, trustStore: trustStore, now: now, into: &problems)
        }
        guard problems.isEmpty, let key, let chain, let trustStore, let catalogue else {
            throw ConfigurationError(problems: problems)
        }
        return NodeMaterials(certificateChain: chain, privateKey: key, trustStore: trustStore, revocationLists: crls, catalogue: catalogue)
    }

    /// The certificate must name exactly this node and verify, now, against this participant's
    /// anchor: a node that starts with a certificate its partners will refuse helps nobody.
    private static func checkIdentity(
        of chain: [Certificate], configuration: NodeConfiguration, trustStore: TrustStore,
        now: Date, into problems: inout [ConfigProblem]
    ) {
        let source = configuration.source
        do {
            let identity = try trustStore.identity(of: chain[0])
            let named = try NodeID(identity)
            guard identity.trustDomain == configuration.tls.trustDomain else {
                problems.append(
                    source.problem("tls.certificate", "names trust domain \(identity.trustDomain), but tls.trust-domain is \(configuration.tls.trustDomain)"))
                return
            }
            guard named == configuration.node else {
                problems.append(
                    source.problem(
                        "tls.certificate", "is for node \(named), but this config is for node \(configuration.node) (node.participant and node.name)"))
                return
            }
        } catch {
            problems.append(source.problem("tls.certificate", "\(error)"))
            return
        }
        if chain[0].notAfter < now {
            problems.append(source.problem("tls.certificate", "expired on \(chain[0].notAfter) (\(chain[0].subject))"))
            return
        }
        if chain[0].notBefore > now {
            problems.append(source.problem("tls.certificate", "is not valid until \(chain[0].notBefore) (\(chain[0].subject))"))
            return
        }
        do {
            _ = try trustStore.verify(chain, at: now)
        } catch {
            problems.append(source.problem("tls.certificate", "would be refused by partners: \(error)"))
        }
    }

    private static func checkDirectories(_ configuration: NodeConfiguration, into problems: inout [ConfigProblem]) {
        let files = FileManager.default
        let source = configuration.source
        var isDirectory: ObjCBool = false
        let data = configuration.dataDirectory
        if files.fileExists(atPath: data, isDirectory: &isDirectory) {
            if !isDirectory.boolValue {
                problems.append(source.problem("node.data-dir", "\(data) is a file, not a directory"))
            } else if !files.isWritableFile(atPath: data) {
                problems.append(source.problem("node.data-dir", "\(data) is not writable by this user"))
            }
        } else {
            let parent = (data as NSString).deletingLastPathComponent
            if !files.fileExists(atPath: parent, isDirectory: &isDirectory) || !isDirectory.boolValue {
                problems.append(source.problem("node.data-dir", "neither \(data) nor its parent directory exists"))
            } else if !files.isWritableFile(atPath: parent) {
                problems.append(source.problem("node.data-dir", "\(data) does not exist and \(parent) is not writable to create it"))
            }
        }
        let socket = configuration.adminSocket
        let socketDirectory = (socket as NSString).deletingLastPathComponent
        if socketDirectory != data {
            if !files.fileExists(atPath: socketDirectory, isDirectory: &isDirectory) || !isDirectory.boolValue {
                problems.append(source.problem("admin.socket", "directory \(socketDirectory) does not exist"))
            } else if !files.isWritableFile(atPath: socketDirectory) {
                problems.append(source.problem("admin.socket", "directory \(socketDirectory) is not writable by this user"))
            }
        }
        if let attributes = try? files.attributesOfItem(atPath: socket), attributes[.type] as? FileAttributeType != .typeSocket {
            problems.append(source.problem("admin.socket", "\(socket) exists and is not a socket; refusing to replace it"))
        }
    }
}
