import NIOConcurrencyHelpers

/// Fired once with a value (a wait status); `wait` returns it once fired, whether the waiting
/// task is cancelled or not.
final class ExitSignal: Sendable {
    private let state = NIOLockedValueBox<(value: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    var isFired: Bool { state.withLockedValue { $0.value != nil } }

    func fire(_ value: Int32) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Int32, Never>] in
            guard state.value == nil else { return [] }
            defer { state = (value, []) }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    @discardableResult
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let value = state.withLockedValue { state -> Int32? in
                if let value = state.value { return value }
                state.waiters.append(continuation)
                return nil
            }
            if let value { continuation.resume(returning: value) }
        }
    }
}
