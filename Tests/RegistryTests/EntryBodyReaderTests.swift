import Foundation
import OpenSSLCrypto
import PropertyBased
import Registry
import TestSupport
import Testing

/// The fast body reader against the generated SwiftProtobuf decoder: same meaning on every
/// body an author writes, and never accepting what the reference refuses or reading it otherwise.
@Suite struct EntryBodyReaderTests {
    static let alliance = TestAlliance.standard

    static func assertSameReading(_ a: Entry, _ b: Entry) {
        #expect(a.id == b.id)
        #expect(a.origin == b.origin)
        #expect(a.seq == b.seq)
        #expect(a.previous == b.previous)
        #expect(a.clock == b.clock)
        #expect(a.operation == b.operation)
        #expect(a.signer == b.signer)
    }

    @Test func authoredBodiesReadTheSame() async {
        await propertyCheck(count: 200, input: Gen.uint64(), Gen.int(in: 1...30)) { seed, size in
            var random = SplitMix64(seed: seed)
            for entry in RandomHistory.make(alliance: Self.alliance, size: size, forks: true, random: &random).entries {
                let fast = try! EntryCodec.decode(entry.signed)
                let reference = try! EntryCodec.decodeWithGeneratedCode(entry.signed)
                Self.assertSameReading(fast, reference)
            }
        }
    }

    /// Text fields: ASCII and other UTF-8 read exactly; a body with invalid UTF-8 is refused by both readers.
    @Test func textIsReadExactlyAndInvalidUTF8IsRefused() throws {
        var author = Self.alliance.author("EU/eu-1")
        for site in ["Rotterdam", "Düsseldorf — Lager 2", "東京", ""] {
            let entry = author.write(Ops.report("EU", site: site), at: 1)
            guard case .reportReserve(let report) = try EntryCodec.decode(entry.signed).operation else {
                Issue.record("not a report")
                continue
            }
            #expect(report.site == site)
        }
        // Replace the ASCII site "Rotterdam" with the same number of bytes, one of them not UTF-8.
        let entry = author.write(Ops.report("EU", site: "Rotterdam"), at: 2)
        let marker = Array("Rotterdam".utf8)
        var body = entry.signed.body
        let start = try #require((0...(body.count - marker.count)).first { Array(body[$0..<($0 + marker.count)]) == marker })
        body[start + 3] = 0xFF
        let broken = SignedEntry(body: body, signature: entry.signed.signature)
        #expect(throws: EntryDecodingError.self) { try EntryCodec.decode(broken) }
        #expect(throws: EntryDecodingError.self) { try EntryCodec.decodeWithGeneratedCode(broken) }
    }

    /// Random byte flips, truncations and insertions: whenever the fast reader accepts a body,
    /// the reference accepts it too and reads the same values. Both outcomes must occur often,
    /// or the property says nothing: a reader that refused every mutated body would pass it.
    @Test func mutatedBodiesNeverReadDifferently() async {
        let tally = Tally()
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var random = SplitMix64(seed: seed)
            let entries = RandomHistory.make(alliance: Self.alliance, size: 12, random: &random).entries
            for entry in entries {
                var body = entry.signed.body
                switch random.next() % 3 {
                case 0:
                    for _ in 0...(random.next() % 3) {
                        body[Int(random.next() % UInt64(body.count))] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                    }
                case 1: body.removeLast(Int(random.next() % UInt64(body.count)))
                default: body.insert(UInt8(truncatingIfNeeded: random.next()), at: Int(random.next() % UInt64(body.count + 1)))
                }
                let mutated = SignedEntry(body: body, signature: entry.signed.signature)
                guard let fast = try? EntryCodec.decode(mutated) else {
                    tally.count(\.refused)
                    continue
                }
                guard let reference = try? EntryCodec.decodeWithGeneratedCode(mutated) else {
                    Issue.record("fast reader accepted a body the reference refuses: \(body)")
                    continue
                }
                tally.count(\.accepted)
                if fast.operation != entry.operation || fast.clock != entry.clock { tally.count(\.readDifferently) }
                Self.assertSameReading(fast, reference)
            }
        }
        let (accepted, refused, changed) = tally.values
        // About 8% of mutations leave a decodable body (a flip in a string or a number, mostly).
        #expect(accepted >= 200, "only \(accepted) mutated bodies decoded: the comparison barely ran")
        #expect(refused >= 300, "only \(refused) mutated bodies were refused")
        #expect(changed >= 100, "only \(changed) accepted bodies meant something new: mutations hit nothing that matters")
    }

    /// 16,000 distinct unknown fields (a 64 KiB body's worth): both readers name the first 16,
    /// and agree (each used to keep every number in a list searched per field: quadratic).
    @Test func manyUnknownFieldsAreNamedBoundedly() throws {
        let (entry, _) = try HandcraftedEntries.manyUnknownFields(by: Self.alliance.author("US/us-1"), count: 16_000, now: 1)
        #expect(entry.signed.body.count < EntryCodec.maximumBodySize)
        let fast = try EntryCodec.decode(entry.signed)
        let reference = try EntryCodec.decodeWithGeneratedCode(entry.signed)
        #expect(fast.operation == .unknown(fieldNumbers: Array(1000..<1016)))
        Self.assertSameReading(fast, reference)
    }

    @Test func aRepeatedFieldIsRefused() throws {
        var author = Self.alliance.author("EU/eu-1")
        let entry = author.write(Ops.report("EU"), at: 1)
        // Append a second `seq` field (field 3, varint 9) to a valid body.
        let body = entry.signed.body + [0x18, 0x09]
        #expect(throws: EntryDecodingError.self) { try EntryCodec.decode(SignedEntry(body: body, signature: entry.signed.signature)) }
        do {
            _ = try EntryCodec.decode(SignedEntry(body: body, signature: entry.signed.signature))
        } catch {
            #expect(error.description.contains("more than once"))
        }
    }
}

/// Counts outcomes across the iterations of a property check.
final class Tally: @unchecked Sendable {
    struct Counts { var accepted = 0, refused = 0, readDifferently = 0 }
    private let lock = NSLock()
    private var counts = Counts()
    func count(_ outcome: WritableKeyPath<Counts, Int>) { lock.withLock { counts[keyPath: outcome] += 1 } }
    var values: (Int, Int, Int) { lock.withLock { (counts.accepted, counts.refused, counts.readDifferently) } }
}
