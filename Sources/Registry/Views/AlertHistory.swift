/// Everything the fold has seen about one alert id, in no particular order. The alert is
/// materialised from it on demand, so folding stays commutative: an update or acknowledgement
/// that arrives before its raise simply waits here.
struct AlertHistory: Sendable {
    var raise: (AlertRaise, EventOrder)?
    var updates: [(AlertUpdate, EventOrder)] = []
    var acknowledgements: [(AlertAcknowledgement, EventOrder)] = []
    var resolutions: [(AlertResolution, EventOrder)] = []

    /// The alert and the entries that broke the issuer-only rule; nil until the raise is known.
    func materialise(id: EntryID) -> (alert: DisruptionAlert, violations: [EntryID: PolicyViolation])? {
        guard let (raise, raised) = raise else { return nil }
        let issuer = raised.origin.participant
        var violations: [EntryID: PolicyViolation] = [:]
        var alert = DisruptionAlert(
            id: id, issuer: raised.origin, raisedAt: raised.clock, mineral: raise.mineral,
            severity: raise.severity, category: raise.category, region: raise.region,
            summary: raise.summary, expiresAtMillis: raise.expiresAtMillis, updatedAt: raised.clock,
            acknowledgements: [:], resolution: nil)

        var resolvedAt: EventOrder?
        for (resolution, order) in resolutions {
            guard order.origin.participant == issuer else {
                violations[order.id] = .notIssuer(author: order.origin, issuer: issuer, operation: "resolve the alert")
                continue
            }
            if resolvedAt == nil || order < resolvedAt! {
                resolvedAt = order
                alert.resolution = .init(node: order.origin, at: order.clock, note: resolution.note)
            }
        }
        for (update, order) in updates.sorted(by: { $0.1 < $1.1 }) {
            guard order.origin.participant == issuer else {
                violations[order.id] = .notIssuer(author: order.origin, issuer: issuer, operation: "update the alert")
                continue
            }
            if let resolvedAt, resolvedAt < order { continue }
            if let value = update.severity { alert.severity = value }
            if let value = update.category { alert.category = value }
            if let value = update.region { alert.region = value }
            if let value = update.summary { alert.summary = value }
            if let value = update.expiresAtMillis { alert.expiresAtMillis = value == 0 ? nil : value }
            alert.updatedAt = max(alert.updatedAt, order.clock)
        }
        var firstAck: [ParticipantID: EventOrder] = [:]
        for (ack, order) in acknowledgements where firstAck[ack.participant].map({ order < $0 }) ?? true {
            firstAck[ack.participant] = order
            alert.acknowledgements[ack.participant] = .init(node: order.origin, at: order.clock, note: ack.note)
        }
        return (alert, violations)
    }
}
