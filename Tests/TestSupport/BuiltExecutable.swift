import Foundation

/// Executables of this package (daemon, helpers), found beside the test bundle in the build directory.
public enum BuiltExecutable {
    public struct Missing: Error, CustomStringConvertible {
        public let name: String
        public let tried: [String]
        public var description: String { "\(name) not built; looked in \(tried)" }
    }

    public static func url(_ name: String) throws -> URL {
        try find(name) { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// A shared library of this package (`libNAME.so`), built beside the executables.
    public static func library(_ fileName: String) throws -> URL {
        try find(fileName) { FileManager.default.fileExists(atPath: $0.path) }
    }

    private static func find(_ name: String, _ usable: (URL) -> Bool) throws -> URL {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        for directory in candidates {
            let url = directory.appendingPathComponent(name)
            if usable(url) { return url }
        }
        throw Missing(name: name, tried: candidates.map(\.path))
    }
}
