import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Under systemd (`Type=notify`) the daemon says READY=1 once it serves, and STOPPING=1 when a
/// SIGTERM starts the drain, on the datagram socket systemd names in $NOTIFY_SOCKET, whether
/// that is a path or an abstract name ("@...").
@Suite("systemd readiness notification", .serialized)
struct SystemdNotifyTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("notify") }

    @Test(arguments: [false, true])
    func readyAndStoppingReachTheNotifySocket(abstract: Bool) async throws {
        let name = abstract ? "@mineralsync-notify-\(UUID().uuidString.prefix(8))" : root.path("notify.sock")
        let listener = try NotifyListener(name)
        let node = try DaemonProcess("EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files)
        node.environment = ["NOTIFY_SOCKET": name]
        try await node.start()
        let ready = try await onThread { try listener.receive() }
        #expect(ready.hasPrefix("READY=1\n"), "\(ready)")
        #expect(ready.contains("STATUS=syncing with 0 configured peers"))
        #expect(try node.status().node == "EU/eu-1", "READY=1 means the admin API answers")
        #expect(try await node.stop() == 0)
        #expect(try await onThread { try listener.receive() } == "STOPPING=1")
    }
}

/// A datagram socket bound where systemd would listen.
final class NotifyListener: Sendable {
    private let fd: Int32

    init(_ name: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (index, byte) in bytes.enumerated() { raw[index] = byte } }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw TimedOut(what: "bind \(name): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// The next datagram (waits at most 30 s).
    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { throw TimedOut(what: "a notification (\(String(cString: strerror(errno))))") }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}
