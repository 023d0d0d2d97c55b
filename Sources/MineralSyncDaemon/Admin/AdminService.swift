import AdminAPI
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Registry
import SyncNode

/// The admin API's routes (`/v1/...`): reads come from the engine's views and the peers'
/// health; writes are validated here, then signed and committed by the engine before the
/// response says "done".
struct AdminService: Sendable {
    let engine: SyncEngine
    let node: SyncNode
    let catalogue: MineralCatalogue
    let startedAt: Date
    let certificateExpiry: @Sendable () -> Date
    let configuredPeers: @Sendable () -> Int
    let logger: Logger

    /// A failed request: its status and the `{error, message}` body.
    struct Failure: Error {
        let status: HTTPResponseStatus
        let body: ErrorResponse

        static func validation(_ message: String) -> Failure { Failure(status: .badRequest, body: ErrorResponse(error: "validation", message: message)) }
        static func notFound(_ message: String) -> Failure { Failure(status: .notFound, body: ErrorResponse(error: "not-found", message: message)) }
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try await route(request)
        } catch let failure as Failure {
            response = Self.json(failure.body, status: failure.status)
        } catch {
            response = Self.json(ErrorResponse(error: "internal", message: "\(error)"), status: .internalServerError)
        }
        logger.debug("admin request", metadata: ["method": "\(request.method)", "path": "\(request.path)", "status": "\(response.status.code)"])
        return response
    }

    private func route(_ request: HTTPRequest) async throws -> HTTPResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.first == "v1" else { throw Failure.notFound("no route \(request.path); the API lives under /v1/") }
        let route = Array(parts.dropFirst())
        if route.count >= 2, route.count <= 3, route[0] == "alerts" {
            return try await alertRoute(request, id: route[1], action: route.count == 3 ? route[2] : nil)
        }
        switch (request.method, route) {
        case (.GET, ["status"]): return Self.json(status())
        case (.GET, ["peers"]): return Self.json(peers())
        case (.GET, ["minerals"]):
            return Self.json(catalogue.sorted.map { MineralItem(id: $0.id.rawValue, name: $0.name, sources: $0.sources) })
        case (.GET, ["reserves"]): return Self.json(try await reserves(request.query))
        case (.POST, ["reserves"]): return Self.json(try await report(try decode(ReserveReportRequest.self, request)), status: .created)
        case (.POST, ["reserves", "import"]): return Self.json(try await importReserves(try decode(ReserveImportRequest.self, request)), status: .created)
        case (.GET, ["reserves", "history"]): return Self.json(try await history(request.query))
        case (.GET, ["targets"]): return Self.json(await targets())
        case (.POST, ["targets"]): return Self.json(try await setTarget(try decode(TargetRequest.self, request)), status: .created)
        case (.GET, ["alerts"]): return Self.json(try await alerts(request.query))
        case (.POST, ["alerts"]): return Self.json(try await raise(try decode(AlertRaiseRequest.self, request)), status: .created)
        case (.POST, ["sync"]): return Self.json(try await sync(try decode(SyncRequest.self, request, emptyAllowed: true)))
        case (.POST, ["feeds", "cut"]): return Self.json(try await cut(try decode(FeedCutRequest.self, request)), status: .created)
        case (.GET, ["watch"]): return watch()
        case (_, ["status"]), (_, ["peers"]), (_, ["minerals"]), (_, ["reserves"]), (_, ["targets"]), (_, ["alerts"]), (_, ["sync"]), (_, ["watch"]), (_, ["feeds", "cut"]):
            return Self.json(ErrorResponse(error: "method-not-allowed", message: "\(request.method) is not allowed on \(request.path)"),
                             status: .methodNotAllowed)
        default:
            throw Failure.notFound("no route \(request.method) \(request.path)")
        }
    }

    /// `/v1/alerts/{id}` and `/v1/alerts/{id}/{ack|resolve|update}`.
    private func alertRoute(_ request: HTTPRequest, id: String, action: String?) async throws -> HTTPResponse {
        switch (request.method, action) {
        case (.GET, nil):
            return Self.json(AdminPresenter.alert(try await alert(id)))
        case (.POST, "ack"):
            let body = try decode(NoteRequest.self, request, emptyAllowed: true)
            let alert = try await alert(id)
            return Self.json(try await append(.acknowledgeAlert(AlertAcknowledgement(alertID: alert.id, participant: engine.node.participant,
                                                                                      note: body.note ?? ""))), status: .created)
        case (.POST, "resolve"):
            let body = try decode(NoteRequest.self, request)
            guard let note = body.note, !note.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw Failure.validation("a resolution needs a note saying how it was resolved")
            }
            let alert = try await alert(id)
            return Self.json(try await append(.resolveAlert(AlertResolution(alertID: alert.id, note: note))), status: .created)
        case (.POST, "update"):
            return Self.json(try await update(id, try decode(AlertUpdateRequest.self, request)), status: .created)
        case (_, nil), (_, "ack"), (_, "resolve"), (_, "update"):
            return Self.json(ErrorResponse(error: "method-not-allowed", message: "\(request.method) is not allowed on \(request.path)"),
                             status: .methodNotAllowed)
        default:
            throw Failure.notFound("no route \(request.method) \(request.path)")
        }
    }

    // MARK: reads

    /// Reads the engine's published snapshot: never waits for the engine, and costs the same
    /// whatever the history behind it (the digest is kept with the snapshot).
    private func status() -> StatusResponse {
        let state = engine.snapshot
        let views = state.views
        let vector = state.vector
        let (cuts, trust) = (state.cuts, state.trustStore)
        let connected = Set(node.peers.connectedPeers)
        let health = node.peers.health
        return StatusResponse(
            participant: engine.node.participant.rawValue, node: engine.node.description,
            uptimeSeconds: Int(Date().timeIntervalSince(startedAt)), entries: Int(vector.total),
            versionVector: AdminPresenter.vector(vector), viewDigest: state.viewDigest.hex, writable: state.ownFeedWritable,
            feed: state.writingFeed.description,
            peersConnected: connected.count, peersConfigured: configuredPeers(),
            peers: health.map { AdminPresenter.peer($0, local: vector, connected: connected.contains($0.peer)) },
            securityEvents: AdminPresenter.clockEvents(health, datedAhead: state.datedAhead, threshold: engine.maximumClockSkewMillis)
                + AdminPresenter.hiddenFeedEvents(state.hiddenFeeds, cuts: cuts)
                + AdminPresenter.securityEvents(forks: state.forks, refusals: node.peers.refusals, health: health, views: views,
                                                feedsAtQuota: state.feedsAtQuota, feedQuota: state.feedQuota),
            certificateExpiresAt: AdminJSON.timestamp(certificateExpiry()),
            keyHistory: state.ownKeyHistory.map { AdminPresenter.keyHistoryItem($0, current: $0.id == state.currentSigner) },
            revocationLists: trust.crls.map { crl in
                RevocationListItem(participants: trust.participants(issuing: crl), issuer: crl.issuer, issuedAt: AdminJSON.timestamp(crl.lastUpdate),
                                   nextUpdate: crl.nextUpdate.map(AdminJSON.timestamp))
            },
            feedsCut: state.cutEntries.map { by, seq, cut in
                FeedCutItem(feed: cut.feed.description, seq: cut.seq, entryID: cut.entryID?.hex, by: "\(by)#\(seq)", reason: cut.reason,
                            inForce: cuts[cut.feed] == cut, heldAfterCut: vector[cut.feed] > cut.seq ? vector[cut.feed] - cut.seq : 0)
            },
            clockWarning: PeerHealth.clockWarning(health, threshold: engine.maximumClockSkewMillis))
    }

    private func peers() -> [PeerItem] {
        let vector = engine.vector
        let connected = Set(node.peers.connectedPeers)
        return node.peers.health.map { AdminPresenter.peer($0, local: vector, connected: connected.contains($0.peer)) }
    }

    private func reserves(_ query: [String: String]) async throws -> [ReserveItem] {
        let participant = try query["participant"].map(parseParticipant)
        let mineral = try query["mineral"].map(parseMineral)
        let views = engine.snapshot.views
        let coverage = views.coverage
        return views.reserves
            .filter { participant == nil || $0.report.participant == participant }
            .filter { mineral == nil || $0.report.mineral == mineral }
            .map { AdminPresenter.reserve($0, in: views, coverage: coverage) }
    }

    private func history(_ query: [String: String]) async throws -> [ReserveItem] {
        guard let mineralText = query["mineral"] else { throw Failure.validation("history needs ?mineral=") }
        let mineral = try parseMineral(mineralText)
        let participant = try query["participant"].map(parseParticipant) ?? engine.node.participant
        let views = engine.snapshot.views
        let coverage = views.coverage
        let sites = Set(views.reserves.filter { $0.report.participant == participant && $0.report.mineral == mineral }.map(\.report.site))
        // Each site's history in its own order (a report after the one it supersedes, whatever
        // the clocks), the sites interleaved by time.
        var histories = sites.sorted().map { views.history(of: ReserveKey(participant: participant, mineral: mineral, site: $0))[...] }
        var merged: [ReserveRecord] = []
        while let next = histories.indices.filter({ !histories[$0].isEmpty }).min(by: { histories[$0].first!.order < histories[$1].first!.order }) {
            merged.append(histories[next].removeFirst())
        }
        return merged.map { AdminPresenter.reserve($0, in: views, coverage: coverage) }
    }

    private func targets() async -> [TargetRequest] {
        engine.snapshot.views.targets.map {
            TargetRequest(mineral: $0.target.mineral.rawValue, quantity: $0.target.quantity.amount.text, unit: $0.target.quantity.unit.rawValue)
        }
    }

    private func alerts(_ query: [String: String]) async throws -> [AlertItem] {
        let mineral = try query["mineral"].map(parseMineral)
        let minimum = try query["minSeverity"].map(parseSeverity)
        let openOnly = query["open"].map { $0 == "" || $0 == "true" || $0 == "1" } ?? false
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        return engine.snapshot.views.alerts
            .filter { mineral == nil || $0.mineral == mineral }
            .filter { minimum == nil || $0.severity >= minimum! }
            .filter { !openOnly || (!$0.isResolved && !$0.isExpired(nowMillis: now)) }
            .sorted { ($0.raisedAt, $0.id.hex) > ($1.raisedAt, $1.id.hex) }
            .map(AdminPresenter.alert)
    }

    /// An alert by its id or a unique prefix of at least 8 hex digits.
    private func alert(_ text: String) async throws -> DisruptionAlert {
        let views = engine.snapshot.views
        do {
            let id = try AlertReference.resolve(text, among: views.alerts.map(\.id))
            return views.alert(id)!
        } catch {
            switch error {
            case .notFound: throw Failure.notFound(error.description)
            case .malformed, .ambiguous: throw Failure.validation(error.description)
            }
        }
    }

    // MARK: writes

    /// How far ahead of this node's clock a date an operator types may be (clocks differ a little).
    static let futureDateAllowanceMillis: UInt64 = 60_000

    private func report(_ body: ReserveReportRequest) async throws -> WriteResponse {
        try await append(.reportReserve(try reserveReport(body, row: nil)))
    }

    private func reserveReport(_ body: ReserveReportRequest, row: Int?, line: Int? = nil) throws -> ReserveReport {
        let prefix = line.map { "line \($0): " } ?? row.map { "row \($0): " } ?? ""
        do {
            let mineral = try catalogue.resolve(body.mineral)
            let quantity = Quantity(amount: try Amount(body.quantity), unit: try MassUnit(parsing: body.unit ?? "t"))
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            let asOf = try body.asOf.map { try millis($0, field: "asOf") } ?? now
            // A level cannot be measured in the future; back-filled history (any past date) is normal.
            if asOf > now + Self.futureDateAllowanceMillis {
                throw Failure.validation("asOf \"\(body.asOf ?? "")\" is in the future (this node's clock says \(AdminJSON.timestamp(Date()))): a reserve level can only be reported as of a date that has come")
            }
            let report = ReserveReport(participant: engine.node.participant, mineral: mineral, site: body.site ?? "", quantity: quantity,
                                       asOfMillis: asOf, note: body.note ?? "")
            return report
        } catch let error as RegistryValueError {
            throw Failure.validation(prefix + error.description)
        } catch let failure as Failure {
            throw Failure.validation(prefix + failure.body.message)
        }
    }

    /// All rows or none: every row is validated here, then the engine drafts them all (policy
    /// included) before it stores them in one transaction.
    private func importReserves(_ body: ReserveImportRequest) async throws -> [WriteResponse] {
        guard !body.rows.isEmpty else { throw Failure.validation("the import has no rows") }
        guard body.rows.count <= 10_000 else { throw Failure.validation("an import holds at most 10,000 rows") }
        let reports = try body.rows.enumerated().map { index, row in try reserveReport(row, row: index + 1, line: row.line) }
        do {
            return try await engine.appendAll(reports.map { .reportReserve($0) }).map { WriteResponse(id: $0.id.hex, seq: $0.seq) }
        } catch {
            throw map(error)
        }
    }

    private func setTarget(_ body: TargetRequest) async throws -> WriteResponse {
        do {
            let target = ReserveTarget(participant: engine.node.participant, mineral: try catalogue.resolve(body.mineral),
                                       quantity: Quantity(amount: try Amount(body.quantity), unit: try MassUnit(parsing: body.unit ?? "t")))
            return try await append(.setTarget(target))
        } catch let error as RegistryValueError {
            throw Failure.validation(error.description)
        }
    }

    private func raise(_ body: AlertRaiseRequest) async throws -> WriteResponse {
        do {
            let raise = AlertRaise(
                mineral: try catalogue.resolve(body.mineral), severity: try Severity(parsing: body.severity),
                category: try AlertCategory(parsing: body.category), region: body.region ?? "", summary: body.summary,
                expiresAtMillis: try body.expires.map { try millis($0, field: "expires") })
            guard !body.summary.trimmingCharacters(in: .whitespaces).isEmpty else { throw RegistryValueError.emptyField("summary") }
            return try await append(.raiseAlert(raise))
        } catch let error as RegistryValueError {
            throw Failure.validation(error.description)
        }
    }

    private func update(_ id: String, _ body: AlertUpdateRequest) async throws -> WriteResponse {
        let alert = try await alert(id)
        do {
            let update = AlertUpdate(
                alertID: alert.id, severity: try body.severity.map { try Severity(parsing: $0) },
                category: try body.category.map { try AlertCategory(parsing: $0) }, region: body.region, summary: body.summary,
                expiresAtMillis: try body.expires.map { try millis($0, field: "expires") })
            guard update.severity != nil || update.category != nil || update.region != nil || update.summary != nil || update.expiresAtMillis != nil else {
                throw Failure.validation("an update must change something: severity, category, region, summary or expires")
            }
            return try await append(.updateAlert(update))
        } catch let error as RegistryValueError {
            throw Failure.validation(error.description)
        }
    }

    private func append(_ operation: EntryOperation) async throws -> WriteResponse {
        do {
            let entry = try await engine.append(operation)
            return WriteResponse(id: entry.id.hex, seq: entry.seq)
        } catch {
            throw map(error)
        }
    }

    /// Ends another node's feed of this participant at its last genuine entry.
    private func cut(_ body: FeedCutRequest) async throws -> WriteResponse {
        guard let feed = try? NodeID(body.feed) else {
            throw Failure.validation("feed \"\(body.feed)\" must be a node such as EU/eu-1 (or one segment of it, EU/eu-1@7)")
        }
        do {
            // A reason beyond its limit is refused by the draft's read-back, like every field.
            let entry = try await engine.cut(feed, at: body.seq, reason: body.reason ?? "")
            return WriteResponse(id: entry.id.hex, seq: entry.seq)
        } catch {
            throw map(error)
        }
    }

    private func map(_ error: SyncEngine.EngineError) -> Failure {
        switch error {
        case .policy(let violation): Failure(status: .forbidden, body: ErrorResponse(error: "policy", message: violation.description))
        case .invalid(let reason): Failure(status: .badRequest, body: ErrorResponse(error: "validation", message: reason))
        case .certificate(let reason): Failure(status: .serviceUnavailable, body: ErrorResponse(error: "certificate", message: reason))
        case .ownFeedClaimed, .shuttingDown: Failure(status: .serviceUnavailable, body: ErrorResponse(error: "unavailable", message: error.description))
        case .store, .signing: Failure(status: .internalServerError, body: ErrorResponse(error: "internal", message: error.description))
        }
    }

    // MARK: sync and watch

    private func sync(_ body: SyncRequest) async throws -> SyncResponse {
        let peer = try body.peer.map { text -> NodeID in
            guard let id = try? NodeID(text) else { throw Failure.validation("peer \"\(text)\" must be a node such as EU/eu-1") }
            return id
        }
        let deadline = Date().addingTimeInterval(min(max(body.timeoutSeconds ?? 60, 0.1), 3600))
        if let peer, !node.peers.connectedPeers.contains(peer) {
            // With --wait, a named peer that is still connecting is waited for.
            while body.wait == true, Date() < deadline, !node.peers.connectedPeers.contains(peer) {
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            guard node.peers.connectedPeers.contains(peer) else {
                throw Failure(status: .conflict, body: ErrorResponse(error: "not-connected", message: "\(peer) is not connected (see `mineralctl peers`)"))
            }
        }
        let started = node.syncNow(with: peer)
        guard body.wait == true else { return SyncResponse(peers: started.map(\.description), inSync: false, versionVector: AdminPresenter.vector(engine.vector)) }
        guard !started.isEmpty else {
            throw Failure(status: .conflict, body: ErrorResponse(error: "not-connected", message: "no peer is connected, so there is nothing to be in sync with (see `mineralctl peers`)"))
        }
        while true {
            let state = engine.snapshot
            let local = state.vector
            // Feeds this node takes nothing more of (revoked nodes, forks) may stay behind a peer's.
            let revoked = state.revokedOrigins, partial = state.feedsShownInPart, forked = Set(state.forks.map(\.origin))
            func comparable(_ vector: VersionVector) -> [NodeID: UInt64] {
                vector.heads.filter { !revoked.contains($0.key.node) && !forked.contains($0.key) && !partial.contains($0.key) }
            }
            let pending = started.filter { peer in
                // Connected is not yet in sync: only the peer's hello says what it holds (a fresh
                // node asking at once would otherwise compare two empty vectors).
                guard let health = node.peers.health(of: peer), health.connectedSince != nil else { return true }
                return comparable(health.confirmedVector) != comparable(local)
            }
            if pending.isEmpty { return SyncResponse(peers: started.map(\.description), inSync: true, versionVector: AdminPresenter.vector(local)) }
            if Date() > deadline {
                throw Failure(status: .gatewayTimeout, body: ErrorResponse(
                    error: "timeout", message: "not in sync with \(pending.map(\.description).joined(separator: ", ")) before the time-out"))
            }
            // Each round asks the peers again; their answers arrive as vectors on the sessions.
            try await Task.sleep(nanoseconds: 200_000_000)
            let connected = Set(node.peers.connectedPeers)
            if let lost = started.first(where: { !connected.contains($0) }) {
                throw Failure(status: .conflict, body: ErrorResponse(error: "not-connected", message: "\(lost) disconnected before it was in sync"))
            }
            node.syncNow(with: peer)
        }
    }

    private func watch() -> HTTPResponse {
        let engine = self.engine
        let logger = self.logger
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let task = Task {
            let batches = await engine.subscribe()
            logger.debug("watch subscribed")
            continuation.yield(ByteBuffer(string: "\n"))  // headers out at once: the watcher knows it is subscribed
            for await batch in batches {
                let views = engine.snapshot.views
                // Coverage walks every register: only worth it when the batch reports a reserve.
                let reportsReserves = batch.contains { if case .reportReserve = $0.operation { true } else { false } }
                let coverage = reportsReserves ? views.coverage : [:]
                var text = ""
                // Each event shows its register or alert as it is now: a batch that changed one
                // several times (a catch-up) shows it once.
                var shown = Set<WatchSubject>()
                for entry in batch {
                    guard let subject = WatchSubject(entry), shown.insert(subject).inserted else { continue }
                    guard let event = Self.watchEvent(for: entry, views: views, coverage: coverage),
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

    /// What a watch event shows: a reserve register or an alert.
    enum WatchSubject: Hashable {
        case reserve(ReserveKey)
        case alert(EntryID)

        init?(_ entry: Entry) {
            switch entry.operation {
            case .reportReserve(let report): self = .reserve(report.key)
            case .raiseAlert: self = .alert(entry.id)
            case .updateAlert(let update): self = .alert(update.alertID)
            case .acknowledgeAlert(let ack): self = .alert(ack.alertID)
            case .resolveAlert(let resolution): self = .alert(resolution.alertID)
            case .setTarget, .cutFeed, .unknown, .malformed: return nil
            }
        }
    }

    static func watchEvent(for entry: Entry, views: RegistryViews, coverage: [TargetKey: Decimal]) -> WatchEvent? {
        let origin = entry.origin.description
        switch entry.operation {
        case .reportReserve(let report):
            guard let record = views.reserve(report.key) else { return nil }
            return WatchEvent(type: "reserve", origin: origin, reserve: AdminPresenter.reserve(record, in: views, coverage: coverage))
        case .raiseAlert:
            return views.alert(entry.id).map { WatchEvent(type: "alert", origin: origin, alert: AdminPresenter.alert($0)) }
        case .updateAlert(let update):
            return views.alert(update.alertID).map { WatchEvent(type: "alert", origin: origin, alert: AdminPresenter.alert($0)) }
        case .acknowledgeAlert(let ack):
            return views.alert(ack.alertID).map { WatchEvent(type: "alert", origin: origin, alert: AdminPresenter.alert($0)) }
        case .resolveAlert(let resolution):
            return views.alert(resolution.alertID).map { WatchEvent(type: "alert", origin: origin, alert: AdminPresenter.alert($0)) }
        case .setTarget, .cutFeed, .unknown, .malformed:
            return nil
        }
    }

    // MARK: parsing

    private func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest, emptyAllowed: Bool = false) throws -> T {
        try Self.decode(type, request, emptyAllowed: emptyAllowed)
    }

    /// A request body as `T`, or a validation failure naming what is wrong.
    static func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest, emptyAllowed: Bool = false) throws -> T {
        if emptyAllowed, request.body.readableBytes == 0, let empty = try? AdminJSON.decoder.decode(T.self, from: Data("{}".utf8)) { return empty }
        do {
            return try AdminJSON.decoder.decode(T.self, from: Data(request.body.readableBytesView))
        } catch DecodingError.keyNotFound(let key, _) {
            throw Failure.validation("the request body lacks \"\(key.stringValue)\"")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw Failure.validation("the request body has the wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw Failure.validation("the request body is not valid JSON")
        }
    }

    private func parseMineral(_ text: String) throws -> MineralID {
        do { return try catalogue.resolve(text) } catch { throw Failure.validation(error.description) }
    }

    private func parseParticipant(_ text: String) throws -> ParticipantID {
        do { return try ParticipantID(text) } catch { throw Failure.validation(error.description) }
    }

    private func parseSeverity(_ text: String) throws -> Severity {
        do { return try Severity(parsing: text) } catch { throw Failure.validation(error.description) }
    }

    /// A date as milliseconds since 1970, refusing what the registry cannot hold.
    private func millis(_ text: String, field: String) throws -> UInt64 {
        let date = try parseDate(text, field: field)
        let millis = date.timeIntervalSince1970 * 1000
        guard millis >= 0, millis < 253_402_300_800_000, let value = UInt64(exactly: millis.rounded(.down)) else {
            throw Failure.validation("\(field) \"\(text)\" must be between 1970-01-01 and 9999-12-31")
        }
        return value
    }

    private func parseDate(_ text: String, field: String) throws -> Date {
        guard let date = AdminJSON.parseDate(text) else {
            throw Failure.validation("\(field) \"\(text)\" must be a date such as 2026-11-26 or 2026-11-26T09:30:00Z")
        }
        return date
    }

    static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        var data = (try? AdminJSON.encoder.encode(value)) ?? Data(#"{"error":"internal","message":"could not encode the response"}"#.utf8)
        data.append(0x0A)
        return HTTPResponse(status: status, body: ByteBuffer(bytes: data))
    }
}
