import Foundation

/// Executables of this package (daemon, helpers), found beside the test bundle in the build directory.
public enum BuiltExecutable {
    public struct Missing: Error, CustomStringConvertible {
        public let name: String
        public let tried: [String]
        public var description: String { "\(name) not built; looked in \(tried)" }
    }

    public static func url(_ name: String) throws -> URL {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        for directory in candidates {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw Missing(name: name, tried: candidates.map(\.path))
    }
}
