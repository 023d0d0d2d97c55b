import Registry
import SyncProtocol

/// The sync-message decoder: any bytes decode or are refused with a reason; what decodes
/// encodes back to a message that decodes to the same value, and a session takes it in any state.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSyncMessage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? SyncMessageCodec.decode(bytes) else { return 0 }
    let again = try! SyncMessageCodec.decode(try! SyncMessageCodec.encode(message))
    precondition(again == message, "a decoded message does not survive a round trip: \(message) became \(again)")
    let local = try! NodeID("EU/eu-1")
    let peer = try! NodeID("US/us-1")
    var fresh = SyncSession(local: local, peer: peer)
    _ = fresh.receive(message, localVector: VersionVector([local: 5, peer: 2]))
    var established = SyncSession(local: local, peer: peer)
    _ = established.receive(.hello(SyncHello(node: peer, vector: VersionVector([local: 1]))), localVector: VersionVector([local: 5]))
    _ = established.receive(message, localVector: VersionVector([local: 5, peer: 2]))
    return 0
}
