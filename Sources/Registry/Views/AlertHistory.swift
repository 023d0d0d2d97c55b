/// Everything the fold has seen about one alert id, in no particular order. The alert is
/// materialised from it on demand, so folding stays commutative: an update or acknowledgement
/// that arrives before its raise simply waits here.
struct AlertHistory: Sendable {
    /// One operation on the alert and where it sits in the event order.
    struct Event<Operation: Sendable>: Sendable {
        let operation: Operation
        let order: EventOrder
    }

    var raise: Event<AlertRaise>?
    var updates: [Event<AlertUpdate>] = []
    var acknowledgements: [Event<AlertAcknowledgement>] = []
    var resolutions: [Event<AlertResolution>] = []

    /// Records the raise; false when it was already recorded (the same entry again).
    @discardableResult
    mutating func record(raise operation: AlertRaise, order: EventOrder) -> Bool {
        guard raise == nil else { return false }
        raise = Event(operation: operation, order: order)
        return true
    }

    /// Records an update, acknowledgement or resolution; false when this entry is already there.
    /// An alert has few of each, so a scan is the cheapest way to keep them a set.
    @discardableResult
    mutating func record<Operation>(
        _ operation: Operation, order: EventOrder,
        in events: WritableKeyPath<AlertHistory, [Event<Operation>]>
    ) -> Bool {
        guard !self[keyPath: events].contains(where: { $0.order.id == order.id }) else { return false }
        self[keyPath: events].append(Event(operation: operation, order: order))
        return true
    }

    /// The issuer's latest update (causality first, clocks second), or the raise: what a new
    /// update supersedes.
    var latestWrite: EntryID? {
        guard let raise else { return nil }
        let issuer = raise.order.origin.participant
        let byIssuer = updates.filter { $0.order.origin.participant == issuer }.sorted { $0.order < $1.order }
        return CausalOrder.sorted(byIssuer, id: \.order.id, supersedes: \.operation.supersedes).last?.order.id ?? raise.order.id
    }

    /// The alert and the entries that broke the issuer-only rule; nil until the raise is known.
    func materialise(id: EntryID) -> (alert: DisruptionAlert, violations: [EntryID: PolicyViolation])? {
        guard let raise else { return nil }
        let raised = raise.order
        let issuer = raised.origin.participant
        var violations: [EntryID: PolicyViolation] = [:]
        var alert = DisruptionAlert(
            id: id, issuer: raised.origin, raisedAt: raised.clock, mineral: raise.operation.mineral,
            severity: raise.operation.severity, category: raise.operation.category, region: raise.operation.region,
            summary: raise.operation.summary, expiresAtMillis: raise.operation.expiresAtMillis, updatedAt: raised.clock,
            acknowledgements: [:], resolution: nil)

        var resolvedAt: EventOrder?
        for event in resolutions {
            guard event.order.origin.participant == issuer else {
                violations[event.order.id] = .notIssuer(author: event.order.origin, issuer: issuer, operation: "resolve the alert")
                continue
            }
            if resolvedAt.map({ event.order < $0 }) ?? true {
                resolvedAt = event.order
                alert.resolution = .init(node: event.order.origin, at: event.order.clock, note: event.operation.note)
            }
        }
        // Each update after the one it supersedes (causality first), otherwise by clock.
        for event in CausalOrder.sorted(updates.sorted { $0.order < $1.order }, id: \.order.id, supersedes: \.operation.supersedes) {
            guard event.order.origin.participant == issuer else {
                violations[event.order.id] = .notIssuer(author: event.order.origin, issuer: issuer, operation: "update the alert")
                continue
            }
            if let resolvedAt, resolvedAt < event.order { continue }
            let update = event.operation
            if let value = update.severity { alert.severity = value }
            if let value = update.category { alert.category = value }
            if let value = update.region { alert.region = value }
            if let value = update.summary { alert.summary = value }
            if let value = update.expiresAtMillis { alert.expiresAtMillis = value == 0 ? nil : value }
            alert.updatedAt = max(alert.updatedAt, event.order.clock)
        }
        var firstAck: [ParticipantID: EventOrder] = [:]
        for event in acknowledgements {
            let participant = event.operation.participant
            guard firstAck[participant].map({ event.order < $0 }) ?? true else { continue }
            firstAck[participant] = event.order
            alert.acknowledgements[participant] = .init(node: event.order.origin, at: event.order.clock, note: event.operation.note)
        }
        return (alert, violations)
    }
}
