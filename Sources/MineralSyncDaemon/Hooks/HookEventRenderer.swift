import AdminAPI
import Foundation
import Registry
import RegistryStore

/// Turns an event from the outbox into the JSON a hook is given, from the views as they stand
/// when it is delivered. Pure.
enum HookEventRenderer {
    /// Sites listed with a below-target level (the level itself counts them all).
    static let maximumReserves = 100

    static func message(_ stored: EventOutbox.Stored, views: RegistryViews, node: NodeID) -> HookEventMessage {
        let event = stored.event
        var message = HookEventMessage(
            event: event.kind.rawValue, id: event.id, at: AdminJSON.timestamp(millis: stored.committedAtMillis), node: node.description,
            entry: HookEntryItem(
                id: event.entry.hex, origin: event.origin.description, seq: event.seq,
                writtenAt: AdminJSON.timestamp(millis: event.writtenAtMillis)))
        switch event.subject {
        case .alert(let id):
            message.alert = views.alert(id).map(AdminPresenter.alert)
        case .level(let key):
            let level = views.level(of: key.participant, key.mineral)
            let target = views.target(key)?.target.quantity.tonnes
            let coverage = level.flatMap { level in target.flatMap { $0 > 0 ? level / $0 : nil } }
            // The total, or the sites that make the level up: at most `maximumReserves` of them.
            let records =
                views.reserve(ReserveKey(participant: key.participant, mineral: key.mineral)).map { [$0] }
                ?? Array(views.reserves(of: key).prefix(maximumReserves))
            message.level = HookLevelItem(
                participant: key.participant.rawValue, mineral: key.mineral.rawValue,
                tonnes: level.map { AdminPresenter.decimalText($0, scale: 3) }, targetTonnes: target.map { AdminPresenter.decimalText($0, scale: 3) },
                coverage: coverage.map { AdminPresenter.decimalText($0, scale: 3) },
                reserves: records.map { AdminPresenter.reserve($0, in: views, levels: level.map { [key: $0] } ?? [:]) })
        }
        return message
    }

    static func body(_ message: HookEventMessage) -> [UInt8] {
        (try? [UInt8](AdminJSON.encoder.encode(message))) ?? []
    }
}
