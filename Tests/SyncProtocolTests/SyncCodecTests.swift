import Foundation
import MineralWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Registry
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
            guard case .undecodableMessage(let reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(!reason.isEmpty)
        }
        #expect(throws: SyncProtocolError.emptyMessage) { try SyncMessageCodec.decode([]) }
        // A vector naming one node twice, and one claiming an impossible sequence number.
        let eu = alliance.node("EU/eu-1")
        let twice = try SyncMessageCodec.encode(.vector(VersionVector([eu: 1]))) + SyncMessageCodecTestBytes.extraHead(eu, 2)
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
        var wire = try Mineralsync_V1_SyncMessage(serializedBytes: try SyncMessageCodec.encode(
            .hello(SyncHello(node: eu, vector: VersionVector([eu: 2]), headIDs: [eu: id]))))
        guard case .hello(var hello) = wire.kind else { Issue.record("not a hello"); return }
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

    @Test func encoderPrefixesTheLength() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(SyncFrameEncoder()))
        try channel.writeOutbound(ByteBuffer(string: "hello"))
        var out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(out.readInteger(as: UInt32.self) == 5)
        #expect(out.readString(length: 5) == "hello")
    }
}

/// Raw protobuf bytes to append a second head to an encoded `SyncMessage{vector}`.
enum SyncMessageCodecTestBytes {
    static func extraHead(_ node: NodeID, _ seq: UInt8) -> [UInt8] {
        let participant = Array(node.participant.rawValue.utf8), name = Array(node.name.utf8)
        let nodeRef: [UInt8] = [0x0A, UInt8(participant.count)] + participant + [0x12, UInt8(name.count)] + name
        let head: [UInt8] = [0x0A, UInt8(nodeRef.count)] + nodeRef + [0x10, seq]
        let vectorMessage: [UInt8] = [0x0A, UInt8(head.count)] + head        // VersionVector.heads
        let vector: [UInt8] = [0x0A, UInt8(vectorMessage.count)] + vectorMessage  // Vector.vector
        return [0x22, UInt8(vector.count)] + vector  // SyncMessage.vector (field 4), merged by protobuf
    }
}
