import Foundation
import OpenSSLCrypto

/// The registry as people read it, folded from entries. Never replicated: every node derives it.
///
/// Merge law: the views are a function of the entries folded, and entries are folded as the
/// ledger releases them: each feed in ascending seq. An entry at or below its feed's highest
/// folded seq (`folded`) is taken as folded already. Folding the same feed prefixes with the
/// feeds interleaved in any order, any number of times, gives equal views and an equal `digest`
/// (commutative, associative, idempotent over the prefixes, which merge as version vectors).
/// Nothing here depends on the local clock.
///
/// The views keep what they show, not the history behind it (`Register`): history is read
/// from the store and ordered by `history(of:in:)`.
///
/// - Reserves: per participant × mineral × site, the report greatest in `EventOrder` (last writer
///   wins; the only writers are the participant's own nodes).
/// - Targets: the same, per participant × mineral.
/// - Alerts: see `DisruptionAlert`.
/// Entries that break the policy are left out and listed in `violations`; entries with an
/// operation this version does not know are counted in `unknownOperations`.
public struct RegistryViews: Sendable {
    public let policy: EntryPolicy

    var reserveRegisters: [ReserveKey: Register<ReserveRecord>] = [:]
    var targetRegisters: [TargetKey: Register<TargetRecord>] = [:]
    var consumptionRegisters: [TargetKey: Register<ConsumptionRecord>] = [:]
    var alertHistories: [EntryID: AlertHistory] = [:]
    var entryViolations: [EntryID: PolicyViolation] = [:]
    public internal(set) var unknownOperations: [EntryID: [Int]] = [:]
    /// Cut entries shown (what they do is the registry's: `MineralRegistry.cuts`).
    public internal(set) var cutEntries: [EntryID: FeedCut] = [:]
    /// The entries folded that write neither a register nor an alert (those that break the
    /// policy, unknown operations, cuts), kept whole for snapshots: few, and bounded by quotas.
    var aside: [EntryID: Entry] = [:]
    /// The cut entries shown, whole, feed by feed in seq order.
    public var shownCutEntries: [Entry] {
        cutEntries.keys.compactMap { aside[$0] }.sorted { ($0.origin, $0.seq) < ($1.origin, $1.seq) }
    }
    /// Per feed, the highest seq folded: the views show exactly each feed's entries up to it.
    public internal(set) var folded = VersionVector()
    /// Distinct entries folded.
    public internal(set) var entryCount = 0

    public init(policy: EntryPolicy = EntryPolicy()) {
        self.policy = policy
    }

    // MARK: folding

    public mutating func fold(_ entries: [Entry]) {
        for entry in entries { fold(entry) }
    }

    public mutating func fold(_ entry: Entry) {
        guard entry.seq > folded[entry.origin] else { return }
        folded[entry.origin] = entry.seq
        land(entry)
        entryCount += 1
    }

    /// Puts an entry where it belongs.
    mutating func land(_ entry: Entry) {
        // The usual entry: a participant's own report to a register it already has. A register
        // exists only for a mineral the catalogue knows, and these views' policy never changes,
        // so only the ownership rule is left to check: one key lookup, no catalogue lookup.
        if case .reportReserve(let report) = entry.operation, report.participant == entry.origin.participant,
            let index = reserveRegisters.index(forKey: report.key)
        {
            reserveRegisters.values[index].insert(entry)
            return
        }
        if let violation = policy.violation(of: entry.operation, by: entry.origin) {
            entryViolations[entry.id] = violation
            aside[entry.id] = entry
            return
        }
        switch entry.operation {
        case .reportReserve(let report):
            reserveRegisters[report.key, default: Register()].insert(entry)
        case .setTarget(let target):
            targetRegisters[TargetKey(participant: target.participant, mineral: target.mineral), default: Register()].insert(entry)
        case .setConsumption(let consumption):
            consumptionRegisters[consumption.key, default: Register()].insert(entry)
        case .raiseAlert(let raise):
            alertHistories[entry.id, default: AlertHistory()].record(raise: raise, order: EventOrder(entry))
        case .updateAlert(let update):
            alertHistories[update.alertID, default: AlertHistory()].record(update, order: EventOrder(entry), in: \.updates)
        case .acknowledgeAlert(let ack):
            alertHistories[ack.alertID, default: AlertHistory()].record(ack, order: EventOrder(entry), in: \.acknowledgements)
        case .resolveAlert(let resolution):
            alertHistories[resolution.alertID, default: AlertHistory()].record(resolution, order: EventOrder(entry), in: \.resolutions)
        case .cutFeed(let cut):
            cutEntries[entry.id] = cut
            aside[entry.id] = entry
        case .unknown(let numbers):
            unknownOperations[entry.id] = numbers
            aside[entry.id] = entry
        case .malformed:
            break  // the policy above always reports it
        }
    }

    // MARK: reading

    /// Current reserve levels, sorted by participant, mineral, site.
    public var reserves: [ReserveRecord] { reserveRegisters.values.map(\.latest).sorted { $0.key < $1.key } }

    public func reserve(_ key: ReserveKey) -> ReserveRecord? { reserveRegisters[key]?.latest }

    /// A participant's reports of a mineral (its total and its sites), by site.
    public func reserves(of key: TargetKey) -> [ReserveRecord] {
        reserveRegisters.filter { $0.key.participant == key.participant && $0.key.mineral == key.mineral }.values.map(\.latest).sorted { $0.key < $1.key }
    }

    /// Every report for a register among `entries` (its writes as the store holds them, in any
    /// order; other entries are ignored), each after the report it supersedes, otherwise oldest
    /// first: the audit trail and the time series. The views keep no history: the caller reads
    /// the register's writes from the store, up to `folded` (what is shown).
    public func history(of key: ReserveKey, in entries: [Entry]) -> [ReserveRecord] {
        let writes = entries.filter { entry in
            guard entry.seq <= folded[entry.origin], case .reportReserve(let report) = entry.operation, report.key == key else { return false }
            return policy.violation(of: entry.operation, by: entry.origin) == nil
        }
        var unique: [EntryID: Entry] = [:]
        for write in writes { unique[write.id] = write }
        let ordered = unique.values.sorted { EventOrder.precedes($0, $1) }
        return CausalOrder.sorted(ordered, id: \.id, supersedes: \.supersedes).map(ReserveRecord.init(written:))
    }

    /// What a new write to the operation's register supersedes: the register's latest write as
    /// shown here (for an alert update, its latest update by the issuer, or the raise).
    public func supersededWrite(by operation: EntryOperation) -> EntryID? {
        switch operation {
        case .reportReserve(let report): reserveRegisters[report.key]?.latestEntry.id
        case .setTarget(let target): targetRegisters[TargetKey(participant: target.participant, mineral: target.mineral)]?.latestEntry.id
        case .setConsumption(let consumption): consumptionRegisters[consumption.key]?.latestEntry.id
        case .updateAlert(let update): alertHistories[update.alertID]?.latestWrite
        default: nil
        }
    }

    public var targets: [TargetRecord] { targetRegisters.values.map(\.latest).sorted { $0.key < $1.key } }

    public func target(_ key: TargetKey) -> TargetRecord? { targetRegisters[key]?.latest }

    public var consumptions: [ConsumptionRecord] { consumptionRegisters.values.map(\.latest).sorted { $0.key < $1.key } }

    public func consumption(_ key: TargetKey) -> ConsumptionRecord? { consumptionRegisters[key]?.latest }

    /// How many days `tonnes` of a mineral cover at the participant's annual consumption:
    /// tonnes ÷ (annual ÷ 365). nil without a consumption, or with one of zero.
    public func daysOfCover(_ tonnes: Decimal, _ key: TargetKey) -> Decimal? {
        guard let annual = consumption(key)?.consumption.quantity.tonnes, annual > 0 else { return nil }
        return tonnes / (annual / 365)
    }

    /// Alerts whose raise is known, newest first.
    public var alerts: [DisruptionAlert] {
        alertHistories.compactMap { $0.value.materialise(id: $0.key)?.alert }
            .sorted { ($0.raisedAt, $0.id) > ($1.raisedAt, $1.id) }
    }

    public func alert(_ id: EntryID) -> DisruptionAlert? {
        alertHistories[id]?.materialise(id: id)?.alert
    }

    /// Every folded entry that broke the policy, with its reason.
    public var violations: [EntryID: PolicyViolation] {
        var all = entryViolations
        for (id, history) in alertHistories {
            guard let (_, contextual) = history.materialise(id: id) else { continue }
            all.merge(contextual) { first, _ in first }
        }
        return all
    }

    /// A participant's level of a mineral in tonnes: its reported total (site empty) when it has
    /// one, otherwise the sum of its sites. nil when it has reported neither, or withheld the
    /// figure (its total, or any of the sites that would make it up).
    ///
    /// - Parameter report: a report to count as written (one not folded yet).
    public func level(of participant: ParticipantID, _ mineral: MineralID, with report: ReserveReport? = nil) -> Decimal? {
        if let report, report.participant == participant, report.mineral == mineral, report.site.isEmpty { return report.countedTonnes }
        if let total = reserveRegisters[ReserveKey(participant: participant, mineral: mineral)]?.latest { return total.report.countedTonnes }
        var sum: Decimal?
        for (key, register) in reserveRegisters where key.participant == participant && key.mineral == mineral && key.site != report?.site {
            guard let tonnes = register.latest.report.countedTonnes else { return nil }
            sum = (sum ?? 0) + tonnes
        }
        if let report, report.participant == participant, report.mineral == mineral {
            guard let tonnes = report.countedTonnes else { return nil }
            sum = (sum ?? 0) + tonnes
        }
        return sum
    }

    /// Every participant's level of every mineral it reported and shares (`withheldLevels` are
    /// left out).
    public var levels: [TargetKey: Decimal] { levelsAndWithheld.levels }

    /// The participant × mineral levels withheld: a total withheld, or no total and a site withheld.
    public var withheldLevels: Set<TargetKey> { levelsAndWithheld.withheld }

    /// Both, in one pass over the registers.
    public var levelsAndWithheld: (levels: [TargetKey: Decimal], withheld: Set<TargetKey>) {
        var totals: [TargetKey: Decimal] = [:]
        var sums: [TargetKey: Decimal] = [:]
        var withheld = Set<TargetKey>()
        for register in reserveRegisters.values {
            let report = register.latest.report
            let key = TargetKey(participant: report.participant, mineral: report.mineral)
            if let tonnes = report.countedTonnes {
                if report.site.isEmpty { totals[key] = tonnes } else { sums[key, default: 0] += tonnes }
            } else {
                withheld.insert(key)
            }
        }
        // A shared total stands for the participant, whatever its sites say.
        var levels = sums.filter { !withheld.contains($0.key) }
        for (key, tonnes) in totals { levels[key] = tonnes }
        return (levels, withheld.subtracting(totals.keys))
    }

    /// Level ÷ target per participant and mineral, for every target with a level. A zero target
    /// has no meaningful coverage and is left out.
    public var coverage: [TargetKey: Decimal] {
        let levels = levels
        var result: [TargetKey: Decimal] = [:]
        for (key, register) in targetRegisters {
            let target = register.latest.target.quantity.tonnes
            guard target > 0, let level = levels[key] else { continue }
            result[key] = level / target
        }
        return result
    }

    /// The alliance's combined level per mineral, in tonnes.
    public var allianceTotals: [MineralID: Decimal] {
        var totals: [MineralID: Decimal] = [:]
        for (key, level) in levels { totals[key.mineral, default: 0] += level }
        return totals
    }

    // MARK: digest

    /// SHA-256 over a canonical encoding of every view: equal exactly when two nodes show the
    /// same registry. Used by the convergence tests and shown by `mineralctl status`.
    ///
    /// A register contributes its key, its latest value, its number of writes and the chains of
    /// its writes' ids per feed (`Register.idDigest`), kept as writes arrive: the cost grows
    /// with the number of registers and alerts, not with the history behind them.
    /// A section of registers kept per participant × mineral (targets, consumption): each key,
    /// its latest quantity and order, its number of writes and their ids' chains.
    private static func write<Record: RegisterRecord>(
        _ registers: [TargetKey: Register<Record>], quantity: (Record) -> Quantity,
        to writer: inout CanonicalWriter
    ) {
        for key in registers.keys.sorted() {
            let register = registers[key]!
            let record = register.latest
            writer.string(key.participant.rawValue)
            writer.string(key.mineral.rawValue)
            writer.quantity(quantity(record))
            writer.order(record.order)
            writer.integer(UInt64(register.count))
            writer.digest(register.idDigest)
        }
    }

    public var digest: SHA256Digest {
        var writer = CanonicalWriter()
        writer.section("reserves")
        for key in reserveRegisters.keys.sorted() {
            let register = reserveRegisters[key]!
            let latest = register.latest
            // The site as the latest report spells it: the key keeps the spelling that arrived
            // first, and two spellings that are canonically equal ("K", U+212A) share a key.
            writer.string(key.participant.rawValue)
            writer.string(key.mineral.rawValue)
            writer.string(latest.report.site)
            writer.reserve(latest)
            writer.integer(UInt64(register.count))
            writer.digest(register.idDigest)
        }
        writer.section("targets")
        Self.write(targetRegisters, quantity: \.target.quantity, to: &writer)
        writer.section("alerts")
        for id in alertHistories.keys.sorted() {
            guard let alert = alert(id) else { continue }
            writer.alert(alert)
        }
        writer.section("violations")
        for (id, violation) in violations.sorted(by: { $0.key < $1.key }) {
            writer.digest(id)
            writer.string(violation.code)
        }
        writer.section("unknown")
        for id in unknownOperations.keys.sorted() { writer.digest(id) }
        // Only when there are some: the digests of registries without them stay as they were
        // (and agree with nodes that predate consumption).
        if !consumptionRegisters.isEmpty {
            writer.section("consumption")
            Self.write(consumptionRegisters, quantity: \.consumption.quantity, to: &writer)
        }
        // Only when there is one: the digests of registries without cuts stay as they were.
        if !cutEntries.isEmpty {
            writer.section("cuts")
            for (id, cut) in cutEntries.sorted(by: { $0.key < $1.key }) {
                writer.digest(id)
                writer.string(cut.feed.description)
                writer.integer(cut.seq)
            }
        }
        return writer.finish()
    }
}
