import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive OS lock (`flock`) on `<data-dir>/mineral-syncd.lock`, held for the daemon's
/// life, holding its pid. Two daemons on one data directory would both append to one store
/// with their own views and feed heads (and sign conflicting entries: a fork of their own
/// feed); the second is refused, naming the first's pid. The kernel releases the lock when the
/// process ends, however it ends (kill -9 included), so a stale file never blocks a restart.
final class DataDirectoryLock: Sendable {
    let path: String
    /// nil once released.
    private let descriptor: NIOLockedValueBox<Int32?>

    static let fileName = "mineral-syncd.lock"

    init(directory: String) throws(DaemonError) {
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .dataDirectory(path: directory, reason: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason =
                errno == EWOULDBLOCK
                ? "it is in use by another mineral-syncd\(Self.holder(fd).map { " (pid \($0))" } ?? ""); stop that one first, or give this node its own node.data-dir"
                : "cannot lock \(path): \(String(cString: strerror(errno)))"
            close(fd)
            throw .dataDirectory(path: directory, reason: reason)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = NIOLockedValueBox(fd)
    }

    /// The pid the holder wrote, if it is readable.
    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Releases the lock (shutdown); the file stays, and says nothing until the next start.
    func release() {
        guard
            let fd = descriptor.withLockedValue({ value -> Int32? in
                defer { value = nil }
                return value
            })
        else { return }
        _ = ftruncate(fd, 0)
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
