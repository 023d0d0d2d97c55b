import OpenSSLCrypto

/// A minimal reader of the Protocol Buffers binary format over a byte buffer, for decoding entry
/// bodies without the generic machinery of a full runtime (decoding is the hot path of a
/// catch-up). It reads exactly: varints, fixed 32/64-bit values, and length-delimited fields.
package struct ProtobufReader {
    package enum Failure: Error, Equatable, CustomStringConvertible {
        case truncated
        case overlongVarint
        case invalidTag
        case wrongWireType(field: Int)
        case repeatedField(field: Int)
        case invalidUTF8(field: Int)
        case valueOutOfRange(field: Int)

        package var description: String {
            switch self {
            case .truncated: "truncated"
            case .overlongVarint: "varint longer than 10 bytes"
            case .invalidTag: "invalid field tag"
            case .wrongWireType(let field): "field \(field) has the wrong wire type"
            case .repeatedField(let field): "field \(field) appears more than once (entry bodies are encoded canonically)"
            case .invalidUTF8(let field): "field \(field) is not valid UTF-8"
            case .valueOutOfRange(let field): "field \(field) is out of range"
            }
        }
    }

    package enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case startGroup = 3
        case endGroup = 4
        case fixed32 = 5
    }

    private let bytes: UnsafeRawBufferPointer
    private var index: Int
    private let end: Int

    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        index = 0
        end = bytes.count
    }

    private init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        self.bytes = bytes
        index = range.lowerBound
        end = range.upperBound
    }

    package var isAtEnd: Bool { index >= end }

    package mutating func varint() throws(Failure) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < end else { throw .truncated }
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { throw .overlongVarint }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// The next field's number and wire type. A tag is a 32-bit varint of at most five bytes,
    /// as the reference decoder (SwiftProtobuf) requires: a longer encoding of the same number
    /// is refused there, so it is refused here (a body one node accepts, another must too).
    package mutating func tag() throws(Failure) -> (field: Int, wireType: WireType) {
        let start = index
        let raw = try varint()
        // Within 32 bits, the field number is within its 29.
        guard index - start <= 5, raw >> 32 == 0, let wireType = WireType(rawValue: raw & 7), raw >> 3 > 0 else { throw .invalidTag }
        return (Int(raw >> 3), wireType)
    }

    /// A length-delimited field's byte range, skipped over.
    package mutating func lengthDelimited() throws(Failure) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - index) else { throw .truncated }
        let range = index..<(index + Int(length))
        index = range.upperBound
        return range
    }

    package mutating func skip(_ wireType: WireType) throws(Failure) {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw .invalidTag
        }
    }

    private mutating func advance(_ count: Int) throws(Failure) {
        guard end - index >= count else { throw .truncated }
        index += count
    }

    package func nested(_ range: Range<Int>) -> ProtobufReader { ProtobufReader(bytes, range: range) }

    package func string(_ range: Range<Int>, field: Int) throws(Failure) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
        // Most registry text is ASCII (ids, sites, numbers): decoding it cannot go wrong, and
        // skips the general validator (which is not specialised and costs more than the rest).
        if raw.allSatisfy({ $0 < 0x80 }) {
            // Up to 15 ASCII bytes become a small string in place, without a second validation.
            guard raw.count <= 15 else { return String(decoding: raw, as: UTF8.self) }
            return String(unsafeUninitializedCapacity: raw.count) { out in
                UnsafeMutableRawBufferPointer(out).copyMemory(from: raw)
                return raw.count
            }
        }
        guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidUTF8(field: field) }
        return text
    }

    package func data(_ range: Range<Int>) -> [UInt8] { Array(bytes[range]) }

    package func digest(_ range: Range<Int>) -> SHA256Digest? {
        SHA256Digest(bytes: UnsafeRawBufferPointer(rebasing: bytes[range]))
    }

    /// Tracks which fields of one message were seen, to refuse a field that appears twice.
    struct SeenFields {
        private var mask: UInt64 = 0
        mutating func insert(_ field: Int) throws(Failure) {
            guard field < 64 else { return }
            let bit: UInt64 = 1 << UInt64(field)
            guard mask & bit == 0 else { throw .repeatedField(field: field) }
            mask |= bit
        }
        func contains(_ field: Int) -> Bool { field < 64 && mask & (1 << UInt64(field)) != 0 }
    }
}
