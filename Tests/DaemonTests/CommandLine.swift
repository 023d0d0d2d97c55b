import Foundation
import TestSupport

/// Runs a built executable of this package and collects its exit status and output.
struct CommandRun: Sendable {
    let status: Int32
    let output: String
    let error: String

    /// Runs one of this package's executables.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 60) async throws -> CommandRun {
        try await run(url: try BuiltExecutable.url(executable), arguments, environment: environment, timeout: timeout)
    }

    /// Runs any program (a tool from PATH through /usr/bin/env), optionally in `directory`,
    /// waiting for it on a thread of its own (`onThread`): never on one of the two threads of
    /// Swift's concurrency pool, which every other test running meanwhile needs.
    static func run(url: URL, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil, timeout: Double = 60) async throws
        -> CommandRun
    {
        try await onThread { try runBlocking(url: url, arguments, environment: environment, directory: directory, timeout: timeout) }
    }

    /// `run(url:...)`, blocking the calling thread. A program still running after `timeout`
    /// seconds is killed (and its status says so), so a command that should have been refused
    /// but runs on fails its test instead of hanging it.
    static func runBlocking(url: URL, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil, timeout: Double = 60) throws
        -> CommandRun
    {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "MINERAL_SYNC_SOCKET")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = DispatchWorkItem { [process] in
            if process.isRunning {
                process.interrupt()
                kill(process.processIdentifier, SIGKILL)
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: deadline)
        defer { deadline.cancel() }
        // Read both pipes concurrently so neither fills up and blocks the child.
        let errorData = LockedData()
        let errorRead = DispatchSemaphore(value: 0)
        Thread {
            errorData.set(err.fileHandleForReading.readDataToEndOfFile())
            errorRead.signal()
        }.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errorRead.wait()
        return CommandRun(
            status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
            error: String(decoding: errorData.value, as: UTF8.self))
    }

    /// `mineralctl --socket S args...`
    static func ctl(_ node: DaemonProcess, _ arguments: [String]) async throws -> CommandRun {
        try await run("mineralctl", ["--socket", node.socketPath] + arguments)
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ data: Data) { lock.withLock { self.data = data } }
    var value: Data { lock.withLock { data ?? Data() } }
}
