import Foundation
import OpenSSLCrypto

/// Units a reserve or target is reported in.
public enum MassUnit: String, Sendable, Hashable, CaseIterable, Codable {
    case tonne = "t"
    case kilogram = "kg"

    public init(parsing text: String) throws(RegistryValueError) {
        switch text.lowercased() {
        case "t", "tonne", "tonnes": self = .tonne
        case "kg", "kilogram", "kilograms": self = .kilogram
        default: throw .invalidUnit(text)
        }
    }

    /// How many of this unit make a tonne's worth, as a divisor.
    public var perTonne: Decimal { self == .tonne ? 1 : 1000 }
}

/// A non-negative decimal amount, held in its canonical text form (the form on the wire):
/// no sign, no exponent, no leading zeros but "0" itself, no trailing fraction zeros, at most
/// 18 integer and 9 fraction digits. Canonical text makes equality and the view digest exact.
public struct Amount: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) throws(RegistryValueError) {
        guard Self.isCanonical(text) else {
            // Accept what a person types ("1250.50", "007") by canonicalising, but never a sign.
            guard let canonical = Self.canonicalise(text) else { throw .invalidAmount(text) }
            self.text = canonical
            return
        }
        self.text = text
    }

    /// Strict: only the canonical form, as an entry must carry it.
    public init(canonical text: String) throws(RegistryValueError) {
        guard Self.isCanonical(text) else { throw .invalidAmount(text) }
        self.text = text
    }

    public var decimal: Decimal { Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) ?? 0 }
    public var description: String { text }

    public static func < (a: Amount, b: Amount) -> Bool { a.decimal < b.decimal }

    static func isCanonical(_ text: String) -> Bool {
        text.withUTF8Bytes(isCanonical)
    }

    private static func isCanonical(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        var index = 0
        var integerDigits = 0
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
            index += 1
            integerDigits += 1
        }
        guard (1...18).contains(integerDigits) else { return false }
        if integerDigits > 1 && bytes[0] == 0x30 { return false }
        if index == bytes.count { return true }
        guard bytes[index] == 0x2E else { return false }
        index += 1
        let fractionStart = index
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
        let fractionDigits = index - fractionStart
        return index == bytes.count && (1...9).contains(fractionDigits) && bytes[bytes.count - 1] != 0x30
    }

    static func canonicalise(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, !trimmed.isEmpty,
            first.allSatisfy(\.isASCIIDigitCharacter),
            parts.count == 1 || parts[1].allSatisfy(\.isASCIIDigitCharacter),
            !(first.isEmpty && (parts.count == 1 || parts[1].isEmpty))
        else { return nil }
        var integer = String(first.drop { $0 == "0" })
        if integer.isEmpty { integer = "0" }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let candidate = fraction.isEmpty ? integer : "\(integer).\(fraction)"
        return isCanonical(candidate) ? candidate : nil
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

/// An amount of a mineral with its unit.
public struct Quantity: Sendable, Hashable, CustomStringConvertible {
    public let amount: Amount
    public let unit: MassUnit

    public init(amount: Amount, unit: MassUnit) {
        self.amount = amount
        self.unit = unit
    }

    /// Parses "1250 t", "1250t", "300.5 kg".
    public init(parsing text: String) throws(RegistryValueError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let split = trimmed.firstIndex(where: { !($0.isNumber || $0 == ".") }) else { throw .invalidUnit("") }
        let amount = try Amount(String(trimmed[..<split]))
        let unit = try MassUnit(parsing: trimmed[split...].trimmingCharacters(in: .whitespaces))
        self.init(amount: amount, unit: unit)
    }

    /// The amount in tonnes, for totals and coverage across units.
    public var tonnes: Decimal { amount.decimal / unit.perTonne }

    public var description: String { "\(amount) \(unit.rawValue)" }
}
