import AdminAPI
import Foundation
import Registry
import RegistryStore
import SyncNode

/// Reserve levels and targets: reads from the published views; writes validated here, then
/// signed and committed by the engine before the answer says "done".
struct ReserveHandler: Sendable {
    let engine: SyncEngine
    let input: AdminInput

    /// How far ahead of this node's clock a date an operator types may be (clocks differ a little).
    static let futureDateAllowanceMillis: UInt64 = 60_000
    /// The most rows one import may hold (each is an entry signed in one transaction).
    static let maximumImportRows = 10_000

    func register(in router: inout AdminRouter) {
        router.on(AdminAPI.reserves) { call, _ in try await reserves(call.query) }
        router.on(AdminAPI.reportReserve) { _, body in
            try await append([.reportReserve(try report(body))])[0]
        }
        router.on(AdminAPI.importReserves) { _, body in try await importReserves(body) }
        router.on(AdminAPI.reserveHistory) { call, _ in try await history(call.query) }
        router.on(AdminAPI.reserveTotals) { _, _ in Self.totals(await engine.currentSnapshot().views) }
        router.on(AdminAPI.targets) { _, _ in
            await engine.currentSnapshot().views.targets.map {
                TargetRequest(mineral: $0.target.mineral.rawValue, quantity: $0.target.quantity.amount.text, unit: $0.target.quantity.unit.rawValue)
            }
        }
        router.on(AdminAPI.setTarget) { _, body in try await append([.setTarget(try target(body))])[0] }
        router.on(AdminAPI.setConsumption) { _, body in
            let (mineral, quantity) = try mineralAndQuantity(body)
            return try await append([.setConsumption(ReserveConsumption(participant: engine.node.participant, mineral: mineral, quantity: quantity))])[0]
        }
    }

    private func reserves(_ query: [String: String]) async throws(AdminFailure) -> [ReserveItem] {
        let participant = try query["participant"].map(input.participant)
        let mineral = try query["mineral"].map(input.mineral)
        let views = await engine.currentSnapshot().views
        let levels = views.levels
        return views.reserves
            .filter { participant == nil || $0.report.participant == participant }
            .filter { mineral == nil || $0.report.mineral == mineral }
            .map { AdminPresenter.reserve($0, in: views, levels: levels) }
    }

    private func history(_ query: [String: String]) async throws(AdminFailure) -> [ReserveItem] {
        guard let mineralText = query["mineral"] else { throw .validation("history needs ?mineral=") }
        let mineral = try input.mineral(mineralText)
        let participant = try query["participant"].map(input.participant) ?? engine.node.participant
        let views = await engine.currentSnapshot().views
        let levels = views.levels
        let sites = Set(views.reserves.filter { $0.report.participant == participant && $0.report.mineral == mineral }.map(\.report.site))
        // Each site's history in its own order (a report after the one it supersedes, whatever
        // the clocks), the sites interleaved by time.
        let writes: [Entry]
        do { writes = try await engine.history(subject: Entry.reserveSubject(participant, mineral)) } catch {
            throw .storeFailed(error)
        }
        var histories = sites.sorted().map { views.history(of: ReserveKey(participant: participant, mineral: mineral, site: $0), in: writes)[...] }
        var merged: [ReserveRecord] = []
        while let next = histories.indices.filter({ !histories[$0].isEmpty }).min(by: { histories[$0].first!.order < histories[$1].first!.order }) {
            merged.append(histories[next].removeFirst())
        }
        // A report of a site for an `asOf` already reported corrects that report (a revision).
        var latestFor: [String: [UInt64: EntryID]] = [:]
        return merged.map { record in
            var item = AdminPresenter.reserve(record, in: views, levels: levels)
            item.revises = latestFor[record.report.site]?[record.report.asOfMillis]?.hex
            latestFor[record.report.site, default: [:]][record.report.asOfMillis] = record.order.id
            return item
        }
    }

    /// A report from its request; `row` and `line` name where an import's bad row is.
    private func report(_ body: ReserveReportRequest, row: Int? = nil, line: Int? = nil) throws(AdminFailure) -> ReserveReport {
        let prefix = line.map { "line \($0): " } ?? row.map { "row \($0): " } ?? ""
        do {
            let mineral = try input.mineral(body.mineral)
            if let reason = body.withheld, !reason.isEmpty, reason.allSatisfy(\.isWhitespace) {
                throw AdminFailure.validation("withheld must say why the figure is withheld")
            }
            let withheld = body.withheld.flatMap { $0.isEmpty ? nil : $0 }
            if withheld != nil, !body.quantity.isEmpty { throw AdminFailure.validation("a withheld figure carries no quantity: leave quantity empty") }
            let quantity =
                withheld != nil
                ? ReserveReport.withheldQuantity
                : Quantity(amount: try Amount(body.quantity), unit: try MassUnit(parsing: body.unit ?? "t"))
            let basis = try body.basis.map { text throws(RegistryValueError) in try ReserveBasis(parsing: text) }
            let now = AdminInput.nowMillis
            let asOf = try body.asOf.map { text throws(AdminFailure) in try input.millis(text, field: "asOf") } ?? now
            // A level cannot be measured in the future; back-filled history (any past date) is normal.
            if asOf > now + Self.futureDateAllowanceMillis {
                throw AdminFailure.validation(
                    "asOf \"\(body.asOf ?? "")\" is in the future (this node's clock says \(AdminJSON.timestamp(Date()))): a reserve level can only be reported as of a date that has come"
                )
            }
            return ReserveReport(
                participant: engine.node.participant, mineral: mineral, site: body.site ?? "", quantity: quantity,
                asOfMillis: asOf, note: body.note ?? "", form: try EntryCodec.form(body.form ?? ""), basis: basis, withheld: withheld)
        } catch let error as RegistryValueError {
            throw .validation(prefix + error.description)
        } catch let failure as AdminFailure {
            throw .validation(prefix + failure.body.message)
        } catch {
            throw .validation(prefix + "\(error)")
        }
    }

    /// Per mineral: the shared levels summed, who withheld, and the targets summed.
    static func totals(_ views: RegistryViews) -> [TotalItem] {
        let (levels, withheld) = views.levelsAndWithheld
        var targets: [MineralID: Decimal] = [:]
        for record in views.targets { targets[record.target.mineral, default: 0] += record.target.quantity.tonnes }
        let minerals = Set(levels.keys.map(\.mineral)).union(withheld.map(\.mineral))
        return minerals.sorted().map { mineral in
            let shared = levels.filter { $0.key.mineral == mineral }
            // Days of cover over the participants that report both a level and a consumption.
            var covered: Decimal = 0
            var annual: Decimal = 0
            for (key, tonnes) in shared {
                guard let consumption = views.consumption(key)?.consumption.quantity.tonnes, consumption > 0 else { continue }
                covered += tonnes
                annual += consumption
            }
            return TotalItem(
                mineral: mineral.rawValue, tonnes: AdminPresenter.decimalText(shared.values.reduce(0, +), scale: 3),
                participants: shared.keys.map(\.participant.rawValue).sorted(),
                withheld: withheld.filter { $0.mineral == mineral }.map(\.participant.rawValue).sorted(),
                targetTonnes: targets[mineral].map { AdminPresenter.decimalText($0, scale: 3) },
                daysOfCover: annual > 0 ? AdminPresenter.decimalText(covered / (annual / 365), scale: 1) : nil)
        }
    }

    /// All rows or none: every row is validated here, then the engine drafts them all (policy
    /// included) before it stores them in one transaction.
    private func importReserves(_ body: ReserveImportRequest) async throws(AdminFailure) -> [WriteResponse] {
        guard !body.rows.isEmpty else { throw .validation("the import has no rows") }
        guard body.rows.count <= Self.maximumImportRows else { throw .validation("an import holds at most 10,000 rows") }
        var reports: [EntryOperation] = []
        for (index, row) in body.rows.enumerated() { reports.append(.reportReserve(try report(row, row: index + 1, line: row.line))) }
        return try await append(reports)
    }

    private func target(_ body: TargetRequest) throws(AdminFailure) -> ReserveTarget {
        let (mineral, quantity) = try mineralAndQuantity(body)
        return ReserveTarget(participant: engine.node.participant, mineral: mineral, quantity: quantity)
    }

    /// A target's or a consumption's mineral and quantity, from the request both take.
    private func mineralAndQuantity(_ body: TargetRequest) throws(AdminFailure) -> (MineralID, Quantity) {
        try AdminInput.validating {
            (try input.mineral(body.mineral), Quantity(amount: try Amount(body.quantity), unit: try MassUnit(parsing: body.unit ?? "t")))
        }
    }

    private func append(_ operations: [EntryOperation]) async throws(AdminFailure) -> [WriteResponse] {
        try await AdminWrites.append(operations, to: engine)
    }
}

/// Local writes: signed and committed (fsync) by the engine before the answer.
enum AdminWrites {
    static func append(_ operations: [EntryOperation], to engine: SyncEngine) async throws(AdminFailure) -> [WriteResponse] {
        do {
            return try await engine.appendAll(operations).map { WriteResponse(id: $0.id.hex, seq: $0.seq) }
        } catch {
            throw .refused(error)
        }
    }
}
