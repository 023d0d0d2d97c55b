import Registry

/// Walks a `SyncMessage`'s wire bytes (Proto/mineralsync/v1/sync.proto) without decoding them,
/// checking every count and size against `SyncLimits`; entry batches, the bulk of the traffic,
/// are read here directly, each entry's body and signature copied once and only once checked.
enum SyncWireScan {
    // Field numbers of sync.proto.
    private enum Kind { static let hello = 1, entries = 2, certificates = 3, vector = 4, goodbye = 7, revocations = 8 }

    enum Outcome {
        /// An entry batch, read in full.
        case entries([SignedEntry])
        /// Any other kind: within the limits, to be decoded by the generated code.
        case withinLimits
    }

    static func scan(_ bytes: UnsafeRawBufferPointer, limits: SyncLimits) throws(SyncProtocolError) -> Outcome {
        do {
            let message = ProtobufReader(bytes)
            var kinds = 0
            var batch: Range<Int>?
            try each(of: 1...11, in: message) { field, range in
                kinds += 1
                // A canonical sender writes one kind once; two would merge or replace each other.
                guard kinds == 1 else { throw SyncProtocolError.undecodableMessage("more than one message kind in one frame") }
                let inner = message.nested(range)
                switch field {
                case Kind.hello: try hello(inner, limits)
                case Kind.entries: batch = range
                case Kind.certificates: try certificates(inner, limits)
                case Kind.vector: try each(of: 1...1, in: inner) { _, vector in try self.vector(inner.nested(vector), limits) }
                case Kind.goodbye: try goodbye(inner, limits)
                case Kind.revocations: try revocations(inner, limits)
                default: break
                }
            }
            guard let batch else { return .withinLimits }
            return .entries(try entries(message.nested(batch), limits))
        } catch let failure as ProtobufReader.Failure {
            throw .undecodableMessage(failure.description)
        } catch let error as SyncProtocolError {
            throw error
        } catch {
            throw .undecodableMessage("\(error)")
        }
    }

    /// Calls `body` with each length-delimited field of `message` numbered in `fields`, in
    /// order, and its byte range; every other field is skipped.
    private static func each(
        of fields: ClosedRange<Int>, in message: ProtobufReader,
        _ body: (_ field: Int, _ range: Range<Int>) throws -> Void
    ) throws {
        var reader = message
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            guard wireType == .lengthDelimited, fields.contains(field) else {
                try reader.skip(wireType)
                continue
            }
            try body(field, try reader.lengthDelimited())
        }
    }

    /// `each`, for fields that may occur at most `limit` times: `body` gets each one's number
    /// (from 1), and the one beyond the limit is refused with `refusal`.
    private static func each(
        of fields: ClosedRange<Int>, in message: ProtobufReader, atMost limit: Int, refusal: @autoclosure () -> String,
        _ body: (_ number: Int, _ range: Range<Int>) throws -> Void
    ) throws {
        var count = 0
        try each(of: fields, in: message) { _, range in
            count += 1
            guard count <= limit else { throw SyncProtocolError.limitExceeded(refusal()) }
            try body(count, range)
        }
    }

    private static func entries(_ batch: ProtobufReader, _ limits: SyncLimits) throws -> [SignedEntry] {
        var entries: [SignedEntry] = []
        try each(of: 1...1, in: batch) { _, range in
            guard entries.count < limits.entriesPerMessage else {
                throw SyncProtocolError.limitExceeded("more than \(limits.entriesPerMessage) entries in one message")
            }
            var body: Range<Int>?
            var signature: Range<Int>?
            try each(of: 1...2, in: batch.nested(range)) { field, value in
                if field == 1 {
                    guard value.count <= limits.bodySize else {
                        throw SyncProtocolError.limitExceeded(
                            "entry \(entries.count + 1) of the batch has a \(value.count)-byte body; the limit is \(limits.bodySize)")
                    }
                    body = value
                } else {
                    guard value.count <= limits.signatureSize else {
                        throw SyncProtocolError.limitExceeded(
                            "entry \(entries.count + 1) of the batch has a \(value.count)-byte signature; the limit is \(limits.signatureSize)")
                    }
                    signature = value
                }
            }
            entries.append(SignedEntry(body: body.map(batch.data) ?? [], signature: signature.map(batch.data) ?? []))
        }
        return entries
    }

    private static func hello(_ hello: ProtobufReader, _ limits: SyncLimits) throws {
        var headIDs = 0
        try each(of: 3...4, in: hello) { field, range in
            if field == 3 {
                try vector(hello.nested(range), limits)
            } else {
                headIDs += 1
                guard headIDs <= limits.feedsPerVector else {
                    throw SyncProtocolError.limitExceeded("more than \(limits.feedsPerVector) head ids in a hello")
                }
            }
        }
    }

    private static func vector(_ vector: ProtobufReader, _ limits: SyncLimits) throws {
        var reader = vector
        var heads = 0
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            try reader.skip(wireType)
            guard field == 1 else { continue }
            heads += 1
            guard heads <= limits.feedsPerVector else {
                throw SyncProtocolError.limitExceeded("more than \(limits.feedsPerVector) feeds in a version vector")
            }
        }
    }

    private static func certificates(_ message: ProtobufReader, _ limits: SyncLimits) throws {
        try each(
            of: 1...1, in: message, atMost: limits.certificatesPerMessage,
            refusal: "more than \(limits.certificatesPerMessage) origin certificates in one message"
        ) { number, range in
            try each(
                of: 2...2, in: message.nested(range), atMost: limits.certificatesPerChain,
                refusal: "origin certificate \(number) has a chain of more than \(limits.certificatesPerChain) certificates"
            ) { _, certificate in
                guard certificate.count <= limits.certificateSize else {
                    throw SyncProtocolError.limitExceeded(
                        "origin certificate \(number) holds a \(certificate.count)-byte certificate; the limit is \(limits.certificateSize)")
                }
            }
        }
    }

    private static func revocations(_ message: ProtobufReader, _ limits: SyncLimits) throws {
        try each(
            of: 1...1, in: message, atMost: limits.revocationListsPerMessage,
            refusal: "more than \(limits.revocationListsPerMessage) CRLs in one message"
        ) { number, crl in
            guard crl.count <= limits.revocationListSize else {
                throw SyncProtocolError.limitExceeded("CRL \(number) is \(crl.count) bytes; the limit is \(limits.revocationListSize)")
            }
        }
    }

    private static func goodbye(_ message: ProtobufReader, _ limits: SyncLimits) throws {
        try each(of: 2...2, in: message) { _, detail in
            guard detail.count <= limits.detailLength else {
                throw SyncProtocolError.limitExceeded("a goodbye detail of \(detail.count) bytes; the limit is \(limits.detailLength)")
            }
        }
    }
}
