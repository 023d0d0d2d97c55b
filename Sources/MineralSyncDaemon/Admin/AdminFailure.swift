import AdminAPI
import HTTPServing
import NIOHTTP1
import RegistryStore
import SyncNode

/// A refused admin request: its HTTP status and the `{error, message}` body `mineralctl` prints.
struct AdminFailure: Error {
    let status: HTTPResponseStatus
    let body: ErrorResponse

    init(_ status: HTTPResponseStatus, _ error: String, _ message: String) {
        self.status = status
        body = ErrorResponse(error: error, message: message)
    }

    static func validation(_ message: String) -> AdminFailure { AdminFailure(.badRequest, "validation", message) }
    static func notFound(_ message: String) -> AdminFailure { AdminFailure(.notFound, "not-found", message) }
    static func notConnected(_ message: String) -> AdminFailure { AdminFailure(.conflict, "not-connected", message) }
    static func storeFailed(_ error: StoreError) -> AdminFailure { AdminFailure(.internalServerError, "internal", error.description) }

    /// What a refused write means to the operator: a rule of the registry (403), a bad field
    /// (400), a node that cannot write now (503), or a fault of this node (500).
    static func refused(_ error: SyncEngine.EngineError) -> AdminFailure {
        switch error {
        case .policy(let violation): AdminFailure(.forbidden, "policy", violation.description)
        case .invalid(let reason): AdminFailure(.badRequest, "validation", reason)
        case .certificate(let reason): AdminFailure(.serviceUnavailable, "certificate", reason)
        case .ownFeedClaimed, .shuttingDown: AdminFailure(.serviceUnavailable, "unavailable", error.description)
        case .store, .signing: AdminFailure(.internalServerError, "internal", error.description)
        }
    }
}
