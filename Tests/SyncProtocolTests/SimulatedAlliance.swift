import OpenSSLCrypto
import Registry
import SyncProtocol
import TestSupport

/// Nodes made of the pure pieces only (registry, session state machines, an in-memory store),
/// wired by an in-memory network that delivers messages in order per link. It plays the shell's
/// part exactly as the daemon must: perform every action, fan accepted entries out to every
/// session, stream gaps from the store, send certificates ahead of entries.
final class SimulatedNode {
    let id: NodeID
    let alliance: TestAlliance
    var registry = MineralRegistry()
    var author: FeedAuthor
    /// Committed entries by feed and seq.
    var store: [NodeID: [UInt64: Entry]] = [:]
    var sessions: [NodeID: SyncSession] = [:]
    /// Public keys this node may verify with: its own, its direct peers' (from TLS), and
    /// those learned from origin certificates.
    var knownKeys: [NodeID: PublicKey] = [:]
    var rejected: [EntryRejection] = []
    var ownFeedBehind: UInt64?
    /// Heads of a restored peer's own feed sent to it as proof.
    var provedHeads: [UInt64] = []
    let network: SimulatedNetwork

    init(_ name: String, alliance: TestAlliance, network: SimulatedNetwork) {
        self.alliance = alliance
        self.network = network
        id = alliance.node(name)
        author = alliance.author(name)
        knownKeys[id] = alliance.nodes[id]!.publicKey
    }

    var vector: VersionVector { registry.vector }
    var headIDs: [NodeID: EntryID] {
        vector.heads.keys.reduce(into: [:]) { heads, feed in heads[feed] = registry.ledger.head(of: feed)?.id }
    }

    func connect(_ peer: SimulatedNode) {
        for (a, b) in [(self, peer), (peer, self)] {
            a.knownKeys[b.id] = a.alliance.nodes[b.id]!.publicKey  // what the TLS handshake proved
            a.sessions[b.id] = SyncSession(local: a.id, peer: b.id)
            a.perform(a.sessions[b.id]!.start(localVector: a.vector, headIDs: a.headIDs), peer: b.id)
        }
    }

    func write(_ operation: EntryOperation, at now: UInt64) throws {
        let (entry, next) = try registry.draft(operation, by: author, now: now)
        store[entry.origin, default: [:]][entry.seq] = entry  // committed before anyone hears of it
        try registry.adoptOwn(entry)
        author = next
        fanOut([entry])
    }

    func receive(_ message: SyncMessage, from peer: NodeID) {
        guard var session = sessions[peer] else { return }
        let actions = session.receive(message, localVector: vector)
        sessions[peer] = session
        perform(actions, peer: peer)
    }

    private func fanOut(_ entries: [Entry]) {
        guard !entries.isEmpty else { return }
        for peer in sessions.keys.sorted() {
            guard var session = sessions[peer] else { continue }
            let actions = session.offer(entries)
            sessions[peer] = session
            perform(actions, peer: peer)
        }
    }

    func perform(_ actions: [SyncSession.Action], peer: NodeID) {
        for action in actions {
            switch action {
            case .send(let message):
                network.send(message, from: id, to: peer)
            case .stream(let ranges):
                for (origin, range) in ranges.sorted(by: { $0.key < $1.key }) {
                    let entries = range.compactMap { store[origin]?[$0]?.signed }
                    for start in stride(from: 0, to: entries.count, by: 50) {
                        network.send(.entries(Array(entries[start..<min(start + 50, entries.count)])), from: id, to: peer)
                    }
                }
            case .sendCertificates(let origins):
                // A certificate here is just the origin's public key; the daemon sends the DER chain.
                network.send(
                    .certificates(origins.map { OriginCertificate(node: $0, chain: [alliance.nodes[$0]!.publicKey.subjectPublicKeyInfo]) }),
                    from: id, to: peer)
            case .takeRevocations:
                continue  // no authority here: revocation is tested with real nodes
            case .takeStatements:
                continue  // convergence proofs are tested with real daemons (ProofProcessTests)
            case .serveCheckpoint, .checkpointUnavailable, .joinFromCheckpoint:
                continue  // no node here joins from a checkpoint (CheckpointJoinProcessTests)
            case .ingest(let entries, let certificates):
                for certificate in certificates {
                    // The daemon verifies the chain with its TrustStore; here: it must be that node's real key.
                    if let key = try? PublicKey(subjectPublicKeyInfo: certificate.chain[0]), key == alliance.nodes[certificate.node]?.publicKey {
                        knownKeys[certificate.node] = key
                    }
                }
                guard !entries.isEmpty else { continue }
                let keys = knownKeys
                let result = registry.ingest(entries) { keys[$0] }
                rejected += result.rejected
                for entry in result.accepted {
                    store[entry.origin, default: [:]][entry.seq] = entry
                    if entry.origin == id { author.catchUp(to: entry) }
                }
                if var session = sessions[peer] {
                    session.peerSent(result.accepted)
                    sessions[peer] = session
                }
                fanOut(result.accepted)
            case .compareHeads(let claims):
                for (feed, claim) in claims.sorted(by: { $0.key < $1.key }) {
                    guard let ours = registry.ledger.entryID(of: feed, seq: claim.seq), ours != claim.id,
                        let entry = store[feed]?[claim.seq]
                    else { continue }
                    network.send(.entries([entry.signed]), from: id, to: peer)
                }
            case .established:
                break
            case .ownFeedBehind(let held):
                ownFeedBehind = held
            case .proveHead(let seq):
                if let entry = store[peer]?[seq] {
                    provedHeads.append(seq)
                    network.send(.entries([entry.signed]), from: id, to: peer)
                }
            case .close(let reason, let detail, let sendGoodbye):
                if sendGoodbye { network.send(.goodbye(reason, detail: detail), from: id, to: peer) }
                sessions[peer] = nil
            }
        }
    }
}

/// FIFO delivery per link; `tamper` lets a test play a dishonest relay on one link.
final class SimulatedNetwork {
    var nodes: [NodeID: SimulatedNode] = [:]
    private var queue: [(from: NodeID, to: NodeID, message: SyncMessage)] = []
    var tamper: ((NodeID, NodeID, SyncMessage) -> SyncMessage)?
    private(set) var delivered = 0

    func add(_ node: SimulatedNode) { nodes[node.id] = node }

    func send(_ message: SyncMessage, from: NodeID, to: NodeID) {
        // Everything crosses the wire encoded, as it would between processes.
        let bytes = try! SyncMessageCodec.encode(tamper?(from, to, message) ?? message)
        queue.append((from, to, try! SyncMessageCodec.decode(bytes)))
    }

    /// Delivers until no message is left.
    func runUntilQuiet(limit: Int = 1_000_000) {
        while !queue.isEmpty && delivered < limit {
            let (from, to, message) = queue.removeFirst()
            delivered += 1
            nodes[to]?.receive(message, from: from)
        }
    }

    func antiEntropy() {
        for node in nodes.values {
            for peer in node.sessions.keys.sorted() {
                let actions = node.sessions[peer]!.antiEntropyTick(localVector: node.vector)
                node.perform(actions, peer: peer)
            }
        }
    }
}
