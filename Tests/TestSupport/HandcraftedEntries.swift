import Foundation
import MineralWire
import OpenSSLCrypto
import Registry
import SwiftProtobuf

/// Entries no honest author of this version would write: from a newer partner (an operation
/// kind we do not know) or with fields our own encoder refuses. Built directly from the schema.
public enum HandcraftedEntries {
    /// An entry whose operation is field `fieldNumber` of `Operation`, unknown to this version.
    public static func unknownOperation(by author: FeedAuthor, fieldNumber: Int = 99, now: UInt64) throws -> (Entry, FeedAuthor) {
        let tag = UInt64(fieldNumber << 3 | 2)
        return try rawOperation(varint(tag) + [3, 0x0A, 0x01, 0x41], by: author, now: now)  // a 3-byte nested message
    }

    /// An entry whose operation holds `count` distinct unknown varint fields (1000, 1001, ...):
    /// as many as fit a body, to show reading one costs linear time.
    public static func manyUnknownFields(by author: FeedAuthor, count: Int, now: UInt64) throws -> (Entry, FeedAuthor) {
        var operationBytes: [UInt8] = []
        for number in 1000..<(1000 + count) { operationBytes += varint(UInt64(number << 3)) + [0] }
        return try rawOperation(operationBytes, by: author, now: now)
    }

    /// An entry whose `Operation` is these bytes, as they are.
    private static func rawOperation(_ bytes: [UInt8], by author: FeedAuthor, now: UInt64) throws -> (Entry, FeedAuthor) {
        try sign(by: author, now: now) { body in body.operation = try Mineralsync_V1_Operation(serializedBytes: bytes) }
    }

    /// An entry whose reserve amount is not in canonical form ("-5").
    public static func negativeReserve(by author: FeedAuthor, now: UInt64) throws -> (Entry, FeedAuthor) {
        try sign(by: author, now: now) { body in body.operation.reportReserve = gallium(author, "-5") }
    }

    /// A reserve report whose `supersedes` is `length` bytes long (an entry id has 32).
    public static func reportSuperseding(byteCount length: Int, by author: FeedAuthor, now: UInt64) throws -> (Entry, FeedAuthor) {
        try sign(by: author, now: now) { body in
            var report = gallium(author, "1")
            report.supersedes = Data(repeating: 7, count: length)
            body.operation.reportReserve = report
        }
    }

    /// A gallium report as a later version might write it, or as no honest author would:
    /// `withheld` and `form` as given, a quantity when `amount` is set, and `unknownField` (a
    /// field number this version does not know) with a varint, when set.
    /// `rawBasis` writes the basis as a raw varint (beyond 32 bits if need be).
    public static func report(
        withheld: String = "", form: String = "", amount: String? = "5", basis: Int = 0, rawBasis: UInt64? = nil,
        unknownField: Int? = nil, by author: FeedAuthor, now: UInt64
    ) throws -> (Entry, FeedAuthor) {
        try sign(by: author, now: now) { body in
            var report = gallium(author, amount ?? "0")
            if amount == nil { report.clearQuantity() }
            report.withheld = withheld
            report.form = form
            report.basis = Mineralsync_V1_ReserveBasis(rawValue: basis) ?? .unspecified
            if let unknownField { try report.merge(serializedBytes: varint(UInt64(unknownField << 3)) + [42]) }
            if let rawBasis { try report.merge(serializedBytes: [0x48] + varint(rawBasis)) }  // field 9, varint
            body.operation.reportReserve = report
        }
    }

    /// The author's participant's gallium reserve, in tonnes, amount as given.
    private static func gallium(_ author: FeedAuthor, _ amount: String) -> Mineralsync_V1_ReportReserve {
        var report = Mineralsync_V1_ReportReserve()
        report.participant = author.node.participant.rawValue
        report.mineral = "gallium"
        report.quantity.amount = amount
        report.quantity.unit = .tonne
        return report
    }

    /// An entry whose header is written field by field, with values no honest author writes:
    /// any seq and previous, and a clock whose logical counter may exceed 32 bits (encoded by
    /// hand: the generated type cannot hold it). The operation is a plain reserve report.
    public static func header(by author: FeedAuthor, seq: UInt64, previous: [UInt8], wallMillis: UInt64 = 1_000, logical: UInt64 = 0) throws -> SignedEntry {
        var body = Mineralsync_V1_EntryBody()
        body.format = 1
        body.origin.participant = author.node.participant.rawValue
        body.origin.name = author.node.name
        body.seq = seq
        body.previous = Data(previous)
        body.operation.reportReserve = gallium(author, "1")
        let clock = [0x08] + varint(wallMillis) + [0x10] + varint(logical)
        let bytes: [UInt8] = try body.serializedBytes() + [0x2A, UInt8(clock.count)] + clock  // field 5, length-delimited
        return SignedEntry(body: bytes, signature: try author.key.sign(SignedEntry.signedMessage(body: bytes)))
    }

    private static func sign(by author: FeedAuthor, now: UInt64, _ fill: (inout Mineralsync_V1_EntryBody) throws -> Void) throws -> (Entry, FeedAuthor) {
        var clock = author.clock
        let timestamp = clock.tick(now: now)
        var body = Mineralsync_V1_EntryBody()
        body.format = 1
        body.origin.participant = author.node.participant.rawValue
        body.origin.name = author.node.name
        body.seq = author.nextSeq
        body.previous = Data((author.head?.link ?? .zero).bytes)
        body.clock.wallMillis = timestamp.wallMillis
        body.clock.logical = timestamp.logical
        try fill(&body)
        let bytes: [UInt8] = try body.serializedBytes()
        let signed = SignedEntry(body: bytes, signature: try author.key.sign(SignedEntry.signedMessage(body: bytes)))
        let entry = try EntryCodec.decode(signed)
        var next = author
        next.catchUp(to: entry)
        return (entry, next)
    }

    private static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }
}
