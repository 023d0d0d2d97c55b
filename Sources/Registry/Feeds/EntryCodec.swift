import Foundation
import MineralWire
import OpenSSLCrypto
import SwiftProtobuf

/// Why bytes are not a structurally valid entry. Such an entry is refused whole: it is not
/// stored, not relayed, and says nothing about its feed.
public enum EntryDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    case notProtobuf(String)
    case unsupportedFormat(UInt32)
    case invalidOrigin(String)
    case invalidSequence
    case invalidPrevious(seq: UInt64)
    case missingClock
    case missingOperation
    case bodyTooLarge(Int)
    case invalidSigner(length: Int)

    public var description: String {
        switch self {
        case .notProtobuf(let reason): "entry body is not a valid EntryBody message: \(reason)"
        case .unsupportedFormat(let format): "entry format \(format) is not supported (this node reads format 1)"
        case .invalidOrigin(let reason): "entry origin is invalid: \(reason)"
        case .invalidSequence: "entry sequence number must be at least 1"
        case .invalidPrevious(let seq): "entry \(seq) has a malformed previous-entry hash (need 32 bytes; zeros exactly at seq 1)"
        case .missingClock: "entry has no clock"
        case .missingOperation: "entry has no operation"
        case .bodyTooLarge(let size): "entry body of \(size) bytes exceeds the \(EntryCodec.maximumBodySize)-byte limit"
        case .invalidSigner(let length): "entry names its signing certificate in \(length) bytes (need a 32-byte SHA-256)"
        }
    }
}

/// Encoding of entry bodies (Protocol Buffers, `Proto/mineralsync/v1/entry.proto`) and decoding
/// of received ones into `Entry` values.
public enum EntryCodec {
    public static let format: UInt32 = 1
    public static let maximumBodySize = 64 * 1024
    public static let maximumSiteLength = 128
    public static let maximumRegionLength = 128
    public static let maximumNoteLength = 2048
    public static let maximumSummaryLength = 4096

    // MARK: encoding (authors only)

    /// - Parameter signer: the certificate whose key will sign the body (nil only to write an
    ///   entry as nodes did before key history, for tests of that format).
    public static func encodeBody(
        origin: NodeID, seq: UInt64, previous: SHA256Digest, clock: HybridTimestamp, operation: EntryOperation,
        signer: SignerID?
    ) throws -> [UInt8] {
        var body = Mineralsync_V1_EntryBody()
        body.format = format
        body.origin = origin.wire
        body.seq = seq
        body.previous = Data(previous.bytes)
        body.clock.wallMillis = clock.wallMillis
        body.clock.logical = clock.logical
        body.operation = try wire(operation)
        if let signer { body.signer = Data(signer.bytes) }
        return try body.serializedBytes()
    }

    static func wire(_ operation: EntryOperation) throws -> Mineralsync_V1_Operation {
        var out = Mineralsync_V1_Operation()
        switch operation {
        case .reportReserve(let report):
            var message = Mineralsync_V1_ReportReserve()
            message.participant = report.participant.rawValue
            message.mineral = report.mineral.rawValue
            message.site = report.site
            if let withheld = report.withheld { message.withheld = withheld } else { message.quantity = wire(report.quantity) }
            message.asOfMillis = report.asOfMillis
            message.note = report.note
            if let id = report.supersedes { message.supersedes = Data(id.bytes) }
            message.form = report.form
            if let basis = report.basis { message.basis = Mineralsync_V1_ReserveBasis(rawValue: basis.rawValue) ?? .unspecified }
            out.kind = .reportReserve(message)
        case .setConsumption(let consumption):
            var message = Mineralsync_V1_SetConsumption()
            message.participant = consumption.participant.rawValue
            message.mineral = consumption.mineral.rawValue
            message.quantity = wire(consumption.quantity)
            if let id = consumption.supersedes { message.supersedes = Data(id.bytes) }
            out.kind = .setConsumption(message)
        case .setTarget(let target):
            var message = Mineralsync_V1_SetTarget()
            message.participant = target.participant.rawValue
            message.mineral = target.mineral.rawValue
            message.quantity = wire(target.quantity)
            if let id = target.supersedes { message.supersedes = Data(id.bytes) }
            out.kind = .setTarget(message)
        case .raiseAlert(let raise):
            var message = Mineralsync_V1_RaiseAlert()
            message.mineral = raise.mineral.rawValue
            message.severity = .init(rawValue: raise.severity.rawValue)!
            message.category = .init(rawValue: raise.category.rawValue)!
            message.region = raise.region
            message.summary = raise.summary
            message.expiresAtMillis = raise.expiresAtMillis ?? 0
            out.kind = .raiseAlert(message)
        case .updateAlert(let update):
            var message = Mineralsync_V1_UpdateAlert()
            message.alertID = Data(update.alertID.bytes)
            if let severity = update.severity { message.severity = .init(rawValue: severity.rawValue)! }
            if let category = update.category { message.category = .init(rawValue: category.rawValue)! }
            if let region = update.region { message.region = region }
            if let summary = update.summary { message.summary = summary }
            if let expiry = update.expiresAtMillis { message.expiresAtMillis = expiry }
            if let id = update.supersedes { message.supersedes = Data(id.bytes) }
            out.kind = .updateAlert(message)
        case .acknowledgeAlert(let ack):
            var message = Mineralsync_V1_AcknowledgeAlert()
            message.alertID = Data(ack.alertID.bytes)
            message.participant = ack.participant.rawValue
            message.note = ack.note
            out.kind = .acknowledgeAlert(message)
        case .resolveAlert(let resolution):
            var message = Mineralsync_V1_ResolveAlert()
            message.alertID = Data(resolution.alertID.bytes)
            message.note = resolution.note
            out.kind = .resolveAlert(message)
        case .cutFeed(let cut):
            var message = Mineralsync_V1_CutFeed()
            message.feed.participant = cut.feed.participant.rawValue
            message.feed.name = cut.feed.name
            message.feed.segment = cut.feed.segment
            message.seq = cut.seq
            if let id = cut.entryID { message.entryID = Data(id.bytes) }
            message.reason = cut.reason
            out.kind = .cutFeed(message)
        case .unknown, .malformed:
            throw EncodingRefusal.notAuthorable(operation.kind)
        }
        return out
    }

    enum EncodingRefusal: Error { case notAuthorable(String) }

    static func wire(_ quantity: Quantity) -> Mineralsync_V1_Quantity {
        var message = Mineralsync_V1_Quantity()
        message.amount = quantity.amount.text
        message.unit = quantity.unit == .tonne ? .tonne : .kilogram
        return message
    }

    // MARK: decoding (every received entry)

    /// Decodes a signed entry's body, computing its id. Checks structure only:
    /// signature, chain and policy are the ledger's and the fold's business.
    public static func decode(_ signed: SignedEntry) throws(EntryDecodingError) -> Entry {
        guard signed.body.count <= maximumBodySize else { throw .bodyTooLarge(signed.body.count) }
        // The header is read and consumed inside the closure: it is never copied.
        let result = signed.body.withUnsafeBytes { buffer -> Result<Entry, EntryDecodingError> in
            let header: EntryBodyReader.Header
            do throws(ProtobufReader.Failure) {
                header = try EntryBodyReader.read(buffer)
            } catch {
                return .failure(.notProtobuf("\(error)"))
            }
            do throws(EntryDecodingError) {
                return .success(try entry(signed, header))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The structural checks both decoders share, on what they read from the body.
    /// Takes the header's values out (no copies of the operation's strings) into the entry.
    private static func entry(_ signed: SignedEntry, _ header: consuming EntryBodyReader.Header) throws(EntryDecodingError) -> Entry {
        guard header.format == format else { throw .unsupportedFormat(header.format) }
        guard let (participant, name, segment) = header.origin.take() else { throw .invalidOrigin("missing") }
        let origin: NodeID
        do {
            origin = try NodeID(participant: participant, name: name, segment: segment)
        } catch {
            throw .invalidOrigin(error.description)
        }
        guard header.seq >= 1 else { throw .invalidSequence }
        guard let previous = header.previous, (header.seq == 1) == (previous == .zero) else {
            throw .invalidPrevious(seq: header.seq)
        }
        guard let clock = header.clock else { throw .missingClock }
        guard let operation = header.operation.take() else { throw .missingOperation }
        let signer: SignerID?
        switch header.signer {
        case .absent: signer = nil
        case .digest(let digest): signer = digest
        case .malformed(let length): throw .invalidSigner(length: length)
        }
        return Entry(
            signed: signed, id: signed.id, origin: origin, seq: header.seq,
            previous: previous, clock: clock, operation: operation, signer: signer)
    }

    /// The same decoding through the generated SwiftProtobuf code: slower, and lenient where
    /// `decode` is strict (it merges a repeated field). Kept as the reference the fast reader
    /// is cross-checked against.
    public static func decodeWithGeneratedCode(_ signed: SignedEntry) throws(EntryDecodingError) -> Entry {
        guard signed.body.count <= maximumBodySize else { throw .bodyTooLarge(signed.body.count) }
        let body: Mineralsync_V1_EntryBody
        do {
            body = try Mineralsync_V1_EntryBody(serializedBytes: signed.body)
        } catch {
            throw .notProtobuf(String(describing: error))
        }
        var header = EntryBodyReader.Header()
        header.format = body.format
        header.origin = body.hasOrigin ? (body.origin.participant, body.origin.name, body.origin.segment) : nil
        header.seq = body.seq
        header.previous = SHA256Digest(bytes: body.previous)
        header.clock = body.hasClock ? HybridTimestamp(wallMillis: body.clock.wallMillis, logical: body.clock.logical) : nil
        header.operation = body.hasOperation ? operation(body.operation) : nil
        header.signer = body.signer.isEmpty ? .absent : SHA256Digest(bytes: body.signer).map { .digest($0) } ?? .malformed(body.signer.count)
        return try entry(signed, header)
    }

    static func operation(_ message: Mineralsync_V1_Operation) -> EntryOperation {
        do {
            switch message.kind {
            case .reportReserve(let m):
                let withheld = try withheldReason(m.withheld, quantityPresent: m.hasQuantity)
                return .reportReserve(
                    ReserveReport(
                        participant: try ParticipantID(m.participant),
                        mineral: try MineralID(m.mineral),
                        site: try bounded(m.site, field: "site", limit: maximumSiteLength),
                        quantity: withheld == nil ? try quantity(m.quantity, present: m.hasQuantity) : ReserveReport.withheldQuantity,
                        asOfMillis: m.asOfMillis,
                        note: try bounded(m.note, field: "note", limit: maximumNoteLength),
                        supersedes: try supersedes(Array(m.supersedes)),
                        form: try form(m.form), basis: ReserveBasis(rawValue: m.basis.rawValue), withheld: withheld))
            case .setConsumption(let m):
                return .setConsumption(
                    ReserveConsumption(
                        participant: try ParticipantID(m.participant),
                        mineral: try MineralID(m.mineral),
                        quantity: try quantity(m.quantity, present: m.hasQuantity),
                        supersedes: try supersedes(Array(m.supersedes))))
            case .setTarget(let m):
                return .setTarget(
                    ReserveTarget(
                        participant: try ParticipantID(m.participant),
                        mineral: try MineralID(m.mineral),
                        quantity: try quantity(m.quantity, present: m.hasQuantity),
                        supersedes: try supersedes(Array(m.supersedes))))
            case .raiseAlert(let m):
                guard !m.summary.isEmpty else { throw RegistryValueError.emptyField("summary") }
                return .raiseAlert(
                    AlertRaise(
                        mineral: try MineralID(m.mineral),
                        severity: try severity(m.severity),
                        category: try category(m.category),
                        region: try bounded(m.region, field: "region", limit: maximumRegionLength),
                        summary: try bounded(m.summary, field: "summary", limit: maximumSummaryLength),
                        expiresAtMillis: m.expiresAtMillis == 0 ? nil : m.expiresAtMillis))
            case .updateAlert(let m):
                if m.hasSummary, m.summary.isEmpty { throw RegistryValueError.emptyField("summary") }
                return .updateAlert(
                    AlertUpdate(
                        alertID: try alertID(m.alertID),
                        severity: m.hasSeverity ? try severity(m.severity) : nil,
                        category: m.hasCategory ? try category(m.category) : nil,
                        region: m.hasRegion ? try bounded(m.region, field: "region", limit: maximumRegionLength) : nil,
                        summary: m.hasSummary ? try bounded(m.summary, field: "summary", limit: maximumSummaryLength) : nil,
                        expiresAtMillis: m.hasExpiresAtMillis ? m.expiresAtMillis : nil,
                        supersedes: try supersedes(Array(m.supersedes))))
            case .acknowledgeAlert(let m):
                return .acknowledgeAlert(
                    AlertAcknowledgement(
                        alertID: try alertID(m.alertID),
                        participant: try ParticipantID(m.participant),
                        note: try bounded(m.note, field: "note", limit: maximumNoteLength)))
            case .resolveAlert(let m):
                return .resolveAlert(
                    AlertResolution(
                        alertID: try alertID(m.alertID),
                        note: try bounded(m.note, field: "note", limit: maximumNoteLength)))
            case .cutFeed(let m):
                return .cutFeed(
                    try feedCut(
                        feed: m.hasFeed ? (m.feed.participant, m.feed.name, m.feed.segment) : nil, seq: m.seq,
                        entryID: Array(m.entryID), reason: m.reason))
            case nil:
                let numbers = ProtobufFieldScanner.fieldNumbers(Array(message.unknownFields.data))
                return numbers.isEmpty ? .malformed(reason: "the operation is empty") : .unknown(fieldNumbers: numbers)
            }
        } catch let error as RegistryValueError {
            return .malformed(reason: error.description)
        } catch {
            return .malformed(reason: String(describing: error))
        }
    }

    /// A `supersedes` field, read alike by both decoders: empty, or an entry id.
    static func supersedes(_ bytes: [UInt8]) throws(RegistryValueError) -> EntryID? {
        guard !bytes.isEmpty else { return nil }
        guard let id = SHA256Digest(bytes: bytes) else { throw .invalidReference("supersedes", bytes.count) }
        return id
    }

    /// A cut's fields, checked alike by both decoders.
    static func feedCut(
        feed: (participant: String, name: String, segment: UInt32)?, seq: UInt64, entryID: [UInt8],
        reason: String
    ) throws(RegistryValueError) -> FeedCut {
        guard let feed else { throw .emptyField("feed") }
        let node = try NodeID(participant: feed.participant, name: feed.name, segment: feed.segment)
        let id: EntryID?
        if seq == 0 {
            guard entryID.isEmpty else { throw .invalidCut("a cut at seq 0 names no entry") }
            id = nil
        } else {
            guard let digest = SHA256Digest(bytes: entryID) else { throw .emptyField("entry id (32 bytes)") }
            id = digest
        }
        return FeedCut(feed: node, seq: seq, entryID: id, reason: try bounded(reason, field: "reason", limit: maximumNoteLength))
    }

    private static func bounded(_ text: String, field: String, limit: Int) throws(RegistryValueError) -> String {
        guard text.utf8.count <= limit else { throw .textTooLong(field: field, limit: limit) }
        return text
    }

    /// A report's form: empty, or 1–32 of a–z, 0–9 and '-'.
    public static func form(_ text: String) throws(RegistryValueError) -> String {
        guard text.isEmpty || (text.utf8.count <= 32 && text.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }) else {
            throw .invalidForm(text)
        }
        return text
    }

    /// A report's reason for withholding its figure (nil: shared), which excludes a quantity.
    static func withheldReason(_ text: String, quantityPresent: Bool) throws(RegistryValueError) -> String? {
        guard !text.isEmpty else { return nil }
        guard !quantityPresent else { throw .withheldQuantity }
        return try bounded(text, field: "withheld", limit: maximumNoteLength)
    }

    private static func quantity(_ message: Mineralsync_V1_Quantity, present: Bool) throws(RegistryValueError) -> Quantity {
        guard present else { throw .emptyField("quantity") }
        let unit: MassUnit
        switch message.unit {
        case .tonne: unit = .tonne
        case .kilogram: unit = .kilogram
        default: throw .invalidUnit("\(message.unit.rawValue)")
        }
        return Quantity(amount: try Amount(canonical: message.amount), unit: unit)
    }

    private static func severity(_ value: Mineralsync_V1_Severity) throws(RegistryValueError) -> Severity {
        guard let severity = Severity(rawValue: value.rawValue) else { throw .invalidSeverity("\(value.rawValue)") }
        return severity
    }

    private static func category(_ value: Mineralsync_V1_AlertCategory) throws(RegistryValueError) -> AlertCategory {
        guard let category = AlertCategory(rawValue: value.rawValue) else { throw .invalidCategory("\(value.rawValue)") }
        return category
    }

    private static func alertID(_ data: Data) throws(RegistryValueError) -> EntryID {
        guard let id = SHA256Digest(bytes: data) else { throw .emptyField("alert id (32 bytes)") }
        return id
    }
}
