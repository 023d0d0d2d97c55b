import Foundation
import Testing

/// What keeps the repository itself honest: the code as `swift format` formats it (with the
/// package's `.swift-format`), and the hand-written mutants still pointing at code that exists.
@Suite struct RepositoryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every Swift file of the package but generated protobuf code and build directories.
    static func swiftFiles() throws -> [String] {
        var files: [String] = []
        for directory in ["Sources", "Tests", "Benchmarks", "Fuzz"] {
            let base = root.appendingPathComponent(directory)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles]) else { continue }
            for case let url as URL in walker where url.pathExtension == "swift" && !url.lastPathComponent.hasSuffix(".pb.swift") {
                files.append(url.path)
            }
        }
        return files.sorted() + [root.appendingPathComponent("Package.swift").path]
    }

    /// Runs a program in the package's root; its exit status and what it printed. Waited for on
    /// a thread of its own: the lint takes most of a minute, and the concurrency pool's threads
    /// (two on a 2-core machine) are what every other test running meanwhile needs.
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runBlocking(arguments) }) }.start()
        }
    }

    static func runBlocking(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = root
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test func theSourcesAreFormatted() async throws {
        let files = try Self.swiftFiles()
        #expect(files.count > 100)
        let (status, output) = try await Self.run(["swift", "format", "lint", "--strict"] + files)
        #expect(status == 0, "run `swift format -i --parallel` on these files:\n\(output)")
    }

    @Test func everyMutantStillApplies() async throws {
        let (status, output) = try await Self.run(["python3", "Scripts/mutation-test.py", "--check"])
        #expect(status == 0, "\(output)")
    }
}
