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
            .raiseAlert(AlertRaise(mineral: try MineralID("gallium"), severity: .critical, category: .priceSpike, region: "Asia", summary: "spot +40%", expiresAtMillis: 99)),
            .updateAlert(AlertUpdate(alertID: alertID, severity: .low, category: nil, region: "", summary: "easing", expiresAtMillis: 0)),
            Ops.ack(alertID, "JP"),
            Ops.resolve(alertID),
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
}
