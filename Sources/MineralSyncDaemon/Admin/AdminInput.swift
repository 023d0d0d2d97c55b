import AdminAPI
import Foundation
import Registry

/// Reads the values an operator types (minerals, participants, severities, dates) into domain
/// values, or refuses them with a message naming what is wrong.
struct AdminInput: Sendable {
    let catalogue: MineralCatalogue

    func mineral(_ text: String) throws(AdminFailure) -> MineralID {
        do { return try catalogue.resolve(text) } catch { throw .validation(error.description) }
    }

    func participant(_ text: String) throws(AdminFailure) -> ParticipantID {
        do { return try ParticipantID(text) } catch { throw .validation(error.description) }
    }

    func severity(_ text: String) throws(AdminFailure) -> Severity {
        do { return try Severity(parsing: text) } catch { throw .validation(error.description) }
    }

    func node(_ text: String, role: String) throws(AdminFailure) -> NodeID {
        guard let id = try? NodeID(text) else { throw .validation("\(role) \"\(text)\" must be a node such as EU/eu-1") }
        return id
    }

    /// A date as milliseconds since 1970, refusing what the registry cannot hold.
    func millis(_ text: String, field: String) throws(AdminFailure) -> UInt64 {
        guard let date = AdminJSON.parseDate(text) else {
            throw .validation("\(field) \"\(text)\" must be a date such as 2026-11-26 or 2026-11-26T09:30:00Z")
        }
        let millis = date.timeIntervalSince1970 * 1000
        guard millis >= 0, millis < 253_402_300_800_000, let value = UInt64(exactly: millis.rounded(.down)) else {
            throw .validation("\(field) \"\(text)\" must be between 1970-01-01 and 9999-12-31")
        }
        return value
    }

    static var nowMillis: UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// Runs `body`, which builds a domain value: a refusal of one of its values becomes a
    /// validation failure naming it.
    static func validating<T>(_ body: () throws -> T) throws(AdminFailure) -> T {
        do {
            return try body()
        } catch let error as RegistryValueError {
            throw .validation(error.description)
        } catch let failure as AdminFailure {
            throw failure
        } catch {
            throw .validation("\(error)")
        }
    }
}
