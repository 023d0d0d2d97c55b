import Foundation
import NIOConcurrencyHelpers

/// A program started with `posix_spawn`, its standard input and error on pipes, reaped by a
/// thread of its own (`exited` fires with the wait status).
final class SpawnedProgram: Sendable {
    let pid: pid_t
    let exited = ExitSignal()
    private let input: Int32

    struct SpawnError: Error, CustomStringConvertible {
        let code: Int32
        var description: String { String(cString: strerror(code)) }
    }

    init(_ program: String, environment: [String: String]) throws(SpawnError) {
        // Close-on-exec from the start: another hook started meanwhile must not inherit them
        // (dup2 into this child clears the flag on its copies).
        var inputPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        guard systemPipe2(&inputPipe, O_CLOEXEC) == 0 else { throw SpawnError(code: errno) }
        guard systemPipe2(&errorPipe, O_CLOEXEC) == 0 else {
            let code = errno
            close(inputPipe[0])
            close(inputPipe[1])
            throw SpawnError(code: code)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        // Nothing else of the daemon's reaches the program: not its sockets, its store, nor what
        // it inherited itself (a supervisor's pipes, which would outlive the daemon otherwise).
        closeFrom(3, in: &actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        var none = sigset_t()
        sigemptyset(&defaults)
        sigemptyset(&none)
        for signal in 1..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, Int32(signal)) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        let arguments = [program]
        let variables = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let result = withCStrings(arguments) { argv in
            withCStrings(variables) { envp in posix_spawn(&pid, program, &actions, &attributes, argv, envp) }
        }
        close(inputPipe[0])
        close(errorPipe[1])
        guard result == 0 else {
            close(inputPipe[1])
            close(errorPipe[0])
            throw SpawnError(code: result)
        }
        self.pid = pid
        input = inputPipe[1]
        let (exited, child, errors, drained, errorsDrained) = (exited, pid, errorPipe[0], errorText, errorsDrained)
        Thread.detachNewThread {
            var status: Int32 = 0
            var reaped: pid_t
            repeat { reaped = waitpid(child, &status, 0) } while reaped == -1 && errno == EINTR
            exited.fire(reaped == child ? status : Self.unknownStatus)
        }
        // Standard error is read as it comes (a program that writes much must not block on a full
        // pipe); the first 2 KiB are kept, the rest dropped, until every writer has closed it.
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(errors, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                drained.withLockedValue { kept in kept += buffer.prefix(max(0, min(count, 2048 - kept.count))) }
            }
            close(errors)
            errorsDrained.fire(0)
        }
    }

    /// What `exited` carries when the wait for the program failed.
    static let unknownStatus: Int32 = -1
    private let errorText = NIOLockedValueBox<[UInt8]>([])
    private let errorsDrained = ExitSignal()

    /// Writes all of `bytes` to the program's standard input and closes it; stops early if the
    /// program does not read (SIGPIPE is ignored by the daemon: the write fails instead).
    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(input, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue } else { break } }
                offset += written
            }
        }
        close(input)
    }

    /// SIGTERM to its process group now, SIGKILL two seconds later if it has not exited (never
    /// a signal once it is reaped: its id may be another process's by then).
    func stop() {
        guard !exited.isFired else { return }
        kill(-pid, SIGTERM)
        let (pid, exited) = (pid, exited)
        Task {
            try? await Task.sleep(for: .seconds(2))
            if !exited.isFired { kill(-pid, SIGKILL) }
        }
    }

    /// The first line of what the program wrote to standard error, at most 200 characters. Waits
    /// at most 50 ms for the rest of it (a program's children may hold the pipe open for long).
    func firstLineOfErrors() async -> String {
        for _ in 0..<10 where !errorsDrained.isFired { try? await Task.sleep(for: .milliseconds(5)) }
        let text = String(decoding: errorText.withLockedValue { $0 }, as: UTF8.self)
        return String((text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "").prefix(200))
    }
}

@_silgen_name("pipe2")
private func systemPipe2(_ descriptors: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run time.
/// Without it, every descriptor the daemon holds from 3 to the soft limit is closed one by one.
private func closeFrom(_ lowest: Int32, in actions: inout posix_spawn_file_actions_t) {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np"),
        unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, lowest) == 0
    {
        return
    }
    var limit = rlimit()
    let highest = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int32(clamping: min(limit.rlim_cur, 65_536)) : 1024
    for descriptor in lowest..<highest where fcntl(descriptor, F_GETFD) != -1 {
        posix_spawn_file_actions_addclose(&actions, descriptor)
    }
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return body(&pointers)
}
