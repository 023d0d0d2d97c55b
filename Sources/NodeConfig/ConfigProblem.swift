/// One thing wrong with a config, located so an operator can fix it without guessing:
/// `eu-1.yaml:14: tls.certificate: file ./pki/eu-1.pem does not exist`.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// 1-based line in the config file, when the problem belongs to a place in it.
    public let line: Int?
    /// The dotted key (`tls.trust-anchors.EU`), or empty for the document as a whole.
    public let key: String
    public let message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(place): \(message)" : "\(place): \(key): \(message)"
    }
}

/// A config that must not be used, with every problem found (not just the first).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) { self.problems = problems }

    public var description: String {
        let noun = problems.count == 1 ? "problem" : "problems"
        return (["configuration has \(problems.count) \(noun):"] + problems.map { "  \($0)" }).joined(separator: "\n")
    }
}
