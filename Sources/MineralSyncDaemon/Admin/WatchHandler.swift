import AdminAPI
import HTTPServing
import Foundation
import Logging
import NIOCore
import Registry
import SyncNode

/// `watch`: one JSON line per change committed from now on (local writes and partners'), until
/// the client leaves. A register or alert changed several times in one batch (a catch-up) is
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
        case "reserve": wanted = { if case .reserve = $0 { true } else { false } }
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
                let reportsReserves = batch.contains { entry in Subject(entry).map { if case .reserve = $0 { wanted($0) } else { false } } ?? false }
                let levels = reportsReserves ? views.levels : [:]
                var text = ""
                var shown = Set<Subject>()
                for entry in batch {
                    guard let subject = Subject(entry), wanted(subject), shown.insert(subject).inserted,
                          let event = Self.event(for: entry, views: views, levels: levels),
                          let line = try? AdminJSON.encoder.encode(event) else { continue }
                    text += String(decoding: line, as: UTF8.self) + "\n"
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
        case alert(EntryID)

        init?(_ entry: Entry) {
            switch entry.operation {
            case .reportReserve(let report): self = .reserve(report.key)
            case .raiseAlert: self = .alert(entry.id)
            case .updateAlert(let update): self = .alert(update.alertID)
            case .acknowledgeAlert(let ack): self = .alert(ack.alertID)
            case .resolveAlert(let resolution): self = .alert(resolution.alertID)
            case .setTarget, .setConsumption, .cutFeed, .unknown, .malformed: return nil
            }
        }
    }

    static func event(for entry: Entry, views: RegistryViews, levels: [TargetKey: Decimal]) -> WatchEvent? {
        let origin = entry.origin.description
        switch Subject(entry) {
        case .reserve(let key):
            return views.reserve(key).map { WatchEvent(type: "reserve", origin: origin, reserve: AdminPresenter.reserve($0, in: views, levels: levels)) }
        case .alert(let id):
            return views.alert(id).map { WatchEvent(type: "alert", origin: origin, alert: AdminPresenter.alert($0)) }
        case nil:
            return nil
        }
    }
}
