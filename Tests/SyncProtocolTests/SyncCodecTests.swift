import Foundation
import MineralWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Registry
import SwiftProtobuf
import SyncProtocol
import TestSupport
import Testing

@Suite struct SyncCodecTests {
    let alliance = TestAlliance.standard

    @Test func everyMessageKindRoundTrips() throws {
        var author = alliance.author("EU/eu-1")
        let entries = (0..<3).map { author.write(Ops.report("EU", "gallium", "\($0)"), at: UInt64($0)).signed }
        let vector = VersionVector([alliance.node("EU/eu-1"): 3, alliance.node("JP/jp-1"): 9])
        let messages: [SyncMessage] = [
            .hello(SyncHello(node: alliance.node("US/us-1"), vector: vector)),
            .hello(SyncHello(node: alliance.node("US/us-1"), vector: vector, headIDs: [alliance.node("JP/jp-1"): entries[0].id])),
            .entries(entries),
            .certificates([OriginCertificate(node: alliance.node("JP/jp-1"), chain: [[1, 2, 3], [4, 5]])]),
            .vector(vector),
            .vector(VersionVector()),
            .ping(42),
            .pong(42),
            .goodbye(.shuttingDown, detail: "SIGTERM"),
            .revocations([[0x30, 0x01], [0x30, 0x02, 0x03]]),
            .vector(VersionVector([alliance.node("EU/eu-1").segment(7): 2]))
        ]
        for message in messages {
            #expect(try SyncMessageCodec.decode(SyncMessageCodec.encode(message)) == message)
        }
    }

    @Test func malformedMessagesAreRefusedWithReasons() throws {
        do {
            _ = try SyncMessageCodec.decode([0xFF, 0xFF, 0xFF])
            Issue.record("garbage decoded")
        } catch {
            guard case .undecodableMessage(let reason) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(!reason.isEmpty)
        }
        #expect(throws: SyncProtocolError.emptyMessage) { try SyncMessageCodec.decode([]) }
        // A vector naming one node twice, and one claiming an impossible sequence number.
        let eu = alliance.node("EU/eu-1")
        var wire = Mineralsync_V1_SyncMessage()
        var vector = Mineralsync_V1_Vector()
        for seq in [1, 2] as [UInt64] {
            var head = Mineralsync_V1_FeedHead()
            head.node.participant = "EU"
            head.node.name = "eu-1"
            head.seq = seq
            vector.vector.heads.append(head)
        }
        wire.kind = .vector(vector)
        let twice: [UInt8] = try wire.serializedBytes()
        #expect(throws: SyncProtocolError.impossibleVector("EU/eu-1 appears twice")) { try SyncMessageCodec.decode(twice) }
        let huge = try SyncMessageCodec.encode(.vector(VersionVector([eu: SyncMessageCodec.maximumSequence + 1])))
        #expect(throws: SyncProtocolError.impossibleVector("EU/eu-1 at seq \(SyncMessageCodec.maximumSequence + 1)")) {
            try SyncMessageCodec.decode(huge)
        }
    }

    @Test func aHelloHeadIDMustNameAHeldFeedAndBe32Bytes() throws {
        let (eu, jp) = (alliance.node("EU/eu-1"), alliance.node("JP/jp-1"))
        let id = EntryID(hex: String(repeating: "cd", count: 32))!
        let notHeld = try SyncMessageCodec.encode(.hello(SyncHello(node: eu, vector: VersionVector([eu: 2]), headIDs: [jp: id])))
        #expect(throws: SyncProtocolError.impossibleVector("head id for JP/jp-1, which the vector does not hold")) {
            try SyncMessageCodec.decode(notHeld)
        }
        var wire = try Mineralsync_V1_SyncMessage(
            serializedBytes: try SyncMessageCodec.encode(
                .hello(SyncHello(node: eu, vector: VersionVector([eu: 2]), headIDs: [eu: id]))))
        guard case .hello(var hello) = wire.kind else {
            Issue.record("not a hello")
            return
        }
        hello.headIds[0].id = Data(repeating: 1, count: 31)
        wire.kind = .hello(hello)
        #expect(throws: SyncProtocolError.impossibleVector("head id for EU/eu-1 is 31 bytes, not 32")) {
            try SyncMessageCodec.decode(try wire.serializedBytes() as [UInt8])
        }
    }

    @Test func framesSplitCorrectlyWhateverTheChunking() throws {
        let payloads = [ByteBuffer(string: "a"), ByteBuffer(string: String(repeating: "x", count: 3_000)), ByteBuffer(), ByteBuffer(string: "last")]
        var stream = ByteBuffer()
        for payload in payloads {
            stream.writeInteger(UInt32(payload.readableBytes))
            stream.writeImmutableBuffer(payload)
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: [(stream, payloads)]) { SyncFrameDecoder() }
    }

    @Test func oversizedFrameIsRefusedBeforeItIsBuffered() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SyncFrameDecoder(maximumFrameSize: 1024)))
        var header = ByteBuffer()
        header.writeInteger(UInt32(1025))
        #expect(throws: SyncProtocolError.frameTooLarge(size: 1025, limit: 1024)) { try channel.writeInbound(header) }
    }

    // MARK: limits, checked on the wire before anything is copied

    func batch(_ entries: [Mineralsync_V1_SignedEntry]) throws -> [UInt8] {
        var wire = Mineralsync_V1_SyncMessage()
        var batch = Mineralsync_V1_EntryBatch()
        batch.entries = entries
        wire.kind = .entries(batch)
        return try wire.serializedBytes()
    }

    func signed(body: Int, signature: Int) -> Mineralsync_V1_SignedEntry {
        var entry = Mineralsync_V1_SignedEntry()
        entry.body = Data(repeating: 7, count: body)
        entry.signature = Data(repeating: 9, count: signature)
        return entry
    }

    @Test func oversizedSignaturesAndBodiesAreRefusedNamingTheEntry() throws {
        let huge = try batch([signed(body: 10, signature: 64), signed(body: 10, signature: 4 << 20)])
        #expect(throws: SyncProtocolError.limitExceeded("entry 2 of the batch has a 4194304-byte signature; the limit is 256")) {
            try SyncMessageCodec.decode(huge)
        }
        let body = try batch([signed(body: EntryCodec.maximumBodySize + 1, signature: 64)])
        #expect(throws: SyncProtocolError.limitExceeded("entry 1 of the batch has a 65537-byte body; the limit is 65536")) {
            try SyncMessageCodec.decode(body)
        }
        // At the limits, accepted.
        let edge = try SyncMessageCodec.decode(try batch([signed(body: EntryCodec.maximumBodySize, signature: 256)]))
        #expect(edge == .entries([SignedEntry(body: Array(repeating: 7, count: EntryCodec.maximumBodySize), signature: Array(repeating: 9, count: 256))]))
    }

    @Test func countsAreBoundedPerMessage() throws {
        var limits = SyncLimits()
        limits.entriesPerMessage = 3
        limits.feedsPerVector = 2
        limits.certificatesPerMessage = 1
        limits.certificatesPerChain = 2
        limits.certificateSize = 4
        limits.detailLength = 5
        limits.revocationListsPerMessage = 2
        limits.revocationListSize = 3
        // 3 empty entries pass, 4 do not.
        let three = try batch(Array(repeating: Mineralsync_V1_SignedEntry(), count: 3))
        #expect(try SyncMessageCodec.decode(three, limits: limits) == .entries(Array(repeating: SignedEntry(body: [], signature: []), count: 3)))
        #expect(throws: SyncProtocolError.limitExceeded("more than 3 entries in one message")) {
            try SyncMessageCodec.decode(try batch(Array(repeating: Mineralsync_V1_SignedEntry(), count: 4)), limits: limits)
        }
        let (eu, us, jp) = (alliance.node("EU/eu-1"), alliance.node("US/us-1"), alliance.node("JP/jp-1"))
        let wide = VersionVector([eu: 1, us: 1, jp: 1])
        #expect(throws: SyncProtocolError.limitExceeded("more than 2 feeds in a version vector")) {
            try SyncMessageCodec.decode(try SyncMessageCodec.encode(.vector(wide)), limits: limits)
        }
        #expect(throws: SyncProtocolError.limitExceeded("more than 2 feeds in a version vector")) {
            try SyncMessageCodec.decode(try SyncMessageCodec.encode(.hello(SyncHello(node: eu, vector: wide))), limits: limits)
        }
        let ids = [
            eu: EntryID(hex: String(repeating: "ab", count: 32))!, us: EntryID(hex: String(repeating: "cd", count: 32))!,
            jp: EntryID(hex: String(repeating: "ef", count: 32))!
        ]
        #expect(throws: SyncProtocolError.limitExceeded("more than 2 head ids in a hello")) {
            try SyncMessageCodec.decode(try SyncMessageCodec.encode(.hello(SyncHello(node: eu, vector: VersionVector([eu: 1]), headIDs: ids))), limits: limits)
        }
        #expect(throws: SyncProtocolError.limitExceeded("more than 1 origin certificates in one message")) {
            try SyncMessageCodec.decode(
                try SyncMessageCodec.encode(.certificates([OriginCertificate(node: eu, chain: [[1]]), OriginCertificate(node: us, chain: [[1]])])),
                limits: limits)
        }
        #expect(throws: SyncProtocolError.limitExceeded("origin certificate 1 has a chain of more than 2 certificates")) {
            try SyncMessageCodec.decode(try SyncMessageCodec.encode(.certificates([OriginCertificate(node: eu, chain: [[1], [2], [3]])])), limits: limits)
        }
        #expect(throws: SyncProtocolError.limitExceeded("origin certificate 1 holds a 5-byte certificate; the limit is 4")) {
            try SyncMessageCodec.decode(try SyncMessageCodec.encode(.certificates([OriginCertificate(node: eu, chain: [[1, 2, 3, 4, 5]])])), limits: limits)
        }
        #expect(throws: SyncProtocolError.limitExceeded("a goodbye detail of 6 bytes; the limit is 5")) {
            try SyncMessageCodec.decode(try SyncMessageCodec.encode(.goodbye(.idle, detail: "sixsix")), limits: limits)
        }
        #expect(try SyncMessageCodec.decode(try SyncMessageCodec.encode(.goodbye(.idle, detail: "five!")), limits: limits) == .goodbye(.idle, detail: "five!"))
        #expect(throws: SyncProtocolError.limitExceeded("more than 2 CRLs in one message")) {
            try SyncMessageCodec.decode(try SyncMessageCodec.encode(.revocations([[1], [2], [3]])), limits: limits)
        }
        #expect(throws: SyncProtocolError.limitExceeded("CRL 2 is 4 bytes; the limit is 3")) {
            try SyncMessageCodec.decode(try SyncMessageCodec.encode(.revocations([[1], [1, 2, 3, 4]])), limits: limits)
        }
    }

    /// Whatever detail this node gives, its goodbye is one every receiver accepts.
    @Test func aLongGoodbyeDetailIsCutToTheLimit() throws {
        let detail = String(repeating: "é", count: 2_000)  // 4,000 bytes
        let bytes = try SyncMessageCodec.encode(.goodbye(.protocolViolation, detail: detail))
        guard case .goodbye(_, let sent) = try SyncMessageCodec.decode(bytes) else {
            Issue.record("not a goodbye")
            return
        }
        #expect(sent.utf8.count <= SyncLimits.standard.detailLength && sent.hasPrefix("éé") && sent.hasSuffix("…"))
        #expect(try SyncMessageCodec.decode(try SyncMessageCodec.encode(.goodbye(.idle, detail: "short"))) == .goodbye(.idle, detail: "short"))
    }

    @Test func twoKindsInOneFrameAreRefused() throws {
        let both = try SyncMessageCodec.encode(.ping(1)) + (try SyncMessageCodec.encode(.pong(2)))
        #expect(throws: SyncProtocolError.undecodableMessage("more than one message kind in one frame")) { try SyncMessageCodec.decode(both) }
    }

    /// The batch reader is a second decoder of `EntryBatch`: it must read exactly what the
    /// generated one reads, unknown fields and all.
    @Test func theBatchReaderAgreesWithTheGeneratedDecoder() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var entries: [Mineralsync_V1_SignedEntry] = []
            for _ in 0..<Int.random(in: 0...6, using: &generator) {
                var entry = signed(body: Int.random(in: 0...300, using: &generator), signature: Int.random(in: 0...100, using: &generator))
                if Bool.random(using: &generator) {
                    // An unknown varint field 5 and an unknown bytes field 9, as a newer sender might add.
                    entry.unknownFields = try Self.unknownFields([0x28, 0x96, 0x01, 0x4A, 0x02, 0xAA, 0xBB])
                }
                entries.append(entry)
            }
            let bytes = try batch(entries)
            let generated = try Mineralsync_V1_SyncMessage(serializedBytes: bytes)
            guard case .entries(let wire) = generated.kind else {
                Issue.record("not a batch")
                return
            }
            let expected = wire.entries.map { SignedEntry(body: [UInt8]($0.body), signature: [UInt8]($0.signature)) }
            #expect(try SyncMessageCodec.decode(bytes) == .entries(expected))
        }
    }

    /// Unknown fields as the generated code keeps them: decode them into a message that lacks them.
    static func unknownFields(_ bytes: [UInt8]) throws -> SwiftProtobuf.UnknownStorage {
        try Mineralsync_V1_SignedEntry(serializedBytes: bytes).unknownFields
    }

    @Test func encoderPrefixesTheLength() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(SyncFrameEncoder()))
        try channel.writeOutbound(ByteBuffer(string: "hello"))
        var out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(out.readInteger(as: UInt32.self) == 5)
        #expect(out.readString(length: 5) == "hello")
    }
}
