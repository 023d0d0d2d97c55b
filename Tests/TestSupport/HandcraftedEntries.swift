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
        let operationBytes = varint(tag) + [3, 0x0A, 0x01, 0x41]  // a 3-byte nested message
        return try sign(by: author, now: now) { body in
            body.operation = try Mineralsync_V1_Operation(serializedBytes: operationBytes)
        }
    }

    /// An entry whose reserve amount is not in canonical form ("-5").
    public static func negativeReserve(by author: FeedAuthor, now: UInt64) throws -> (Entry, FeedAuthor) {
        try sign(by: author, now: now) { body in
            var report = Mineralsync_V1_ReportReserve()
            report.participant = author.node.participant.rawValue
            report.mineral = "gallium"
            report.quantity.amount = "-5"
            report.quantity.unit = .tonne
            body.operation.reportReserve = report
        }
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
