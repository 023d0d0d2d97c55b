import AdminAPI
import Foundation
import HTTPServing
import Logging
import NIOCore
import Registry
import SyncNode

/// `watch`: one JSON line per change committed from now on (local writes and partners'), until
/// the client leaves; a target or a consumption sends the rows whose coverage or days of cover
/// it changed. A register or alert changed several times in one batch (a catch-up) is
/// shown once, as it is now; a watcher 1,000 batches behind loses the oldest.
struct WatchHandler: Sendable {
    let engine: SyncEngine
    let logger: Logger

    func register(in router: inout AdminRouter) {
        router.stream(AdminAPI.watch) { call in try watch(only: call.query["type"]) }
    }

    private func watch(only type: String?) throws(AdminFailure) -> HTTPResponse {
        let wanted: (Subject) -> Bool
        switch type {
        case nil: wanted = { _ in true }
        case "alert": wanted = { if case .alert = $0 { true } else { false } }
        case "reserve": wanted = { $0.isReserve }
        case let other?: throw .validation("type \"\(other)\" must be alert or reserve")
        }
        let (engine, logger) = (engine, logger)
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let task = Task {
            let batches = await engine.subscribe()
            logger.debug("watch subscribed")
            continuation.yield(ByteBuffer(string: "\n"))  // headers out at once: the watcher knows it is subscribed
            for await batch in batches {
                let views = await engine.currentSnapshot().views
                // Coverage walks every register: only worth it when a reserve is to be shown.
                let reportsReserves = batch.contains { entry in Subject(entry).map { $0.isReserve && wanted($0) } ?? false }
                let levels = reportsReserves ? views.levels : [:]
                var text = ""
                var shown = Set<Subject>()
                for entry in batch {
                    guard let subject = Subject(entry), wanted(subject), shown.insert(subject).inserted else { continue }
                    for event in Self.events(for: entry, views: views, levels: levels) {
                        guard let line = try? AdminJSON.encoder.encode(event) else { continue }
                        text += String(decoding: line, as: UTF8.self) + "\n"
                    }
                }
                if !text.isEmpty { continuation.yield(ByteBuffer(string: text)) }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return HTTPResponse(contentType: "application/x-ndjson", stream: stream)
    }

    /// What an event shows: a reserve register or an alert.
    enum Subject: Hashable {
        case reserve(ReserveKey)
        /// Every row of a participant's mineral: its target or consumption changed their
        /// coverage or days of cover.
        case reserves(TargetKey)
        case alert(EntryID)

        var isReserve: Bool {
            switch self {
            case .reserve, .reserves: true
            case .alert: false
            }
        }

        init?(_ entry: Entry) {
            switch entry.operation {
            case .reportReserve(let report): self = .reserve(report.key)
            case .setTarget(let target): self = .reserves(TargetKey(participant: target.participant, mineral: target.mineral))
            case .setConsumption(let consumption): self = .reserves(consumption.key)
            case .raiseAlert: self = .alert(entry.id)
            case .updateAlert(let update): self = .alert(update.alertID)
            case .acknowledgeAlert(let ack): self = .alert(ack.alertID)
            case .resolveAlert(let resolution): self = .alert(resolution.alertID)
            case .cutFeed, .unknown, .malformed: return nil
            }
        }
    }

    static func events(for entry: Entry, views: RegistryViews, levels: [TargetKey: Decimal]) -> [WatchEvent] {
        let origin = entry.origin.description
        func reserve(_ record: ReserveRecord) -> WatchEvent {
            WatchEvent(type: "reserve", origin: origin, reserve: AdminPresenter.reserve(record, in: views, levels: levels))
        }
        switch Subject(entry) {
        case .reserve(let key):
            return views.reserve(key).map { [reserve($0)] } ?? []
        case .reserves(let key):
            return views.reserves(of: key).map(reserve)
        case .alert(let id):
            return views.alert(id).map { [WatchEvent(type: "alert", origin: origin, alert: AdminPresenter.alert($0))] } ?? []
        case nil:
            return []
        }
    }
}
