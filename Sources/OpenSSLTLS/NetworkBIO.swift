internal import COpenSSL
import NIOCore
import OpenSSLCrypto

/// The network side of one TLS connection, as an OpenSSL BIO that reads from and writes to
/// `ByteBuffer`s directly.
///
/// Memory BIOs cost two extra copies per direction: every received buffer was copied into the
/// BIO before OpenSSL read it out again, and every record OpenSSL wrote was copied into the BIO
/// and then out into a fresh buffer for the channel. Here received buffers are queued as they
/// came from the socket (OpenSSL reads straight out of them) and records are written straight
/// into the buffer the channel will send.
///
/// Belongs to one connection on one event loop, like the `SSL` that uses it.
final class NetworkBIO {
    /// Received bytes not yet read by OpenSSL, in arrival order.
    private var inbound = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    /// Records written by OpenSSL, not yet taken by the channel.
    private var outbound: ByteBuffer?
    /// Capacity for the next outbound buffer, so that a large write fills one buffer without regrowing.
    private var outboundCapacityHint = 0
    private let allocator = ByteBufferAllocator()

    /// The BIO itself. Owned by the `SSL` once handed to `SSL_set_bio`; it refers back to this
    /// object without retaining it, so the connection must keep both alive together.
    let bio: OpaquePointer

    init() throws(TLSError) {
        guard let bio = BIO_new(Self.method.pointer) else { throw .openSSL(.capture("BIO_new")) }
        self.bio = bio
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        BIO_set_init(bio, 1)
    }

    // MARK: the channel's side

    /// Queues bytes received from the peer, without copying them.
    func receive(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        inbound.append(buffer)
    }

    var receivedBytesPending: Int { inbound.reduce(0) { $0 + $1.readableBytes } }

    /// Sizes the next outbound buffer for `count` bytes of records.
    func expectOutbound(_ count: Int) {
        outboundCapacityHint = count
    }

    /// The records written since the last call, if any. A size hint not used by then is
    /// dropped, so that it cannot size a later, unrelated buffer.
    func takeOutbound() -> ByteBuffer? {
        defer {
            outbound = nil
            outboundCapacityHint = 0
        }
        guard let outbound, outbound.readableBytes > 0 else { return nil }
        return outbound
    }

    // MARK: OpenSSL's side

    private func read(into destination: UnsafeMutableRawBufferPointer) -> Int {
        var copied = 0
        while copied < destination.count, var head = inbound.first {
            let count = min(head.readableBytes, destination.count - copied)
            head.withUnsafeReadableBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: destination[copied..<(copied + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<count]))
            }
            head.moveReaderIndex(forwardBy: count)
            copied += count
            if head.readableBytes == 0 {
                inbound.removeFirst()
            } else {
                inbound[inbound.startIndex] = head
            }
        }
        return copied
    }

    private func write(_ source: UnsafeRawBufferPointer) {
        if outbound == nil {
            outbound = allocator.buffer(capacity: max(source.count, outboundCapacityHint))
            outboundCapacityHint = 0
        }
        outbound!.writeBytes(source)
    }

    private static func object(_ bio: OpaquePointer?) -> NetworkBIO? {
        guard let bio, let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<NetworkBIO>.fromOpaque(data).takeUnretainedValue()
    }

    /// The method table, made once per process and never freed.
    private final class Method: @unchecked Sendable {
        // A BIO_METHOD is immutable once set up and may be shared by every thread.
        let pointer: OpaquePointer

        init() {
            let index = BIO_get_new_index()
            guard index != -1 else { fatalError("BIO_get_new_index failed: \(OpenSSLError.capture("BIO_get_new_index"))") }
            guard let method = BIO_meth_new(index | BIO_TYPE_SOURCE_SINK, "mineral-sync network") else {
                fatalError("BIO_meth_new failed: \(OpenSSLError.capture("BIO_meth_new"))")
            }
            BIO_meth_set_read_ex(method) { bio, data, length, readBytes in
                BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)
                guard let object = NetworkBIO.object(bio), let data else { return 0 }
                let count = object.read(into: UnsafeMutableRawBufferPointer(start: data, count: length))
                readBytes?.pointee = count
                if count == 0 {
                    // Nothing yet: "try again", never end of file (the channel reports that).
                    BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY)
                    return 0
                }
                return 1
            }
            BIO_meth_set_write_ex(method) { bio, data, length, written in
                BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)
                guard let object = NetworkBIO.object(bio), let data else { return 0 }
                object.write(UnsafeRawBufferPointer(start: data, count: length))
                written?.pointee = length
                return 1
            }
            BIO_meth_set_ctrl(method) { bio, command, _, _ in
                switch command {
                case BIO_CTRL_FLUSH:
                    return 1
                case BIO_CTRL_PENDING:
                    return NetworkBIO.object(bio).map { $0.receivedBytesPending } ?? 0
                case BIO_CTRL_WPENDING:
                    return NetworkBIO.object(bio)?.outbound.map { $0.readableBytes } ?? 0
                default:
                    return 0
                }
            }
            pointer = method
        }
    }

    private static let method = Method()
}
