import Foundation

public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}

/// Awaits `body`, failing instead of hanging if it takes longer than `seconds` (a guard against
/// a broken build hanging CI, not a sleep: the test proceeds the moment the event happens).
/// The body runs unstructured so that a wait that cannot be cancelled still cannot hang the test.
public func within<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let once = OnceBox<T>()
    return try await withCheckedThrowingContinuation { continuation in
        once.set(continuation)
        Task { once.resume(with: await Result(catching: body)) }
        Task {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            once.resume(with: .failure(TimedOut(what: what)))
        }
    }
}

/// Resumes a continuation exactly once, whoever comes first.
public final class OnceBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?

    public init() {}

    public func set(_ continuation: CheckedContinuation<T, any Error>) { lock.withLock { self.continuation = continuation } }

    public func resume(with result: Result<T, any Error>) {
        let pending = lock.withLock { () -> CheckedContinuation<T, any Error>? in
            defer { continuation = nil }
            return continuation
        }
        pending?.resume(with: result)
    }
}

extension Result where Failure == any Error {
    public init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// Runs a blocking call (a process wait, a blocking socket read) on a thread of its own, so that
/// it never holds one of the few threads Swift's concurrency pool has (two on a 2-core machine):
/// two blocking waits there would leave no thread for `within`'s deadline to fire on.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result(catching: body)) }
        thread.start()
    }
}
