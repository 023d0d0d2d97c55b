internal import COpenSSL
import NIOCore
import OpenSSLCrypto

/// One TLS connection: an `SSL` whose network side is a `NetworkBIO` we pump: bytes received go
/// into `receive`, bytes to send come out of `takeCiphertext`. Not thread-safe: it
/// belongs to one channel's event loop, and every OpenSSL call clears the thread's error queue
/// before and reads it right after, on that thread.
public final class TLSConnection {
    /// Where the certificate callback records its verdict, found again through SSL ex_data.
    final class VerificationRecord {
        var outcome: Result<VerifiedPeer, TrustStoreError>?
        /// Asked of a verified peer inside the callback, so that a refusal fails the handshake.
        var peerCheck: (@Sendable (VerifiedPeer) -> String?)?
        var refusal: String?
    }

    private static let recordIndex: Int32 = mshim_SSL_get_ex_new_index()

    let ssl: OpaquePointer
    /// Shared by the SSL for reading and writing; kept here because the BIO does not retain it.
    private let network: NetworkBIO
    /// Keeps the SSL_CTX (and its callback state) alive as long as this connection.
    public let context: TLSContext
    private let record = VerificationRecord()

    /// - Parameter peerCheck: asked of the peer once its chain verifies, during the handshake:
    ///   a reason refuses it there (OpenSSL sends the peer an alert; nothing is exchanged).
    public init(context: TLSContext, peerCheck: (@Sendable (VerifiedPeer) -> String?)? = nil) throws(TLSError) {
        guard let ssl = SSL_new(context.pointer) else { throw .openSSL(.capture("SSL_new")) }
        let network: NetworkBIO
        do {
            network = try NetworkBIO()
        } catch {
            SSL_free(ssl)
            throw error
        }
        // One BIO for both directions: the SSL takes over its single reference.
        SSL_set_bio(ssl, network.bio, network.bio)
        self.ssl = ssl
        self.network = network
        self.context = context
        // Read as many records as the BIO holds in one go, not header and body separately.
        SSL_set_read_ahead(ssl, 1)
        record.peerCheck = peerCheck
        SSL_set_ex_data(ssl, Self.recordIndex, Unmanaged.passUnretained(record).toOpaque())
        switch context.configuration.role {
        case .server: SSL_set_accept_state(ssl)
        case .client: SSL_set_connect_state(ssl)
        }
    }

    deinit { SSL_free(ssl) }

    /// The verification record of the connection an X509_STORE_CTX belongs to.
    static func verificationRecord(for storeContext: OpaquePointer) -> VerificationRecord? {
        guard let ssl = X509_STORE_CTX_get_ex_data(storeContext, SSL_get_ex_data_X509_STORE_CTX_idx()),
            let raw = SSL_get_ex_data(OpaquePointer(ssl), recordIndex)
        else { return nil }
        return Unmanaged<VerificationRecord>.fromOpaque(raw).takeUnretainedValue()
    }

    // MARK: the network side

    /// Hands bytes received from the peer to OpenSSL.
    public func receive(_ buffer: ByteBuffer) {
        network.receive(buffer)
    }

    /// Bytes OpenSSL produced for the peer since the last call, if any.
    public func takeCiphertext() -> ByteBuffer? {
        network.takeOutbound()
    }

    // MARK: the TLS side

    public func handshake() -> TLSResult<Void> {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .complete(()) }
        return interpret(result, operation: "SSL_do_handshake")
    }

    /// Decrypts available application data into `buffer`, at most one record's worth per call
    /// (room for a whole record is made first); `.complete(0)` never happens.
    public func read(into buffer: inout ByteBuffer) -> TLSResult<Int> {
        ERR_clear_error()
        var count = 0
        let result = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.maximumRecordPlaintext) { out in
            let status = SSL_read_ex(ssl, out.baseAddress, out.count, &count)
            return status == 1 ? count : 0
        }
        if result > 0 { return .complete(result) }
        return interpret(0, operation: "SSL_read_ex")
    }

    /// The most plaintext one TLS record carries.
    public static let maximumRecordPlaintext = 16 * 1024

    /// Encrypts all of `buffer` (our network BIO never pushes back).
    public func write(_ buffer: ByteBuffer) -> TLSResult<Int> {
        var total = 0
        var failure: TLSResult<Int>?
        // Records carry at most 16 KiB each, plus a 5-byte header, the content type and a 16-byte tag.
        let records = (buffer.readableBytes + Self.maximumRecordPlaintext - 1) / Self.maximumRecordPlaintext
        network.expectOutbound(buffer.readableBytes + records * 22)
        defer { network.expectOutbound(0) }  // the hint is for this write's records only
        buffer.withUnsafeReadableBytes { bytes in
            while total < bytes.count {
                ERR_clear_error()
                var written = 0
                if SSL_write_ex(ssl, bytes.baseAddress! + total, bytes.count - total, &written) == 1 {
                    total += written
                } else {
                    failure = interpret(0, operation: "SSL_write_ex")
                    return
                }
            }
        }
        return failure ?? .complete(total)
    }

    /// Sends close_notify. `.complete` once the peer's close_notify has also been seen.
    public func shutdown() -> TLSResult<Void> {
        ERR_clear_error()
        let result = SSL_shutdown(ssl)
        if result == 1 { return .complete(()) }
        if result == 0 { return .incomplete }
        return interpret(result, operation: "SSL_shutdown")
    }

    public var receivedCloseNotify: Bool { SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN != 0 }

    public var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>? = nil
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    public var negotiatedVersion: String { String(cString: SSL_get_version(ssl)) }

    /// The peer as our trust store verified it during the handshake.
    public var verifiedPeer: VerifiedPeer? {
        if case .success(let peer) = record.outcome { return peer }
        return nil
    }

    private func interpret<T>(_ result: Int32, operation: String) -> TLSResult<T> {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            ERR_clear_error()
            return .incomplete
        case SSL_ERROR_ZERO_RETURN:
            ERR_clear_error()
            return .closed
        default:
            return .failed(classify(OpenSSLError.capture(operation)))
        }
    }

    /// Names the failure: our verdict on the peer's certificate first (the callback knows
    /// exactly why), then what OpenSSL's error queue says.
    private func classify(_ error: OpenSSLError) -> TLSError {
        if let refusal = record.refusal { return .peerRefused(refusal) }
        if case .failure(let reason) = record.outcome {
            return reason == .noCertificate ? .noPeerCertificate : .peerCertificateRejected(reason)
        }
        let alertOffset = mshim_SSL_AD_REASON_OFFSET()
        for entry in error.queue where mshim_ERR_GET_LIB(UInt(entry.code)) == mshim_ERR_LIB_SSL() {
            let reason = mshim_ERR_GET_REASON(UInt(entry.code))
            switch reason {
            case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
                return .noPeerCertificate
            case SSL_R_NO_APPLICATION_PROTOCOL:
                return .applicationProtocolMismatch(selected: nil)
            case SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_NO_PROTOCOLS_AVAILABLE, SSL_R_UNKNOWN_SSL_VERSION, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
                return .protocolVersionRefused(entry.reason)
            case SSL_R_WRONG_VERSION_NUMBER, SSL_R_HTTP_REQUEST, SSL_R_HTTPS_PROXY_REQUEST, SSL_R_PACKET_LENGTH_TOO_LONG,
                SSL_R_RECORD_LENGTH_MISMATCH, SSL_R_WRONG_VERSION_NUMBER, SSL_R_UNEXPECTED_MESSAGE, SSL_R_UNEXPECTED_RECORD,
                SSL_R_LENGTH_MISMATCH, SSL_R_BAD_PACKET_LENGTH:
                return .malformedRecord(entry.reason)
            case alertOffset..<(alertOffset + 256):
                return .alertReceived(entry.reason)
            default:
                continue
            }
        }
        return .openSSL(error)
    }
}
