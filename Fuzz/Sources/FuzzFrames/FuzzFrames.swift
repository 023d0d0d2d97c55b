import NIOCore
import NIOEmbedded
import Registry
import SyncProtocol

/// The frame decoder, then every frame through the message decoder and a session, with the
/// stream cut into chunks (the first byte chooses their size), as TCP may deliver it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let chunk = Int(first % 64) + 1
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(SyncFrameDecoder(maximumFrameSize: 64 << 10)))
    defer { _ = try? channel.finish() }
    let local = try! NodeID("EU/eu-1")
    let peer = try! NodeID("US/us-1")
    var session = SyncSession(local: local, peer: peer)
    var offset = 1
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunk)
        do { try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end])) } catch { return 0 }
        offset = end
        while let frame = try? channel.readInbound(as: ByteBuffer.self) {
            do {
                let message = try SyncMessageCodec.decode(frame.readableBytesView)
                _ = session.receive(message, localVector: VersionVector([local: 3]))
            } catch {
                _ = session.fail(error)
            }
        }
    }
    return 0
}
