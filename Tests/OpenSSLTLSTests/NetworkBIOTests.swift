import COpenSSL
import NIOCore
import Testing

@testable import OpenSSLTLS

/// The BIO between OpenSSL and the channel, driven as OpenSSL drives it (BIO_read, BIO_write,
/// BIO_ctrl): bytes come out in the order they were received, across and within buffers; an
/// empty BIO says "try again", never end of file; what OpenSSL writes is handed to the channel
/// once, in one buffer.
@Suite struct NetworkBIOTests {
    /// Reads up to `count` bytes as OpenSSL would; nil when the BIO has none.
    func read(_ network: NetworkBIO, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { BIO_read(network.bio, $0.baseAddress, Int32(count)) }
        return got > 0 ? Array(bytes[0..<Int(got)]) : nil
    }

    func write(_ network: NetworkBIO, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { BIO_write(network.bio, $0.baseAddress, Int32($0.count)) }
    }

    @Test func receivedBytesAreReadInOrderAcrossAndWithinBuffers() throws {
        let network = try NetworkBIO()
        defer { BIO_free(network.bio) }
        network.receive(ByteBuffer(string: "hello"))
        network.receive(ByteBuffer())  // nothing: not queued
        var second = ByteBuffer(string: "xx world")
        second.moveReaderIndex(forwardBy: 2)  // only what is readable counts
        network.receive(second)
        #expect(network.receivedBytesPending == 11)
        #expect(BIO_ctrl(network.bio, BIO_CTRL_PENDING, 0, nil) == 11)
        #expect(read(network, 3) == Array("hel".utf8))
        #expect(read(network, 4) == Array("lo w".utf8), "a read spans two received buffers")
        #expect(network.receivedBytesPending == 4)
        #expect(read(network, 100) == Array("orld".utf8))
        #expect(network.receivedBytesPending == 0)
    }

    @Test func anEmptyBIOAsksToRetryAndNeverReportsEndOfFile() throws {
        let network = try NetworkBIO()
        defer { BIO_free(network.bio) }
        #expect(read(network, 16) == nil)
        #expect(BIO_test_flags(network.bio, BIO_FLAGS_SHOULD_RETRY) != 0)
        #expect(BIO_test_flags(network.bio, BIO_FLAGS_READ) != 0)
        #expect(BIO_ctrl(network.bio, BIO_CTRL_EOF, 0, nil) == 0)
        network.receive(ByteBuffer(string: "a"))
        #expect(read(network, 16) == [UInt8(ascii: "a")])
        #expect(BIO_test_flags(network.bio, BIO_FLAGS_SHOULD_RETRY) == 0, "a read that found bytes clears the retry flag")
    }

    @Test func writtenRecordsAreTakenOnceInOneBuffer() throws {
        let network = try NetworkBIO()
        defer { BIO_free(network.bio) }
        #expect(network.takeOutbound() == nil)
        #expect(write(network, Array("record one|".utf8)) == 11)
        #expect(write(network, Array("record two".utf8)) == 10)
        #expect(BIO_ctrl(network.bio, BIO_CTRL_WPENDING, 0, nil) == 21)
        #expect(BIO_ctrl(network.bio, BIO_CTRL_FLUSH, 0, nil) == 1)
        let taken = try #require(network.takeOutbound())
        #expect(String(buffer: taken) == "record one|record two")
        #expect(network.takeOutbound() == nil, "taken once")
        #expect(BIO_ctrl(network.bio, BIO_CTRL_WPENDING, 0, nil) == 0)
    }

    @Test func aSizeHintSizesTheNextBufferOnlyAndIsDroppedWhenUnused() throws {
        let network = try NetworkBIO()
        defer { BIO_free(network.bio) }
        network.expectOutbound(64 * 1024)
        _ = write(network, [1, 2, 3])
        let hinted = try #require(network.takeOutbound())
        #expect(hinted.capacity >= 64 * 1024, "one buffer for a large write, no regrowing")
        network.expectOutbound(64 * 1024)
        #expect(network.takeOutbound() == nil)
        _ = write(network, [4, 5, 6])
        let plain = try #require(network.takeOutbound())
        #expect(plain.capacity < 64 * 1024, "an unused hint does not size a later buffer")
        #expect(Array(plain.readableBytesView) == [4, 5, 6])
    }
}
