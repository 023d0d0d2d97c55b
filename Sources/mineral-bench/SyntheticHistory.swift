import OpenSSLCrypto
import Registry

/// A realistic alliance history for benchmarks: feeds spread over EU, US and JP; mostly reserve
/// reports over 1,000 (participant, mineral, site) registers, with targets and alert traffic.
struct SyntheticHistory {
    let nodes: [NodeID]
    /// Each feed's first key.
    let keys: [NodeID: PrivateKey]
    /// Every feed's key history (`keysPerFeed` certificates, valid for every entry's clock).
    let signers: OriginKeys
    /// Feed by feed, in seq order.
    let entries: [Entry]
    /// What a fresh node receives when it catches up: each feed's entries in batches, feeds interleaved.
    let catchUpOrder: [Entry]

    /// - Parameter keysPerFeed: each feed rotates its key this many times minus one, at even
    ///   intervals (key history: each entry names its certificate).
    /// - Parameter superseding: each report, target and alert update names the register's latest
    ///   write so far (`supersedes`, as an author who has seen everything writes it); otherwise
    ///   none does (writes of nodes that predate the field).
    init(entries count: Int, feeds: Int, algorithm: KeyAlgorithm, keysPerFeed: Int = 1, superseding: Bool = false) throws {
        let participants: [ParticipantID] = ["EU", "US", "JP"]
        let minerals = MineralCatalogue.standard.sorted.map(\.id)
        var nodes: [NodeID] = []
        var history: [NodeID: [(key: PrivateKey, signer: SignerID)]] = [:]
        var signers = OriginKeys()
        for index in 0..<feeds {
            let participant = participants[index % participants.count]
            let node = try NodeID(participant: participant, name: "node-\(index)")
            nodes.append(node)
            for generation in 0..<keysPerFeed {
                let key = try PrivateKey.generate(algorithm)
                let signer = SHA256.hash(Array("certificate \(generation) of \(node)".utf8))
                history[node, default: []].append((key, signer))
                signers.add(SignerKey(id: signer, key: key.publicKey, validFrom: 0, validUntil: .max), for: node)
            }
        }
        var authors = nodes.map { FeedAuthor(node: $0, key: history[$0]![0].key, signer: history[$0]![0].signer) }
        let perKey = max(1, count / feeds / keysPerFeed)
        var perFeed = Array(repeating: [Entry](), count: feeds)
        var alerts: [[EntryID]] = Array(repeating: [], count: participants.count)
        var random = UInt64(0x5EED)
        func next() -> UInt64 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return random >> 33
        }
        var latest: [String: EntryID] = [:]
        for index in 0..<count {
            let feed = index % feeds
            let participant = nodes[feed].participant
            let generation = min(keysPerFeed - 1, (index / feeds) / perKey)
            if authors[feed].signer != history[nodes[feed]]![generation].signer {
                let next = history[nodes[feed]]![generation]
                authors[feed] = authors[feed].signing(with: next.key, signer: next.signer, validity: nil)
            }
            let mineral = minerals[Int(next() % 20)]
            let roll = next() % 100
            var operation: EntryOperation
            let participantIndex = participants.firstIndex(of: participant)!
            switch roll {
            case 0..<85:
                // 3 participants × 20 minerals × ~17 sites ≈ 1,000 registers.
                operation = .reportReserve(
                    ReserveReport(
                        participant: participant, mineral: mineral, site: "site-\(next() % 17)",
                        quantity: Quantity(amount: try Amount("\(next() % 100_000).\(next() % 1000 + 1)"), unit: .tonne),
                        asOfMillis: 1_700_000_000_000 + UInt64(index)))
            case 85..<90:
                operation = .setTarget(
                    ReserveTarget(
                        participant: participant, mineral: mineral,
                        quantity: Quantity(amount: try Amount("\(next() % 100_000)"), unit: .tonne)))
            case 90..<95,
                _ where alerts[participantIndex].isEmpty:
                operation = .raiseAlert(
                    AlertRaise(
                        mineral: mineral, severity: .high, category: .exportRestriction,
                        region: "region-\(next() % 9)", summary: "synthetic disruption \(index)"))
            default:
                let alert = alerts[participantIndex][Int(next() % UInt64(alerts[participantIndex].count))]
                operation =
                    roll < 98
                    ? .acknowledgeAlert(AlertAcknowledgement(alertID: alert, participant: participant))
                    : .updateAlert(AlertUpdate(alertID: alert, severity: .critical))
            }
            var register: String?
            switch operation {
            case .reportReserve(let report): register = "\(report.participant)|\(report.mineral)|\(report.site)"
            case .setTarget(let target): register = "\(target.participant)|\(target.mineral)"
            case .updateAlert(let update): register = update.alertID.hex
            default: register = nil
            }
            if superseding, let register, let previous = latest[register] {
                switch operation {
                case .reportReserve(var report):
                    report.supersedes = previous
                    operation = .reportReserve(report)
                case .setTarget(var target):
                    target.supersedes = previous
                    operation = .setTarget(target)
                case .updateAlert(var update):
                    update.supersedes = previous
                    operation = .updateAlert(update)
                default: break
                }
            }
            let (entry, author) = try authors[feed].drafting(operation, now: 1_700_000_000_000 + UInt64(index))
            if let register { latest[register] = entry.id }
            authors[feed] = author
            if case .raiseAlert = operation { alerts[participantIndex].append(entry.id) }
            perFeed[feed].append(entry)
        }
        self.nodes = nodes
        self.keys = history.mapValues { $0[0].key }
        self.signers = signers
        self.entries = perFeed.flatMap { $0 }
        var order: [Entry] = []
        let chunk = 250
        var offset = 0
        while order.count < count {
            for feed in perFeed where offset < feed.count { order.append(contentsOf: feed[offset..<min(offset + chunk, feed.count)]) }
            offset += chunk
        }
        self.catchUpOrder = order
    }

    /// Each feed's first key, whatever certificate an entry names (the lookup before key history).
    var keyDirectory: (NodeID) -> PublicKey? {
        let publicKeys = keys.mapValues(\.publicKey)
        return { publicKeys[$0] }
    }
}
