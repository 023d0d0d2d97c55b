import Foundation
import Registry
import Yams

/// Walks a YAML document for `ConfigurationParser`: typed reads that record a located problem
/// instead of failing, and a record of which keys were read so leftovers can be reported.
final class ConfigReader {
    /// A mapping in the document, with its dotted path and the keys read so far.
    final class Section {
        let node: Node
        let path: String
        /// The key that introduced this mapping: where a missing key is reported.
        let keyNode: Node?
        let pairs: [(key: String, keyNode: Node, value: Node)]
        var read: Set<String> = []

        init(node: Node, keyNode: Node?, path: String, pairs: [(key: String, keyNode: Node, value: Node)]) {
            self.node = node
            self.keyNode = keyNode
            self.path = path
            self.pairs = pairs
        }

        var isEmpty: Bool { pairs.isEmpty }

        func child(_ key: String) -> Section? {
            guard let pair = pairs.first(where: { $0.key == key }), let mapping = pair.value.mapping else { return nil }
            return Section(node: pair.value, keyNode: pair.keyNode, path: qualified(key), pairs: mapping.map { ($0.key.string ?? "", $0.key, $0.value) })
        }

        func node(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }

        func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

        /// Every pair, marked as read (for maps whose keys are data, like trust anchors).
        func remainingPairs() -> [(String, Node)] {
            for pair in pairs { read.insert(pair.key) }
            return pairs.map { ($0.key, $0.value) }
        }
    }

    let file: String
    let baseDirectory: String
    private(set) var problems: [ConfigProblem] = []
    /// The line each value was read from, for problems found later in the files it names.
    private(set) var lines: [String: Int] = [:]

    init(file: String, baseDirectory: String) {
        self.file = file
        self.baseDirectory = baseDirectory
    }

    func report(_ node: Node?, _ key: String, _ message: String) {
        problems.append(ConfigProblem(file: file, line: node?.mark?.line, key: key, message: message))
    }

    func mapping(_ node: Node, key: String, keyNode: Node? = nil) -> Section? {
        guard let mapping = node.mapping else {
            report(node, key, key.isEmpty ? "the config must be a mapping of keys (node:, listen:, tls:, ...)" : "must be a mapping of keys")
            return nil
        }
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        var seen = Set<String>()
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else {
                report(keyNode, key, "keys must be plain text")
                continue
            }
            let qualified = key.isEmpty ? name : "\(key).\(name)"
            guard seen.insert(name).inserted else {
                report(keyNode, qualified, "is given twice")
                continue
            }
            pairs.append((name, keyNode, value))
        }
        return Section(node: node, keyNode: keyNode, path: key, pairs: pairs)
    }

    func section(_ parent: Section, _ key: String, required: Bool) -> Section? {
        parent.read.insert(key)
        guard let pair = parent.pairs.first(where: { $0.key == key }) else {
            if required { report(parent.keyNode ?? parent.node, parent.qualified(key), "is required") }
            return nil
        }
        return mapping(pair.value, key: parent.qualified(key), keyNode: pair.keyNode)
    }

    /// Reports every key of `section` that nothing read.
    func finish(_ section: Section) {
        for pair in section.pairs where !section.read.contains(pair.key) {
            report(pair.keyNode, section.qualified(pair.key), "unknown key")
        }
    }

    func scalar(_ section: Section, _ key: String, required: Bool) -> (String, Node)? {
        section.read.insert(key)
        guard let value = section.node(key) else {
            if required { report(section.keyNode ?? section.node, section.qualified(key), "is required") }
            return nil
        }
        guard let scalar = value.scalar, value.tag != Tag(.null) || !scalar.string.isEmpty else {
            report(value, section.qualified(key), value.scalar == nil ? "must be a single value" : "is empty")
            return nil
        }
        lines[section.qualified(key)] = value.mark?.line
        return (scalar.string, value)
    }

    func string(_ section: Section, _ key: String, required: Bool) -> String? {
        guard let (text, node) = scalar(section, key, required: required) else { return nil }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            report(node, section.qualified(key), "is empty")
            return nil
        }
        return text
    }

    func participant(_ section: Section, _ key: String) -> ParticipantID? {
        guard let (text, node) = scalar(section, key, required: true) else { return nil }
        guard let participant = try? ParticipantID(text) else {
            report(node, section.qualified(key), "\"\(text)\" is not a participant id (2–8 of A–Z and 0–9)")
            return nil
        }
        return participant
    }

    func path(_ section: Section, _ key: String, required: Bool) -> String? {
        section.read.insert(key)
        guard let value = section.node(key) else {
            if required { report(section.keyNode ?? section.node, section.qualified(key), "is required") }
            return nil
        }
        return pathValue(value, key: section.qualified(key))
    }

    func pathValue(_ node: Node, key: String) -> String? {
        guard let text = node.scalar?.string, !text.isEmpty, node.tag != Tag(.null) else {
            report(node, key, "must be a file path")
            return nil
        }
        lines[key] = node.mark?.line
        return ConfigurationParser.absolutePath(text, relativeTo: baseDirectory)
    }

    func address(_ section: Section, _ key: String, required: Bool) -> HostPort? {
        guard let (text, node) = scalar(section, key, required: required) else { return nil }
        guard let address = HostPort(parsing: text) else {
            report(node, section.qualified(key), "\"\(text)\" must be host:port (for example 127.0.0.1:7701 or [::1]:7701), port 0–65535")
            return nil
        }
        return address
    }

    func duration(_ section: Section, _ key: String, maximum: ConfigDuration = .maximum) -> ConfigDuration? {
        guard let (text, node) = scalar(section, key, required: false) else { return nil }
        guard let duration = ConfigDuration(parsing: text, maximum: maximum) else {
            report(
                node, section.qualified(key),
                "\"\(text)\" must be a positive duration such as 500ms, 10s, 5m or 1h, at most \(maximum == .maximum ? "24h" : "\(maximum)")")
            return nil
        }
        return duration
    }

    func integer(_ section: Section, _ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let (text, node) = scalar(section, key, required: false) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            report(node, section.qualified(key), "\"\(text)\" must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    func boolean(_ section: Section, _ key: String) -> Bool? {
        guard let (text, node) = scalar(section, key, required: false) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            report(node, section.qualified(key), "\"\(text)\" must be true or false")
            return nil
        }
    }

    /// `4194304`, `512KiB`, `4MiB`.
    func byteSize(_ section: Section, _ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let (text, node) = scalar(section, key, required: false) else { return nil }
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let scale: Int? =
            switch text.dropFirst(digits.count) {
            case "": 1
            case "KiB": 1 << 10
            case "MiB": 1 << 20
            case "GiB": 1 << 30
            default: nil
            }
        guard let scale, digits.count <= 12, let number = Int(digits), case (let value, let overflow) = number.multipliedReportingOverflow(by: scale),
            !overflow, range.contains(value)
        else {
            report(node, section.qualified(key), "\"\(text)\" must be a size such as 4MiB or 524288, from \(range.lowerBound) to \(range.upperBound) bytes")
            return nil
        }
        return value
    }

    func fileMode(_ section: Section, _ key: String) -> Int? {
        guard let (text, node) = scalar(section, key, required: false) else { return nil }
        guard text.count == 4, text.hasPrefix("0"), let mode = Int(text, radix: 8), mode & 0o007 == 0 else {
            report(node, section.qualified(key), "\"\(text)\" must be an octal mode such as 0660 or 0600, with no access for others")
            return nil
        }
        return mode
    }

    /// The items of an optional list, each with its dotted key (`peers[1]`).
    func list(_ section: Section, _ key: String) -> [(Node, String)] {
        section.read.insert(key)
        guard let value = section.node(key) else { return [] }
        if value.tag == Tag(.null) { return [] }
        guard let sequence = value.sequence else {
            report(value, section.qualified(key), "must be a list")
            return []
        }
        return sequence.enumerated().map { ($1, "\(section.qualified(key))[\($0)]") }
    }
}
