/// The admin API: every endpoint the daemon serves on its Unix socket, once. The daemon's
/// router serves exactly these (a path here with another method is 405, naming the allowed
/// ones; any other path is 404); `mineralctl` and the tests call them through `AdminClient`.
public enum AdminAPI {
    // Node
    public static let status = AdminEndpoint<NoBody, StatusResponse>(.get, "/v1/status")
    public static let peers = AdminEndpoint<NoBody, [PeerItem]>(.get, "/v1/peers")
    public static let minerals = AdminEndpoint<NoBody, [MineralItem]>(.get, "/v1/minerals")
    public static let sync = AdminEndpoint<SyncRequest, SyncResponse>(.post, "/v1/sync", bodyOptional: true)
    /// Newline-delimited `WatchEvent`s, one per change, until the client leaves; `type=alert`
    /// or `type=reserve` for one kind only.
    public static let watch = AdminEndpoint<NoBody, WatchEvent>(.get, "/v1/watch", query: ["type"])
    public static let cutFeed = AdminEndpoint<FeedCutRequest, WriteResponse>(.post, "/v1/feeds/cut", successStatus: 201)
    /// The latest checkpoint, verifiable offline (404 until there is one).
    public static let proof = AdminEndpoint<NoBody, ProofResponse>(.get, "/v1/proof")
    public static let exportArchive = AdminEndpoint<ArchiveRequest, ArchiveResponse>(.post, "/v1/archive", successStatus: 201)
    public static let dropArchivedHistory = AdminEndpoint<ArchiveRequest, ArchiveDropResponse>(.post, "/v1/archive/drop")
    /// Stops retrying the event a hook keeps failing to deliver (`HookSkipRequest`); answers
    /// once the hook's worker has moved past it (or delivered it after all).
    public static let skipHookEvent = AdminEndpoint<HookSkipRequest, HookSkipResponse>(.post, "/v1/hooks/skip")

    // Reserves and targets
    public static let reserves = AdminEndpoint<NoBody, [ReserveItem]>(.get, "/v1/reserves", query: ["participant", "mineral"])
    public static let reportReserve = AdminEndpoint<ReserveReportRequest, WriteResponse>(.post, "/v1/reserves", successStatus: 201)
    public static let importReserves = AdminEndpoint<ReserveImportRequest, [WriteResponse]>(.post, "/v1/reserves/import", successStatus: 201)
    public static let reserveHistory = AdminEndpoint<NoBody, [ReserveItem]>(.get, "/v1/reserves/history", query: ["mineral", "participant"])
    /// Per mineral, the sum of the levels the participants share, and who withheld theirs.
    public static let reserveTotals = AdminEndpoint<NoBody, [TotalItem]>(.get, "/v1/reserves/totals")
    public static let targets = AdminEndpoint<NoBody, [TargetRequest]>(.get, "/v1/targets")
    public static let setTarget = AdminEndpoint<TargetRequest, WriteResponse>(.post, "/v1/targets", successStatus: 201)
    /// This participant's annual consumption of a mineral (for days of cover); the same shape as a target.
    public static let setConsumption = AdminEndpoint<TargetRequest, WriteResponse>(.post, "/v1/consumption", successStatus: 201)

    // Alerts (`{id}`: an alert id, or a unique prefix of at least 8 hex digits)
    public static let alerts = AdminEndpoint<NoBody, [AlertItem]>(.get, "/v1/alerts", query: ["mineral", "minSeverity", "open"])
    public static let raiseAlert = AdminEndpoint<AlertRaiseRequest, WriteResponse>(.post, "/v1/alerts", successStatus: 201)
    public static let alert = AdminEndpoint<NoBody, AlertItem>(.get, "/v1/alerts/{id}")
    public static let acknowledgeAlert = AdminEndpoint<NoteRequest, WriteResponse>(.post, "/v1/alerts/{id}/ack", successStatus: 201, bodyOptional: true)
    public static let resolveAlert = AdminEndpoint<NoteRequest, WriteResponse>(.post, "/v1/alerts/{id}/resolve", successStatus: 201)
    public static let updateAlert = AdminEndpoint<AlertUpdateRequest, WriteResponse>(.post, "/v1/alerts/{id}/update", successStatus: 201)

    /// Every endpoint, in the order `mineralctl` documents them.
    public static let all: [AnyAdminEndpoint] = [
        .init(status), .init(peers), .init(minerals), .init(sync), .init(watch), .init(cutFeed), .init(proof), .init(exportArchive), .init(dropArchivedHistory),
        .init(skipHookEvent),
        .init(reserves), .init(reportReserve), .init(importReserves), .init(reserveHistory), .init(reserveTotals), .init(targets), .init(setTarget),
        .init(setConsumption),
        .init(alerts), .init(raiseAlert), .init(alert), .init(acknowledgeAlert), .init(resolveAlert), .init(updateAlert)
    ]
}
