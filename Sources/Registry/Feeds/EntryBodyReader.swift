import OpenSSLCrypto

/// Decodes an `EntryBody` (Proto/mineralsync/v1/entry.proto) straight into domain values.
///
/// Same meaning as the generated decoder on every canonically encoded body (a property test
/// cross-checks the two on random and mutated bodies), but stricter: a singular field that
/// appears twice is refused instead of merged, so a signed body has exactly one reading in
/// every implementation. Fields this version does not know are skipped; an operation kind it
/// does not know becomes `.unknown`.
struct EntryBodyReader {
    typealias Failure = ProtobufReader.Failure

    struct Header: ~Copyable {
        var format: UInt32 = 0
        var origin: (participant: String, name: String, segment: UInt32)?
        var seq: UInt64 = 0
        /// nil when absent or not 32 bytes long.
        var previous: SHA256Digest?
        var clock: HybridTimestamp?
        var operation: EntryOperation?
        /// Field 7 as read: nil when absent; the bytes when present (32 for a valid body).
        var signer: SignerField = .absent
    }

    enum SignerField {
        case absent
        case digest(SHA256Digest)
        case malformed(Int)
        init(_ range: Range<Int>, in reader: ProtobufReader) {
            if range.isEmpty { self = .absent } else if let digest = reader.digest(range) { self = .digest(digest) } else { self = .malformed(range.count) }
        }
    }

    static func read(_ body: UnsafeRawBufferPointer) throws(Failure) -> Header {
        var reader = ProtobufReader(body)
        var seen = ProtobufReader.SeenFields()
        var header = Header()
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            switch field {
            case 1...7: try seen.insert(field)
            default:
                try reader.skip(wireType)
                continue
            }
            switch (field, wireType) {
            case (1, .varint):
                let value = try reader.varint()
                guard value <= UInt64(UInt32.max) else { throw .valueOutOfRange(field: 1) }
                header.format = UInt32(value)
            case (2, .lengthDelimited):
                header.origin = try nodeRef(reader.nested(reader.lengthDelimited()))
            case (3, .varint):
                header.seq = try reader.varint()
            case (4, .lengthDelimited):
                header.previous = reader.digest(try reader.lengthDelimited())
            case (5, .lengthDelimited):
                header.clock = try timestamp(reader.nested(reader.lengthDelimited()))
            case (6, .lengthDelimited):
                header.operation = try operation(reader.nested(reader.lengthDelimited()))
            case (7, .lengthDelimited):
                header.signer = SignerField(try reader.lengthDelimited(), in: reader)
            default:
                throw .wrongWireType(field: field)
            }
        }
        return header
    }

    private static func nodeRef(_ reader: ProtobufReader) throws(Failure) -> (participant: String, name: String, segment: UInt32) {
        var reader = reader
        var seen = ProtobufReader.SeenFields()
        var result = (participant: "", name: "", segment: UInt32(0))
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            guard (1...3).contains(field) else {
                try reader.skip(wireType)
                continue
            }
            try seen.insert(field)
            if field == 3 {
                guard wireType == .varint else { throw .wrongWireType(field: field) }
                let value = try reader.varint()
                guard value <= UInt64(UInt32.max) else { throw .valueOutOfRange(field: 3) }
                result.segment = UInt32(value)
                continue
            }
            guard wireType == .lengthDelimited else { throw .wrongWireType(field: field) }
            let text = try reader.string(reader.lengthDelimited(), field: field)
            if field == 1 { result.participant = text } else { result.name = text }
        }
        return result
    }

    private static func timestamp(_ reader: ProtobufReader) throws(Failure) -> HybridTimestamp {
        var reader = reader
        var seen = ProtobufReader.SeenFields()
        var wall: UInt64 = 0
        var logical: UInt64 = 0
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            guard field == 1 || field == 2 else {
                try reader.skip(wireType)
                continue
            }
            try seen.insert(field)
            guard wireType == .varint else { throw .wrongWireType(field: field) }
            if field == 1 { wall = try reader.varint() } else { logical = try reader.varint() }
        }
        guard logical <= UInt64(UInt32.max) else { throw .valueOutOfRange(field: 2) }
        return HybridTimestamp(wallMillis: wall, logical: UInt32(logical))
    }

    // MARK: operations

    /// The fields of one operation message, by number: strings/bytes as ranges, varints as values.
    /// Field numbers 1–7 of a message, as a bit set (no allocation on the hot path).
    private struct FieldSet {
        let bits: UInt8
        init(_ fields: Int...) { bits = fields.reduce(0) { $0 | UInt8(1) << UInt8($1) } }
        func contains(_ field: Int) -> Bool { field < 8 && bits & (UInt8(1) << UInt8(field)) != 0 }
    }

    /// One operation message, parsed completely before any of it is interpreted, so that a
    /// structural fault anywhere (bad UTF-8, truncation) refuses the body exactly as the
    /// generated decoder does, whatever the order of the domain checks that follow.
    private struct Fields {
        private var strings = InlineArray<8, String?>(repeating: nil)
        private var ranges = InlineArray<8, Range<Int>?>(repeating: nil)
        private(set) var values = InlineArray<8, UInt64?>(repeating: nil)
        private let reader: ProtobufReader

        init(_ reader: ProtobufReader, strings stringFields: FieldSet, bytes: FieldSet = FieldSet(), varints: FieldSet = FieldSet()) throws(Failure) {
            self.reader = reader
            var cursor = reader
            var seen = ProtobufReader.SeenFields()
            while !cursor.isAtEnd {
                let (field, wireType) = try cursor.tag()
                if stringFields.contains(field) || bytes.contains(field) {
                    try seen.insert(field)
                    guard wireType == .lengthDelimited else { throw .wrongWireType(field: field) }
                    let range = try cursor.lengthDelimited()
                    if stringFields.contains(field) { strings[field] = try reader.string(range, field: field) } else { ranges[field] = range }
                } else if varints.contains(field) {
                    try seen.insert(field)
                    guard wireType == .varint else { throw .wrongWireType(field: field) }
                    values[field] = try cursor.varint()
                } else {
                    try cursor.skip(wireType)
                }
            }
        }

        func string(_ field: Int) -> String { strings[field] ?? "" }
        func optionalString(_ field: Int) -> String? { strings[field] }
        func bytes(_ field: Int) -> [UInt8] { ranges[field].map(reader.data) ?? [] }
        func value(_ field: Int) -> UInt64 { values[field] ?? 0 }
        /// A proto3 enum value (int32, negative values sign-extended to 64 bits).
        func enumValue(_ field: Int) -> Int { Int(Int32(truncatingIfNeeded: values[field] ?? 0)) }

        /// A nested message; nil when absent.
        func nested(_ field: Int) -> ProtobufReader? { ranges[field].map(reader.nested) }

        /// A nested `Quantity` message, parsed structurally; nil when absent.
        func quantity(_ field: Int) throws(Failure) -> (amount: String, unit: Int)? {
            guard let range = ranges[field] else { return nil }
            return try EntryBodyReader.quantity(reader.nested(range))
        }
    }

    /// A `Quantity` message: amount text and unit, parsed structurally.
    private static func quantity(_ message: ProtobufReader) throws(Failure) -> (amount: String, unit: Int) {
        var cursor = message
        var seen = ProtobufReader.SeenFields()
        var amount = ""
        var unit: UInt64 = 0
        while !cursor.isAtEnd {
            let (field, wireType) = try cursor.tag()
            switch field {
            case 1:
                try seen.insert(1)
                guard wireType == .lengthDelimited else { throw .wrongWireType(field: 1) }
                amount = try message.string(cursor.lengthDelimited(), field: 1)
            case 2:
                try seen.insert(2)
                guard wireType == .varint else { throw .wrongWireType(field: 2) }
                unit = try cursor.varint()
            default:
                try cursor.skip(wireType)
            }
        }
        return (amount, Int(Int32(truncatingIfNeeded: unit)))
    }

    /// A `ReportReserve`, the bulk of every feed, read field by field into locals: the same
    /// structure first, meaning second, as `Fields` does for the other operations, without
    /// building and copying a `Fields` per message.
    private static func reserveReport(_ message: ProtobufReader) throws(Failure) -> EntryOperation {
        var cursor = message
        var seen = ProtobufReader.SeenFields()
        var participant = ""
        var mineral = ""
        var site = ""
        var note = ""
        var form = ""
        var withheld = ""
        var quantityRange: Range<Int>?
        var supersedesRange: Range<Int>?
        var asOf: UInt64 = 0
        var basis: UInt64 = 0
        while !cursor.isAtEnd {
            let (field, wireType) = try cursor.tag()
            switch field {
            case 1, 2, 3, 4, 6, 7, 8, 10:
                try seen.insert(field)
                guard wireType == .lengthDelimited else { throw .wrongWireType(field: field) }
                let range = try cursor.lengthDelimited()
                switch field {
                case 1: participant = try message.string(range, field: 1)
                case 2: mineral = try message.string(range, field: 2)
                case 3: site = try message.string(range, field: 3)
                case 4: quantityRange = range
                case 6: note = try message.string(range, field: 6)
                case 8: form = try message.string(range, field: 8)
                case 10: withheld = try message.string(range, field: 10)
                default: supersedesRange = range
                }
            case 5, 9:
                try seen.insert(field)
                guard wireType == .varint else { throw .wrongWireType(field: field) }
                if field == 5 { asOf = try cursor.varint() } else { basis = try cursor.varint() }
            default:
                try cursor.skip(wireType)
            }
        }
        let rawQuantity = try quantityRange.map { range throws(Failure) in try quantity(message.nested(range)) }
        do throws(RegistryValueError) {
            let withheld = try EntryCodec.withheldReason(withheld, quantityPresent: quantityRange != nil)
            return .reportReserve(
                ReserveReport(
                    participant: try ParticipantID(participant),
                    mineral: try MineralID(mineral),
                    site: try bounded(site, "site", EntryCodec.maximumSiteLength),
                    quantity: withheld == nil ? try quantity(rawQuantity) : ReserveReport.withheldQuantity,
                    asOfMillis: asOf,
                    note: try bounded(note, "note", EntryCodec.maximumNoteLength),
                    supersedes: try EntryCodec.supersedes(supersedesRange.map(message.data) ?? []),
                    // A basis this version does not know (a later one's) reads as unspecified.
                    form: try EntryCodec.form(form), basis: ReserveBasis(rawValue: Int(Int32(truncatingIfNeeded: basis))), withheld: withheld))
        } catch {
            return .malformed(reason: error.description)
        }
    }

    private static func operation(_ reader: ProtobufReader) throws(Failure) -> EntryOperation {
        var cursor = reader
        var kind: (field: Int, range: Range<Int>)?
        var unknown: [Int] = []
        while !cursor.isAtEnd {
            let (field, wireType) = try cursor.tag()
            switch field {
            case 1...8:
                guard kind == nil else { throw .repeatedField(field: field) }
                guard wireType == .lengthDelimited else { throw .wrongWireType(field: field) }
                kind = (field, try cursor.lengthDelimited())
            default:
                // At most a few are named (a 64 KiB body holds 30,000 fields: tracking them all
                // would cost a quadratic search).
                if unknown.count < EntryOperation.maximumUnknownFieldNumbers, !unknown.contains(field) { unknown.append(field) }
                try cursor.skip(wireType)
            }
        }
        guard let kind else {
            return unknown.isEmpty ? .malformed(reason: "the operation is empty") : .unknown(fieldNumbers: unknown)
        }
        let message = reader.nested(kind.range)
        if kind.field == 1 { return try reserveReport(message) }
        // Structure first (may refuse the body), then meaning (may only make the operation malformed).
        let f: Fields
        var rawQuantity: (amount: String, unit: Int)?
        switch kind.field {
        case 2, 8:  // a target and a consumption are alike: participant, mineral, quantity, supersedes
            f = try Fields(message, strings: FieldSet(1, 2), bytes: FieldSet(3, 4))
            rawQuantity = try f.quantity(3)
        case 3: f = try Fields(message, strings: FieldSet(1, 4, 5), varints: FieldSet(2, 3, 6))
        case 4: f = try Fields(message, strings: FieldSet(4, 5), bytes: FieldSet(1, 7), varints: FieldSet(2, 3, 6))
        case 5: f = try Fields(message, strings: FieldSet(2, 3), bytes: FieldSet(1))
        case 7:
            f = try Fields(message, strings: FieldSet(4), bytes: FieldSet(1, 3), varints: FieldSet(2))
            let feed = try f.nested(1).map { reader throws(Failure) in try nodeRef(reader) }
            do throws(RegistryValueError) {
                return .cutFeed(try EntryCodec.feedCut(feed: feed, seq: f.value(2), entryID: f.bytes(3), reason: f.string(4)))
            } catch {
                return .malformed(reason: error.description)
            }
        default: f = try Fields(message, strings: FieldSet(2), bytes: FieldSet(1))
        }
        do throws(RegistryValueError) {
            switch kind.field {
            case 2:
                return .setTarget(
                    ReserveTarget(
                        participant: try ParticipantID(f.string(1)),
                        mineral: try MineralID(f.string(2)),
                        quantity: try quantity(rawQuantity),
                        supersedes: try EntryCodec.supersedes(f.bytes(4))))
            case 8:
                return .setConsumption(
                    ReserveConsumption(
                        participant: try ParticipantID(f.string(1)),
                        mineral: try MineralID(f.string(2)),
                        quantity: try quantity(rawQuantity),
                        supersedes: try EntryCodec.supersedes(f.bytes(4))))
            case 3:
                let summary = f.string(5)
                guard !summary.isEmpty else { throw RegistryValueError.emptyField("summary") }
                return .raiseAlert(
                    AlertRaise(
                        mineral: try MineralID(f.string(1)),
                        severity: try severity(f.enumValue(2)),
                        category: try category(f.enumValue(3)),
                        region: try bounded(f.string(4), "region", EntryCodec.maximumRegionLength),
                        summary: try bounded(summary, "summary", EntryCodec.maximumSummaryLength),
                        expiresAtMillis: f.value(6) == 0 ? nil : f.value(6)))
            case 4:
                let summary = f.optionalString(5)
                if summary?.isEmpty == true { throw RegistryValueError.emptyField("summary") }
                return .updateAlert(
                    AlertUpdate(
                        alertID: try alertID(f.bytes(1)),
                        severity: f.values[2] == nil ? nil : try severity(f.enumValue(2)),
                        category: f.values[3] == nil ? nil : try category(f.enumValue(3)),
                        region: try f.optionalString(4).map { text throws(RegistryValueError) in try bounded(text, "region", EntryCodec.maximumRegionLength) },
                        summary: try summary.map { text throws(RegistryValueError) in try bounded(text, "summary", EntryCodec.maximumSummaryLength) },
                        expiresAtMillis: f.values[6],
                        supersedes: try EntryCodec.supersedes(f.bytes(7))))
            case 5:
                return .acknowledgeAlert(
                    AlertAcknowledgement(
                        alertID: try alertID(f.bytes(1)),
                        participant: try ParticipantID(f.string(2)),
                        note: try bounded(f.string(3), "note", EntryCodec.maximumNoteLength)))
            default:
                return .resolveAlert(
                    AlertResolution(
                        alertID: try alertID(f.bytes(1)),
                        note: try bounded(f.string(2), "note", EntryCodec.maximumNoteLength)))
            }
        } catch {
            return .malformed(reason: error.description)
        }
    }

    private static func bounded(_ text: String, _ field: String, _ limit: Int) throws(RegistryValueError) -> String {
        guard text.utf8.count <= limit else { throw .textTooLong(field: field, limit: limit) }
        return text
    }

    private static func quantity(_ raw: (amount: String, unit: Int)?) throws(RegistryValueError) -> Quantity {
        guard let raw else { throw .emptyField("quantity") }
        let unit: MassUnit
        switch raw.unit {
        case 1: unit = .tonne
        case 2: unit = .kilogram
        default: throw .invalidUnit("\(raw.unit)")
        }
        return Quantity(amount: try Amount(canonical: raw.amount), unit: unit)
    }

    private static func severity(_ value: Int) throws(RegistryValueError) -> Severity {
        guard let severity = Severity(rawValue: value) else { throw .invalidSeverity("\(value)") }
        return severity
    }

    private static func category(_ value: Int) throws(RegistryValueError) -> AlertCategory {
        guard let category = AlertCategory(rawValue: value) else { throw .invalidCategory("\(value)") }
        return category
    }

    private static func alertID(_ bytes: [UInt8]) throws(RegistryValueError) -> EntryID {
        guard let id = SHA256Digest(bytes: bytes) else { throw .emptyField("alert id (32 bytes)") }
        return id
    }
}
