import Foundation
import Registry
import SyncProtocol
import TestSupport
import Testing

/// The seed corpus of the fuzz targets (Fuzz/Corpus/<target>/): well-formed inputs of every
/// kind, so the fuzzers start from the protocol rather than from nothing. Pinned here: each
/// seed still decodes as it should. Rewrite them with
///     MINERALSYNC_UPDATE_FIXTURES=1 swift test --filter FuzzCorpusTests
/// Crashes the fuzzers find are kept in Fuzz/Corpus/regressions/<target>/ and must decode or be
/// refused here without crashing.
@Suite struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus")
    let alliance = TestAlliance.standard

    func seeds() throws -> (messages: [String: SyncMessage], bodies: [String: [UInt8]]) {
        let (eu, us, jp) = (alliance.node("EU/eu-1"), alliance.node("US/us-1"), alliance.node("JP/jp-1"))
        var author = alliance.author("EU/eu-1")
        let raise = author.write(Ops.raise("gallium", "export licence regime"), at: 1)
        let entries = [
            author.write(Ops.report("EU", "gallium", "12.5", site: "Rotterdam"), at: 2),
            author.write(Ops.target("EU", "graphite", "300"), at: 3),
            raise,
            author.write(.updateAlert(AlertUpdate(alertID: raise.id, severity: .high, summary: "widened")), at: 4),
            author.write(.acknowledgeAlert(AlertAcknowledgement(alertID: raise.id, participant: "EU", note: "seen")), at: 5),
            author.write(.resolveAlert(AlertResolution(alertID: raise.id, note: "lifted")), at: 6)
        ]
        let vector = VersionVector([eu: 6, us: 2, jp: 9])
        let messages: [String: SyncMessage] = [
            "hello": .hello(SyncHello(node: us, vector: vector, headIDs: [eu: entries[5].id])),
            "entries": .entries(entries.map(\.signed)),
            "certificates": .certificates([OriginCertificate(node: jp, chain: [Array(repeating: 0x30, count: 40), [0x30, 0x03, 1, 2, 3]])]),
            "vector": .vector(vector),
            "ping": .ping(42),
            "pong": .pong(42),
            "goodbye": .goodbye(.protocolViolation, detail: "frame of 5000000 bytes exceeds the 4194304-byte limit")
        ]
        let bodies = Dictionary(uniqueKeysWithValues: entries.map { ($0.operation.kind, $0.signed.body) })
        return (messages, bodies)
    }

    static func framed(_ body: [UInt8]) -> [UInt8] { withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body }

    /// Each seed decodes as the kind its file names (keys differ per test process, so the
    /// bytes are written only on request, and checked for what they mean).
    @Test func seedsDecodeAsTheyShould() throws {
        let (messages, bodies) = try seeds()
        if ProcessInfo.processInfo.environment["MINERALSYNC_UPDATE_FIXTURES"] == "1" {
            var files: [(String, [UInt8])] = []
            for (name, message) in messages {
                let bytes = try SyncMessageCodec.encode(message)
                files.append(("FuzzSyncMessage/\(name)", bytes))
                // Frames: the first byte chooses the chunk size the stream is cut into.
                files.append(("FuzzFrames/\(name)", [7] + Self.framed(bytes) + Self.framed(try SyncMessageCodec.encode(.ping(1)))))
            }
            for (name, body) in bodies { files.append(("FuzzEntryBody/\(name)", body)) }
            for (path, bytes) in files {
                let url = Self.root.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(bytes).write(to: url)
            }
        }
        func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: Self.root.appendingPathComponent(path))) }
        for name in messages.keys {
            #expect(try SyncMessageCodec.decode(try read("FuzzSyncMessage/\(name)")).kind == name)
            let frame = try read("FuzzFrames/\(name)")
            let length = Int(frame[1]) << 24 | Int(frame[2]) << 16 | Int(frame[3]) << 8 | Int(frame[4])
            #expect(try SyncMessageCodec.decode(Array(frame[5..<(5 + length)])).kind == name)
        }
        for kind in bodies.keys {
            #expect(try EntryCodec.decode(SignedEntry(body: try read("FuzzEntryBody/\(kind)"), signature: [])).operation.kind == kind)
        }
    }

    /// Inputs a fuzzer once crashed on: each is refused or decoded, never a crash.
    @Test func regressionsNeitherCrashNorDecodeWrongly() throws {
        for target in ["FuzzSyncMessage", "FuzzFrames", "FuzzEntryBody"] {
            let directory = Self.root.appendingPathComponent("regressions/\(target)")
            for file in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
                let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
                switch target {
                case "FuzzEntryBody":
                    let signed = SignedEntry(body: bytes, signature: [])
                    if let fast = try? EntryCodec.decode(signed) {
                        let reference = try EntryCodec.decodeWithGeneratedCode(signed)
                        #expect(fast.operation == reference.operation, "\(file)")
                    }
                default:
                    if let message = try? SyncMessageCodec.decode(target == "FuzzFrames" ? Array(bytes.dropFirst(5)) : bytes) {
                        #expect(try SyncMessageCodec.decode(try SyncMessageCodec.encode(message)) == message, "\(file)")
                    }
                }
            }
        }
    }
}
