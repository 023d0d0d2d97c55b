import AdminAPI
import Foundation
import Registry
import SyncNode

/// Disruption alerts: the board (filters), one alert by id or unique prefix, and the writes
/// that raise, acknowledge, resolve and update them.
struct AlertHandler: Sendable {
    let engine: SyncEngine
    let input: AdminInput

    func register(in router: inout AdminRouter) {
        router.on(AdminAPI.alerts) { call, _ in try await alerts(call.query) }
        router.on(AdminAPI.alert) { call, _ in AdminPresenter.alert(try await alert(call.parameter("id"))) }
        router.on(AdminAPI.raiseAlert) { _, body in try await append(try raise(body)) }
        router.on(AdminAPI.acknowledgeAlert) { call, body in
            let alert = try await alert(call.parameter("id"))
            return try await append(
                .acknowledgeAlert(
                    AlertAcknowledgement(
                        alertID: alert.id, participant: engine.node.participant,
                        note: body.note ?? "")))
        }
        router.on(AdminAPI.resolveAlert) { call, body in
            guard let note = body.note, !note.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw AdminFailure.validation("a resolution needs a note saying how it was resolved")
            }
            let alert = try await alert(call.parameter("id"))
            return try await append(.resolveAlert(AlertResolution(alertID: alert.id, note: note)))
        }
        router.on(AdminAPI.updateAlert) { call, body in try await append(try await update(call.parameter("id"), body)) }
    }

    private func alerts(_ query: [String: String]) async throws(AdminFailure) -> [AlertItem] {
        let mineral = try query["mineral"].map(input.mineral)
        let minimum = try query["minSeverity"].map(input.severity)
        let openOnly = query["open"].map { $0 == "" || $0 == "true" || $0 == "1" } ?? false
        let now = AdminInput.nowMillis
        return await engine.currentSnapshot().views.alerts
            .filter { mineral == nil || $0.mineral == mineral }
            .filter { minimum == nil || $0.severity >= minimum! }
            .filter { !openOnly || (!$0.isResolved && !$0.isExpired(nowMillis: now)) }
            .sorted { ($0.raisedAt, $0.id.hex) > ($1.raisedAt, $1.id.hex) }
            .map(AdminPresenter.alert)
    }

    /// An alert by its id or a unique prefix of at least 8 hex digits.
    private func alert(_ text: String) async throws(AdminFailure) -> DisruptionAlert {
        let views = await engine.currentSnapshot().views
        do {
            let id = try AlertReference.resolve(text, among: views.alerts.map(\.id))
            return views.alert(id)!
        } catch {
            switch error {
            case .notFound: throw .notFound(error.description)
            case .malformed, .ambiguous: throw .validation(error.description)
            }
        }
    }

    private func raise(_ body: AlertRaiseRequest) throws(AdminFailure) -> EntryOperation {
        try AdminInput.validating {
            let raise = AlertRaise(
                mineral: try input.mineral(body.mineral), severity: try Severity(parsing: body.severity),
                category: try AlertCategory(parsing: body.category), region: body.region ?? "", summary: body.summary,
                expiresAtMillis: try body.expires.map { text throws(AdminFailure) in try input.millis(text, field: "expires") })
            guard !body.summary.trimmingCharacters(in: .whitespaces).isEmpty else { throw RegistryValueError.emptyField("summary") }
            return .raiseAlert(raise)
        }
    }

    private func update(_ id: String, _ body: AlertUpdateRequest) async throws(AdminFailure) -> EntryOperation {
        let alert = try await alert(id)
        return try AdminInput.validating {
            let update = AlertUpdate(
                alertID: alert.id, severity: try body.severity.map { try Severity(parsing: $0) },
                category: try body.category.map { try AlertCategory(parsing: $0) }, region: body.region, summary: body.summary,
                expiresAtMillis: try body.expires.map { text throws(AdminFailure) in try input.millis(text, field: "expires") })
            guard update.severity != nil || update.category != nil || update.region != nil || update.summary != nil || update.expiresAtMillis != nil else {
                throw AdminFailure.validation("an update must change something: severity, category, region, summary or expires")
            }
            return .updateAlert(update)
        }
    }

    private func append(_ operation: EntryOperation) async throws(AdminFailure) -> WriteResponse {
        try await AdminWrites.append([operation], to: engine)[0]
    }
}
