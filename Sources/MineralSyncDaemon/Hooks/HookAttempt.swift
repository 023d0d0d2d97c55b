/// How one attempt to deliver an event went.
enum HookAttempt: Sendable, Equatable {
    case delivered
    case failed(String)
}

/// Delivers one event's JSON: a program (`ExecHook`) or an HTTP endpoint (`WebhookPoster`).
protocol HookDeliverer: Sendable {
    func deliver(_ body: [UInt8], kind: String, id: String, timeout: Duration) async -> HookAttempt
}

extension Duration {
    /// "2s", "0.5s", "300s": for log lines and messages.
    var shortText: String {
        String(format: "%gs", Double(components.seconds) + Double(components.attoseconds) / 1e18)
    }
}
