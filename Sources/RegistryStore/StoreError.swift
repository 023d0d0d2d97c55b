import Foundation
import Registry

/// Why the store refused to open or to write. Every case names the file, and none is ever
/// handled by resetting the database: a node's store holds acknowledged entries.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notADatabase(path: String)
    case corrupt(path: String, details: String)
    case foreignDatabase(path: String, applicationID: Int32)
    case newerSchema(path: String, found: Int, supported: Int)
    case belongsToAnotherNode(path: String, stored: String, configured: NodeID)
    case damagedEntry(path: String, origin: String, seq: Int64, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open the registry store \(path): \(reason)"
        case .notADatabase(let path):
            "\(path) is not an SQLite database (damaged, encrypted, or another kind of file); restore it from a backup or move it away"
        case .corrupt(let path, let details):
            "the registry store \(path) is corrupt (\(details)); restore it from a backup — partners will send back any entries it lacks"
        case .foreignDatabase(let path, let applicationID):
            "\(path) is an SQLite database of another application (application_id \(String(format: "0x%08X", applicationID))), not a MineralSync store"
        case .newerSchema(let path, let found, let supported):
            "the registry store \(path) has schema version \(found), newer than this mineral-syncd understands (\(supported)); upgrade mineral-syncd"
        case .belongsToAnotherNode(let path, let stored, let configured):
            "the registry store \(path) belongs to node \(stored), but this node is configured as \(configured)"
        case .damagedEntry(let path, let origin, let seq, let reason):
            "the registry store \(path) holds a damaged entry \(origin)#\(seq): \(reason)"
        case .writeFailed(let path, let reason):
            "writing to the registry store \(path) failed: \(reason)"
        }
    }
}
