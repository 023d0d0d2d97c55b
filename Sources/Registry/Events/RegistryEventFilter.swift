import Foundation

/// Which events a node records for its hooks when entries are committed: the kinds some
/// hook wants, for entries written at most `maximumAgeMillis` before they are committed. Older
/// entries (a node catching up on years of history, or back from a long cut-off) notify
/// nobody: a duty officer is paged about what is happening, not about the alliance's archive.
public struct RegistryEventFilter: Sendable, Hashable {
    public var kinds: Set<RegistryEventKind>
    public var maximumAgeMillis: UInt64

    public init(kinds: Set<RegistryEventKind>, maximumAgeMillis: UInt64) {
        self.kinds = kinds
        self.maximumAgeMillis = maximumAgeMillis
    }

    /// The events `entries` give rise to, in their order, judged against `views`.
    ///
    /// `folded` says whether `views` hold `entries` already (received entries are folded before
    /// they are committed; a node's own after, and each of them is then its register's latest).
    /// An alert raised in the same batch is found in the batch either way. A report or target
    /// notifies only as the latest write of its register (a report that arrives late, older
    /// than the one shown, says nothing about the level now), when the participant's level of
    /// that mineral, in tonnes, is then less than its target.
    public func events(for entries: [Entry], views: RegistryViews, folded: Bool, nowMillis: UInt64) -> [RegistryEvent] {
        guard !kinds.isEmpty else { return [] }
        let oldest = nowMillis > maximumAgeMillis ? nowMillis - maximumAgeMillis : 0
        var raisedHere: [EntryID: (raise: AlertRaise, issuer: ParticipantID)] = [:]
        var severityHere: [EntryID: Severity] = [:]
        var result: [RegistryEvent] = []
        for entry in entries {
            // An entry the policy refuses (another participant's target, an unknown mineral) or that
            // changes another participant's alert is shown by no view: it notifies nobody.
            guard views.policy.violation(of: entry.operation, by: entry.origin) == nil else { continue }
            if case .raiseAlert(let raise) = entry.operation {
                raisedHere[entry.id] = (raise, entry.origin.participant)
                severityHere[entry.id] = raise.severity
            }
            func alert(_ kind: RegistryEventKind, _ id: EntryID, issuerOnly: Bool) {
                let known = views.alert(id)
                guard let issuer = raisedHere[id]?.issuer ?? known?.issuer.participant, !issuerOnly || issuer == entry.origin.participant,
                    let mineral = raisedHere[id]?.raise.mineral ?? known?.mineral
                else { return }
                if case .updateAlert(let update) = entry.operation, let severity = update.severity { severityHere[id] = severity }
                guard kinds.contains(kind), entry.clock.wallMillis >= oldest, let severity = severityHere[id] ?? known?.severity else { return }
                result.append(
                    RegistryEvent(
                        kind: kind, entry: entry.id, origin: entry.origin, seq: entry.seq, writtenAtMillis: entry.clock.wallMillis,
                        subject: .alert(id), mineral: mineral, severity: severity))
            }
            switch entry.operation {
            case .raiseAlert: alert(.alertRaised, entry.id, issuerOnly: true)
            case .updateAlert(let update): alert(.alertUpdated, update.alertID, issuerOnly: true)
            case .acknowledgeAlert(let ack): alert(.alertAcknowledged, ack.alertID, issuerOnly: false)
            case .resolveAlert(let resolution): alert(.alertResolved, resolution.alertID, issuerOnly: true)
            case .reportReserve(let report):
                guard entry.clock.wallMillis >= oldest, !folded || views.reserve(report.key)?.order.id == entry.id else { continue }
                let key = TargetKey(participant: report.participant, mineral: report.mineral)
                belowTarget(
                    key, level: views.level(of: report.participant, report.mineral, with: folded ? nil : report),
                    target: views.target(key)?.target.quantity.tonnes, entry: entry, into: &result)
            case .setTarget(let target):
                let key = TargetKey(participant: target.participant, mineral: target.mineral)
                guard entry.clock.wallMillis >= oldest, !folded || views.target(key)?.order.id == entry.id else { continue }
                belowTarget(key, level: views.level(of: target.participant, target.mineral), target: target.quantity.tonnes, entry: entry, into: &result)
            case .setConsumption, .cutFeed, .unknown, .malformed:
                continue
            }
        }
        return result
    }

    private func belowTarget(_ key: TargetKey, level: Decimal?, target: Decimal?, entry: Entry, into result: inout [RegistryEvent]) {
        guard kinds.contains(.reserveBelowTarget), let level, let target, target > 0, level < target else { return }
        result.append(
            RegistryEvent(
                kind: .reserveBelowTarget, entry: entry.id, origin: entry.origin, seq: entry.seq,
                writtenAtMillis: entry.clock.wallMillis, subject: .level(key), mineral: key.mineral, severity: nil))
    }
}
