import OpenSSLCrypto
import Registry
import TestSupport

/// Random signed histories for the property tests: every operation kind, entries that break the
/// policy, operations this version does not know or refuses to fold, reports in tonnes and in
/// kilograms, sites spelled in canonically equivalent ways, clocks that collide across nodes,
/// and (on request) forks: two signed entries by one node for one position of its feed.
///
/// `features` says which of these a history holds, so a test can check that the cases it means
/// to exercise actually occur (`RandomHistoryTests`).
struct RandomHistory {
    enum Feature: String, CaseIterable, Sendable {
        case policyViolation, unknownOperation, malformedOperation, mixedUnits, unicodeEquivalentSites, clockTie
        case alertAcknowledged, alertUpdated, alertResolved, fork, forkBranchContinues
    }

    /// Every entry, in the order its author wrote it.
    let entries: [Entry]
    let features: Set<Feature>
    /// Feeds holding two signed entries for one position.
    let forkedFeeds: Set<NodeID>

    static let minerals = ["gallium", "graphite", "tungsten"]
    /// Spellings that are canonically equivalent in Unicode: one register each, whichever arrives.
    static let equivalentSites = [("Qu\u{E9}bec", "Que\u{301}bec"), ("K", "\u{212A}")]

    /// The entries of feeds that are not forked: what every replica must agree on.
    var unforkedEntries: [Entry] { entries.filter { !forkedFeeds.contains($0.origin) } }

    /// The vector a node holding every entry of the unforked feeds must advertise.
    var unforkedVector: VersionVector {
        var vector = VersionVector()
        for entry in unforkedEntries where entry.seq > vector[entry.origin] { vector[entry.origin] = entry.seq }
        return vector
    }

    static func make(alliance: TestAlliance, size: Int, forks: Bool = false, random: inout SplitMix64) -> RandomHistory {
        var authors = Dictionary(uniqueKeysWithValues: alliance.ids.map { ($0, FeedAuthor(node: $0, key: alliance.nodes[$0]!)) })
        /// Each feed's author as it was before its latest entry: a fork re-signs that position.
        var before: [NodeID: FeedAuthor] = [:]
        var latest: [NodeID: Entry] = [:]
        /// A second branch that goes on after a fork.
        var branches: [NodeID: FeedAuthor] = [:]
        var alerts: [EntryID] = []
        var entries: [Entry] = []
        var features: Set<Feature> = []
        var forked: Set<NodeID> = []
        let participants: [ParticipantID] = ["EU", "US", "JP"]
        for _ in 0..<size {
            let node = alliance.ids[Int(random.next() % UInt64(alliance.ids.count))]
            let own = node.participant
            let roll = random.next() % 100
            let someone = participants[Int(random.next() % 3)]
            let mineral = minerals[Int(random.next() % 3)]
            let amount = "\(random.next() % 1000)"
            let now = 1_000 + random.next() % 20
            let unit: MassUnit = random.next() % 4 == 0 ? .kilogram : .tonne

            if forks, roll >= 97, let earlier = before[node] {
                // Sign a different entry for the position the feed's latest entry holds.
                var twin = earlier
                let entry = twin.write(Ops.report(own, mineral, "\(amount)1"), at: now)
                guard entry != latest[node] else { continue }
                entries.append(entry)
                forked.insert(node)
                branches[node] = twin
                continue
            }
            if var branch = branches[node], roll < 5 {
                // The forked twin writes on after the fork: the branches diverge further.
                entries.append(branch.write(Ops.report(own, mineral, amount), at: now))
                branches[node] = branch
                features.insert(.forkBranchContinues)
                continue
            }

            let author = authors[node]!
            let written: Entry
            var next = author
            switch roll {
            case 0..<3:
                // A handcrafted entry: an operation kind from a newer version, a report with a
                // field a newer version added, or one this version refuses to fold (a negative amount).
                let made =
                    try! roll == 0
                    ? HandcraftedEntries.unknownOperation(by: author, fieldNumber: 40 + Int(random.next() % 20), now: now)
                    : roll == 1
                        ? HandcraftedEntries.report(
                            form: "metal", amount: "\(random.next() % 100)", basis: 9, unknownField: 11 + Int(random.next() % 5),
                            by: author, now: now)
                        : HandcraftedEntries.negativeReserve(by: author, now: now)
                (written, next) = made
            default:
                let operation: EntryOperation
                switch roll {
                case 3..<38:
                    let site: String
                    switch random.next() % 4 {
                    case 0: site = ""
                    case 1: site = "depot-\(random.next() % 2)"
                    default:
                        let pair = equivalentSites[Int(random.next() % 2)]
                        site = random.next() % 2 == 0 ? pair.0 : pair.1
                    }
                    // Now and then a report for another participant or of an unknown mineral.
                    let participant = roll < 6 ? someone : own
                    var report = Ops.report(participant, roll == 6 ? "unobtainium" : mineral, amount, unit: unit, site: site)
                    // Now and then a form and basis, or a figure withheld.
                    if case .reportReserve(var details) = report {
                        switch random.next() % 8 {
                        case 0:
                            details.form = "metal"
                            details.basis = .contained
                        case 1:
                            details.withheld = "national security"
                            details.quantity = ReserveReport.withheldQuantity
                        default: break
                        }
                        report = .reportReserve(details)
                    }
                    operation = report
                case 38..<42: operation = Ops.target(own, mineral, amount)
                case 42..<46:
                    operation = .setConsumption(
                        ReserveConsumption(
                            participant: own, mineral: try! MineralID(mineral),
                            quantity: Quantity(amount: try! Amount(amount), unit: .tonne)))
                case 46..<60: operation = Ops.raise(mineral, "event \(random.next() % 10)")
                default:
                    guard let alert = alerts.randomElement(using: &random) else {
                        operation = Ops.raise(mineral)
                        break
                    }
                    switch roll {
                    case 60..<75: operation = Ops.ack(alert, roll < 62 ? someone : own)
                    case 75..<88: operation = Ops.update(alert, severity: Severity(rawValue: Int(random.next() % 5) + 1))
                    default: operation = Ops.resolve(alert)
                    }
                }
                written = next.write(operation, at: now)
            }
            if case .raiseAlert = written.operation { alerts.append(written.id) }
            entries.append(written)
            latest[node] = written
            before[node] = author
            authors[node] = next
        }
        features.formUnion(Self.features(of: entries))
        if !forked.isEmpty { features.insert(.fork) }
        return RandomHistory(entries: entries, features: features, forkedFeeds: forked)
    }

    /// What a history holds, read off its entries.
    private static func features(of entries: [Entry]) -> Set<Feature> {
        var features: Set<Feature> = []
        var units: [String: Set<MassUnit>] = [:]
        var spellings: [String: Set<String>] = [:]
        var clocks: [HybridTimestamp: Set<NodeID>] = [:]
        let policy = EntryPolicy()
        for entry in entries {
            clocks[entry.clock, default: []].insert(entry.origin)
            switch entry.operation {
            case .unknown: features.insert(.unknownOperation)
            case .malformed: features.insert(.malformedOperation)
            case .reportReserve(let report):
                let register = "\(report.participant)/\(report.mineral)"
                units[register, default: []].insert(report.quantity.unit)
                for (a, b) in equivalentSites where report.site == a || report.site == b {
                    spellings["\(register)/\(a)", default: []].insert(report.site.unicodeScalars.map { "\($0.value)" }.joined(separator: "."))
                }
            case .acknowledgeAlert: features.insert(.alertAcknowledged)
            case .updateAlert: features.insert(.alertUpdated)
            case .resolveAlert: features.insert(.alertResolved)
            default: break
            }
            if case .malformed = entry.operation {
            } else if policy.violation(of: entry.operation, by: entry.origin) != nil {
                features.insert(.policyViolation)
            }
        }
        if units.values.contains(where: { $0.count > 1 }) { features.insert(.mixedUnits) }
        if spellings.values.contains(where: { $0.count > 1 }) { features.insert(.unicodeEquivalentSites) }
        if clocks.values.contains(where: { $0.count > 1 }) { features.insert(.clockTie) }
        return features
    }
}
