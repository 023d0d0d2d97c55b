import Foundation
import NodeConfig
import Registry
import Testing
import Yams

/// What ships in Deploy/ must be usable as shipped.
@Suite("Deploy/ files")
struct DeployFilesTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Deploy")

    @Test(arguments: ["eu-1", "us-1", "jp-1"])
    func exampleConfigsParse(node: String) throws {
        let path = Self.deploy.appendingPathComponent("config/\(node).yaml").path
        let configuration = try ConfigurationParser.load(path: path)
        #expect(configuration.node.name == node)
        #expect(configuration.peers.count == 2)
        #expect(configuration.tls.trustAnchors.keys.sorted() == ["EU", "JP", "US"])
        #expect(configuration.adminSocket == "/run/mineral-sync/admin.sock")
    }

    @Test func theComposeFileParsesAndRunsTheThreeNodes() throws {
        let text = try String(contentsOf: Self.deploy.appendingPathComponent("compose.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let services = try #require(document["services"] as? [String: Any])
        #expect(services.keys.sorted() == ["eu-1", "jp-1", "us-1"])
        for (name, service) in services {
            let volumes = (service as? [String: Any])?["volumes"] as? [String] ?? []
            #expect(volumes.contains("./config/\(name).yaml:/etc/mineral-sync/node.yaml:ro"))
        }
    }

    @Test func theSystemdUnitPassesSystemdAnalyzeVerify() throws {
        let analyzer = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        try #require(FileManager.default.isExecutableFile(atPath: analyzer.path), "systemd-analyze is missing (Debian package systemd; .ci/run installs it)")
        // verify insists that ExecStart's binary exists: point it at the built daemon.
        let daemon = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mineral-syncd").path
        let unit = try String(contentsOf: Self.deploy.appendingPathComponent("mineral-syncd.service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/mineral-syncd", with: daemon)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("mineral-syncd.service").path
        try unit.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = analyzer
        process.arguments = ["verify", path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(!output.contains("mineral-syncd.service:"), "warnings about the unit: \(output)")
    }
}
