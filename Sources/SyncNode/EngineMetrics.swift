import Metrics

/// The engine's counters, through swift-metrics (the daemon bootstraps a Prometheus backend).
struct EngineMetrics: Sendable {
    let appended = Counter(label: "mineralsync_entries_appended_total")
    let ingested = Counter(label: "mineralsync_entries_ingested_total")
    let rejected = Counter(label: "mineralsync_entries_rejected_total")
    let forks = Counter(label: "mineralsync_forks_detected_total")
    let feedsAtQuota = Counter(label: "mineralsync_feeds_at_quota_total")
    let held = Gauge(label: "mineralsync_entries_held")
    /// Batches holding entries of an origin dated beyond `sync.max-clock-skew` ahead of our clock.
    let datedAhead = Counter(label: "mineralsync_entries_dated_ahead_total")
    let snapshots = Counter(label: "mineralsync_registry_snapshots_total")
    let divergences = Counter(label: "mineralsync_view_divergences_total")
    let statementsRefused = Counter(label: "mineralsync_view_statements_refused_total")
    /// Checkpoint states a peer sent that did not check out (joining from a checkpoint).
    let checkpointsRefused = Counter(label: "mineralsync_checkpoint_states_refused_total")
    /// Undelivered events the hooks' outbox dropped to stay within its bound.
    let eventsDropped = Counter(label: "mineralsync_events_dropped_total")
}
