import Foundation
import OpenSSLCrypto
import Registry
import TestSupport
import Testing

/// Golden vectors beside the schema (Proto/mineralsync/v1/testdata/entries.json): what a partner
/// implementing the contract in another language checks its encoder, signer and hasher against.
/// Ed25519 is deterministic, so a fixed seed gives fixed bytes. To regenerate after a deliberate
/// format change: MINERALSYNC_WRITE_GOLDEN=1 swift test --filter GoldenVectorTests
@Suite struct GoldenVectorTests {
    struct Vector: Codable, Equatable {
        var description: String
        var origin: String
        var seq: UInt64
        var bodyHex: String
        var signatureHex: String
        var idHex: String
        var linkHex: String
        /// The certificate the entry names as its signer (`EntryBody.signer`); absent in entries
        /// written before key history.
        var signerHex: String?
    }

    struct File: Codable, Equatable {
        var comment: String
        var ed25519SeedHex: String
        var publicKeyHex: String
        var signatureContext: String
        var linkContext: String
        var vectors: [Vector]
    }

    static let seed = (0..<32).map { UInt8($0) }
    static let signer = SHA256.hash(Array("golden certificate".utf8))
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Proto/mineralsync/v1/testdata/entries.json")

    static func build() throws -> File {
        let key = try PrivateKey(ed25519Seed: seed)
        var author = FeedAuthor(node: try NodeID("EU/brussels-1"), key: key)
        let steps: [(String, EntryOperation)] = [
            ("reportReserve: 1250.5 t of gallium, whole reserve", Ops.report("EU", "gallium", "1250.5", asOf: 1_767_225_600_000)),
            ("setTarget: 2000 t of gallium", Ops.target("EU", "gallium", "2000")),
            (
                "raiseAlert: critical export restriction on graphite",
                .raiseAlert(
                    AlertRaise(
                        mineral: try MineralID("graphite"), severity: .critical, category: .exportRestriction,
                        region: "CN", summary: "Export licences required for spherical graphite", expiresAtMillis: 1_790_000_000_000))
            )
        ]
        var vectors: [Vector] = []
        var raised: EntryID?
        for (index, (description, operation)) in steps.enumerated() {
            let entry = author.write(operation, at: 1_767_225_600_000 + UInt64(index))
            if case .raiseAlert = operation { raised = entry.id }
            vectors.append(vector(description, entry))
        }
        for (description, operation) in [
            ("updateAlert: severity high", Ops.update(raised!, severity: .high)),
            ("acknowledgeAlert by EU", Ops.ack(raised!, "EU")),
            ("resolveAlert", Ops.resolve(raised!, "licences granted"))
        ] {
            vectors.append(vector(description, author.write(operation, at: 1_767_225_700_000 + UInt64(vectors.count))))
        }
        // Key history: from here on the entries name their certificate (a stand-in fingerprint;
        // the same key signs, so one public key checks every vector).
        author = author.signing(with: key, signer: signer, validity: nil)
        vectors.append(
            vector(
                "reportReserve naming its signing certificate (the feed continues across a key change)",
                author.write(Ops.report("EU", "gallium", "1300", asOf: 1_767_312_000_000), at: 1_767_312_000_000)))
        // A segment: the same node after a restart it could not prove was clean writes feed @7 from seq 1.
        var segment = author.startingSegment(7)
        let ahead = segment.write(Ops.report("EU", "gallium", "1310", asOf: 1_767_398_400_000), at: 1_767_398_400_000)
        vectors.append(vector("reportReserve in segment 7 of the node's feed (NodeRef.segment = 7), seq 1", ahead))
        // Causality: another node of EU, its clock a day behind, reports after seeing that one.
        var other = FeedAuthor(node: try NodeID("EU/brussels-2"), key: key)
        var superseding = ReserveReport(
            participant: "EU", mineral: try MineralID("gallium"), quantity: Quantity(amount: try Amount("1320"), unit: .tonne),
            asOfMillis: 1_767_312_000_000)
        superseding.supersedes = ahead.id
        vectors.append(
            vector(
                "reportReserve superseding EU/brussels-1@7#1 (supersedes = its id) with a clock a day smaller: it is the latest",
                other.write(.reportReserve(superseding), at: 1_767_312_000_000)))
        // A cut: brussels-2 ends segment 7 of brussels-1 at its first entry.
        vectors.append(
            vector(
                "cutFeed: EU/brussels-1@7 ends at seq 1 (entry_id = that entry's id)",
                other.write(
                    .cutFeed(FeedCut(feed: try NodeID("EU/brussels-1@7"), seq: 1, entryID: ahead.id, reason: "key stolen")),
                    at: 1_767_312_000_001)))
        // A policy violation, kept as evidence and left out of the views: EU/brussels-2 reports for US.
        vectors.append(
            vector(
                "reportReserve by EU/brussels-2 for US: valid, and a policy violation (writes-for-another-participant)",
                other.write(Ops.report("US", "gallium", "1"), at: 1_767_312_000_002)))
        let raw = key.publicKey.subjectPublicKeyInfo.suffix(32)
        return File(
            comment:
                "Generated by Tests/RegistryTests/GoldenVectorTests.swift. Hex is lower-case. id = SHA-256(body); link = SHA-256(linkContext || 0x00 || u64be(len(body)) || body || signature); signature = Ed25519(signatureContext || 0x00 || body).",
            ed25519SeedHex: hex(seed), publicKeyHex: hex(Array(raw)),
            signatureContext: "mineral-sync/entry/v1", linkContext: "mineral-sync/link/v1", vectors: vectors)
    }

    static func vector(_ description: String, _ entry: Entry) -> Vector {
        Vector(
            description: description, origin: entry.origin.description, seq: entry.seq,
            bodyHex: hex(entry.signed.body), signatureHex: hex(entry.signed.signature),
            idHex: entry.id.hex, linkHex: entry.link.hex, signerHex: entry.signer?.hex)
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test func encoderSignerAndHashesMatchTheGoldenVectors() throws {
        let built = try Self.build()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if ProcessInfo.processInfo.environment["MINERALSYNC_WRITE_GOLDEN"] == "1" {
            try encoder.encode(built).write(to: Self.path)
        }
        let stored = try JSONDecoder().decode(File.self, from: Data(contentsOf: Self.path))
        #expect(stored == built)
    }

    @Test func goldenEntriesDecodeVerifyAndChain() throws {
        let stored = try JSONDecoder().decode(File.self, from: Data(contentsOf: Self.path))
        let key = try PrivateKey(ed25519Seed: Self.bytes(stored.ed25519SeedHex)).publicKey
        var ledger = FeedLedger()
        let signed = stored.vectors.map { SignedEntry(body: Self.bytes($0.bodyHex), signature: Self.bytes($0.signatureHex)) }
        for (vector, entry) in zip(stored.vectors, signed) {
            let decoded = try EntryCodec.decode(entry)
            #expect(decoded.id.hex == vector.idHex)
            #expect(decoded.link.hex == vector.linkHex)
            #expect(decoded.seq == vector.seq)
            #expect(decoded.origin.description == vector.origin)
            #expect(decoded.signer?.hex == vector.signerHex)
            #expect(entry.isSigned(by: key))
        }
        var known = OriginKeys()
        known.add(SignerKey(id: Self.signer, key: key, validFrom: 0, validUntil: .max), for: try NodeID("EU/brussels-1"))
        let result = ledger.ingest(signed) { entry in entry.signer == nil ? .keys([key]) : known.lookup(entry) }
        #expect(result.accepted.count == stored.vectors.count)
        #expect(ledger.vector[try NodeID("EU/brussels-1@7")] == 1)
        var registry = MineralRegistry()
        _ = registry.ingest(signed) { entry in entry.signer == nil ? .keys([key]) : known.lookup(entry) }
        let gallium = registry.views.reserve(ReserveKey(participant: "EU", mineral: try MineralID("gallium"), site: ""))
        #expect(gallium?.report.quantity.amount.text == "1320", "the superseding report wins, though its clock is smaller")
        #expect(registry.cuts[try NodeID("EU/brussels-1@7")]?.seq == 1)
    }
}
