import AdminAPI
import Foundation
import Registry
import SyncNode

/// Turns registry views and peer health into the admin API's JSON shapes. Pure.
enum AdminPresenter {
    /// - Parameter levels: `views.levels`, computed once for every row shown (one walk over
    ///   the registers): a row's coverage and days of cover are its participant's level's.
    static func reserve(_ record: ReserveRecord, in views: RegistryViews, levels: [TargetKey: Decimal]) -> ReserveItem {
        let report = record.report
        let key = TargetKey(participant: report.participant, mineral: report.mineral)
        let target = views.target(key)?.target.quantity
        let level = levels[key]
        let coverage = level.flatMap { level in target.flatMap { $0.tonnes > 0 ? level / $0.tonnes : nil } }
        return ReserveItem(
            participant: report.participant.rawValue, mineral: report.mineral.rawValue, site: report.site,
            quantity: report.quantity.amount.text, unit: report.quantity.unit.rawValue,
            asOf: AdminJSON.timestamp(millis: report.asOfMillis), reportedBy: record.order.origin.description,
            target: target.map { "\($0.amount.text) \($0.unit.rawValue)" },
            coverage: coverage.map { decimalText($0, scale: 3) }, note: report.note,
            form: report.form.isEmpty ? nil : report.form, basis: report.basis?.description, withheldReason: report.withheld,
            entry: record.order.id.hex,
            annualConsumption: views.consumption(key).map { decimalText($0.consumption.quantity.tonnes * report.quantity.unit.perTonne, scale: 3) },
            daysOfCover: level.flatMap { views.daysOfCover($0, key) }.map { decimalText($0, scale: 1) })
    }

    static func alert(_ alert: DisruptionAlert) -> AlertItem {
        AlertItem(
            id: alert.id.hex, mineral: alert.mineral.rawValue, severity: alert.severity.description, category: alert.category.description,
            region: alert.region, summary: alert.summary, issuer: alert.issuer.description,
            raisedAt: AdminJSON.timestamp(millis: alert.raisedAt.wallMillis), updatedAt: AdminJSON.timestamp(millis: alert.updatedAt.wallMillis),
            expiresAt: alert.expiresAtMillis.map { AdminJSON.timestamp(millis: $0) },
            acknowledgedBy: alert.acknowledgements.keys.map(\.rawValue).sorted(),
            resolved: alert.isResolved, resolution: alert.resolution?.note)
    }

    static func keyHistoryItem(_ key: SignerKey, current: Bool) -> KeyHistoryItem {
        let date = { (millis: UInt64) in AdminJSON.timestamp(Date(timeIntervalSince1970: Double(millis) / 1000)) }
        return KeyHistoryItem(fingerprint: key.id.hex, validFrom: date(key.validFrom), validUntil: date(key.validUntil), current: current)
    }

    static func peer(_ health: PeerHealth, local: VersionVector, connected: Bool) -> PeerItem {
        let lag = health.lag(local: local)
        var byFeed: [String: PeerItem.FeedLag] = [:]
        for feed in Set(lag.peerLacks.keys).union(lag.weLack.keys) {
            byFeed[feed.description] = PeerItem.FeedLag(out: lag.peerLacks[feed] ?? 0, in: lag.weLack[feed] ?? 0)
        }
        var item = PeerItem(
            node: health.peer.description, participant: health.peer.participant.rawValue, address: health.address,
            state: connected ? "connected" : "disconnected",
            connectedSince: connected ? health.connectedSince.map(AdminJSON.timestamp) : nil,
            lastContact: health.lastContact.map(AdminJSON.timestamp),
            entriesSent: health.entriesSent, entriesReceived: health.entriesReceived,
            lagOut: lag.peerLacks.values.reduce(0, +), lagIn: lag.weLack.values.reduce(0, +), lagByFeed: byFeed,
            rejected: health.rejectedEntries, lastRejection: health.recentRejections.last, lastError: health.lastError,
            versionVector: vector(health.confirmedVector))
        item.offences = health.offences
        item.lastOffence = health.lastOffence
        item.penalizedUntil = health.penaltyEnd().map(AdminJSON.timestamp)
        item.clockOffsetMillis = health.clockOffsetMillis
        item.roundTripMillis = health.roundTripMillis
        return item
    }

    /// Clocks beyond `threshold`: peers measured by ping, and origins whose entries were dated
    /// ahead of this node's clock.
    static func clockEvents(_ health: [PeerHealth], datedAhead: [NodeID: (millis: Int64, seen: Date)], threshold: Int64) -> [SecurityEvent] {
        let peers = health.compactMap { peer -> SecurityEvent? in
            guard let offset = peer.clockOffsetMillis, abs(offset) > threshold else { return nil }
            return SecurityEvent(
                kind: "clock-skew", subject: peer.peer.description,
                detail: "its clock is \(ClockOffset.text(offset)) from this node's (measured by ping, round trip \(peer.roundTripMillis ?? 0) ms)",
                at: nil)
        }
        let origins = datedAhead.sorted { $0.key < $1.key }.map { origin, ahead in
            SecurityEvent(
                kind: "entries-dated-ahead", subject: origin.description,
                detail: "its entries are dated up to \(ClockOffset.text(ahead.millis)) ahead of this node's clock; a later report still wins over them",
                at: AdminJSON.timestamp(ahead.seen))
        }
        return peers + origins
    }

    static func vector(_ vector: VersionVector) -> [String: UInt64] {
        Dictionary(uniqueKeysWithValues: vector.heads.map { ($0.key.description, $0.value) })
    }

    /// Feeds shown in part: after a cut, or signed by a revoked certificate that nothing still
    /// trusted vouches for. What is held beyond is evidence.
    static func hiddenFeedEvents(_ hidden: [NodeID: (shown: UInt64, held: UInt64)], cuts: [NodeID: FeedCut]) -> [SecurityEvent] {
        hidden.sorted { $0.key < $1.key }.map { feed, extent in
            let why =
                cuts[feed].map { "cut at seq \($0.seq)\($0.reason.isEmpty ? "" : " (\($0.reason))")" }
                ?? "signed by a revoked certificate, and no later entry of a certificate in force (nor a cut) vouches for them"
            return SecurityEvent(
                kind: cuts[feed] == nil ? "revoked-entries" : "feed-cut", subject: feed.description,
                detail:
                    "shown up to seq \(extent.shown) of \(extent.held) held: entries \(extent.shown + 1)–\(extent.held) are \(why); kept as evidence, not shown or relayed",
                at: nil)
        }
    }

    static func securityEvents(
        forks: [ForkEvidence], refusals: [Refusal], health: [PeerHealth], views: RegistryViews,
        feedsAtQuota: Set<NodeID> = [], feedQuota: Int? = nil
    ) -> [SecurityEvent] {
        var events: [SecurityEvent] = []
        for origin in feedsAtQuota.sorted() {
            events.append(
                SecurityEvent(
                    kind: "feed-quota", subject: origin.description,
                    detail: "the feed reached this node's quota of \(feedQuota ?? 0) signed bytes; its further entries are refused", at: nil))
        }
        for fork in forks {
            events.append(
                SecurityEvent(
                    kind: "fork", subject: fork.origin.description,
                    detail: "feed frozen: \(fork)", at: nil))
        }
        for peer in health where peer.rejectedEntries > 0 {
            events.append(
                SecurityEvent(
                    kind: "rejected-entries", subject: peer.peer.description,
                    detail: "\(peer.rejectedEntries) rejected; last: \(peer.recentRejections.last ?? "?")", at: nil))
        }
        for peer in health where peer.offences > 0 {
            let until = peer.penaltyEnd().map { "; refused until \(AdminJSON.timestamp($0))" } ?? ""
            events.append(
                SecurityEvent(
                    kind: "penalized", subject: peer.peer.description,
                    detail: "\(peer.offences) offence\(peer.offences == 1 ? "" : "s"); last: \(peer.lastOffence ?? "?")\(until)",
                    at: peer.lastOffenceAt.map(AdminJSON.timestamp)))
        }
        for (id, violation) in views.violations.sorted(by: { $0.key.hex < $1.key.hex }).prefix(20) {
            events.append(SecurityEvent(kind: "policy-violation", subject: id.hex, detail: violation.description, at: nil))
        }
        for refusal in refusals.suffix(20) {
            events.append(
                SecurityEvent(
                    kind: "refused-connection", subject: refusal.address, detail: refusal.reason,
                    at: AdminJSON.timestamp(refusal.at)))
        }
        return events
    }

    static func decimalText(_ value: Decimal, scale: Int) -> String {
        var input = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &input, scale, .plain)
        return NSDecimalNumber(decimal: rounded).stringValue
    }
}
