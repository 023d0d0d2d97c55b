import Foundation
import OpenSSLCrypto
import Registry
import TestSupport
import Testing

@Suite struct CodecTests {
    let alliance = TestAlliance.standard

    @Test func everyOperationRoundTripsThroughTheWireFormat() throws {
        var author = alliance.author("JP/jp-1")
        let alertID = SHA256.hash([1, 2, 3])
        let operations: [EntryOperation] = [
            Ops.report("JP", "tungsten", "12.5", unit: .kilogram, site: "Kobe depot"),
            Ops.target("JP", "tungsten", "40"),
            .raiseAlert(
                AlertRaise(
                    mineral: try MineralID("gallium"), severity: .critical, category: .priceSpike, region: "Asia", summary: "spot +40%", expiresAtMillis: 99)),
            .updateAlert(AlertUpdate(alertID: alertID, severity: .low, category: nil, region: "", summary: "easing", expiresAtMillis: 0)),
            Ops.ack(alertID, "JP"),
            Ops.resolve(alertID)
        ]
        for (index, operation) in operations.enumerated() {
            let entry = author.write(operation, at: 10 + UInt64(index))
            let decoded = try EntryCodec.decode(entry.signed)
            #expect(decoded.operation == operation)
            #expect(decoded.seq == UInt64(index + 1))
            #expect(decoded.origin == author.node)
            #expect(decoded.id == SHA256.hash(entry.signed.body))
            #expect(entry.signed.isSigned(by: alliance.nodes[author.node]!.publicKey))
        }
    }

    @Test func firstEntryHasZeroPreviousAndLaterOnesLinkTheirPredecessor() {
        var author = alliance.author("EU/eu-1")
        let first = author.write(Ops.report("EU"), at: 1)
        let second = author.write(Ops.report("EU"), at: 2)
        #expect(first.previous == .zero)
        #expect(second.previous == first.link)
        #expect(first.link != first.id)  // the link covers the signature too
    }

    @Test func unknownOperationKindIsKeptAndRelayedButNotFolded() throws {
        let (entry, _) = try HandcraftedEntries.unknownOperation(by: alliance.author("US/us-1"), now: 5)
        #expect(entry.operation == .unknown(fieldNumbers: [99]))
        var registry = MineralRegistry()
        let result = registry.ingest([entry.signed], keys: alliance.keys)
        #expect(result.accepted.map(\.id) == [entry.id])  // stored and relayed
        #expect(registry.views.unknownOperations[entry.id] == [99])
        #expect(registry.views.reserves.isEmpty && registry.views.alerts.isEmpty)
        #expect(registry.views.violations.isEmpty)
    }

    @Test func structurallyBrokenBodiesAreRefusedWithReasons() {
        #expect(throws: EntryDecodingError.self) { try EntryCodec.decode(SignedEntry(body: [0x08, 0x02], signature: [])) }
        do {
            _ = try EntryCodec.decode(SignedEntry(body: [0x08, 0x02], signature: []))
        } catch {
            #expect(error == .unsupportedFormat(2))
        }
        #expect(throws: EntryDecodingError.bodyTooLarge(70_000)) {
            try EntryCodec.decode(SignedEntry(body: [UInt8](repeating: 0, count: 70_000), signature: []))
        }
    }

    /// The header's structure, as the decoder refuses it: seq 0, a first entry that names a
    /// predecessor, a later one that does not, a previous of the wrong length, a logical clock
    /// past 32 bits (which a lenient reader would truncate into another timestamp).
    @Test func impossibleHeadersAreRefused() throws {
        let author = alliance.author("EU/eu-1")
        let zeros = [UInt8](repeating: 0, count: 32)
        let ones = [UInt8](repeating: 1, count: 32)
        #expect(throws: EntryDecodingError.invalidSequence) { try EntryCodec.decode(HandcraftedEntries.header(by: author, seq: 0, previous: zeros)) }
        #expect(throws: EntryDecodingError.invalidPrevious(seq: 1)) { try EntryCodec.decode(HandcraftedEntries.header(by: author, seq: 1, previous: ones)) }
        #expect(throws: EntryDecodingError.invalidPrevious(seq: 2)) { try EntryCodec.decode(HandcraftedEntries.header(by: author, seq: 2, previous: zeros)) }
        #expect(throws: EntryDecodingError.invalidPrevious(seq: 2)) {
            try EntryCodec.decode(HandcraftedEntries.header(by: author, seq: 2, previous: Array(ones.prefix(31))))
        }
        #expect(throws: Never.self) { try EntryCodec.decode(HandcraftedEntries.header(by: author, seq: 2, previous: ones, logical: UInt64(UInt32.max))) }
        let overflowing = try HandcraftedEntries.header(by: author, seq: 2, previous: ones, logical: UInt64(UInt32.max) + 1)
        do {
            _ = try EntryCodec.decode(overflowing)
            Issue.record("a 33-bit logical clock decoded")
        } catch {
            guard case .notProtobuf(let reason) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(reason.contains("out of range"), "\(reason)")
        }
    }

    /// Text fields are bounded: at the limit the operation folds, one byte past it the entry is
    /// valid but its operation malformed (kept as evidence, left out of the views).
    @Test(arguments: [
        ("site", EntryCodec.maximumSiteLength), ("region", EntryCodec.maximumRegionLength),
        ("note", EntryCodec.maximumNoteLength), ("summary", EntryCodec.maximumSummaryLength)
    ])
    func textFieldsAreBoundedAtTheirLimit(_ field: String, _ limit: Int) throws {
        var author = alliance.author("EU/eu-1")
        func operation(_ text: String) -> EntryOperation {
            switch field {
            case "site": Ops.report("EU", site: text)
            case "region": .raiseAlert(AlertRaise(mineral: try! MineralID("gallium"), severity: .low, category: .other, region: text, summary: "s"))
            case "note":
                .reportReserve(
                    ReserveReport(
                        participant: "EU", mineral: try! MineralID("gallium"), quantity: Quantity(amount: try! Amount("1"), unit: .tonne), asOfMillis: 1,
                        note: text))
            default: Ops.raise("gallium", text)
            }
        }
        let fits = author.write(operation(String(repeating: "é", count: limit / 2)), at: 1)  // 2 bytes each: exactly the limit
        let over = author.write(operation(String(repeating: "a", count: limit + 1)), at: 2)
        #expect(fits.operation.kind != "malformed")
        #expect(over.operation == .malformed(reason: "\(field) is longer than \(limit) bytes"))
        #expect(try EntryCodec.decodeWithGeneratedCode(over.signed).operation == over.operation)
    }

    /// An alert's summary is its point: a raise or an update that empties it is malformed.
    @Test func anEmptySummaryIsMalformed() throws {
        var author = alliance.author("EU/eu-1")
        let raise = author.write(Ops.raise("gallium", ""), at: 1)
        #expect(raise.operation == .malformed(reason: "summary must not be empty"))
        let valid = author.write(Ops.raise("gallium", "real"), at: 2)
        let update = author.write(Ops.update(valid.id, summary: ""), at: 3)
        #expect(update.operation == .malformed(reason: "summary must not be empty"))
        for entry in [raise, update] { #expect(try EntryCodec.decodeWithGeneratedCode(entry.signed).operation == entry.operation) }
    }
}
