internal import COpenSSL
import NIOConcurrencyHelpers
import OpenSSLCrypto

/// An `SSL_CTX` built from a `TLSConfiguration`: certificate, key, TLS 1.3 only, mandatory peer
/// certificates verified by our `TrustStore`, ALPN. Immutable once built and shared by every
/// connection made from it; building one parses keys and certificates, so do it off the event loop.
public final class TLSContext: @unchecked Sendable {
    // SSL_CTX is safe to share between threads once configured; we never change it afterwards.
    let pointer: OpaquePointer
    public let configuration: TLSConfiguration
    /// Retained for as long as the SSL_CTX may call back into it.
    private let callbackState: Unmanaged<ContextCallbackState>

    public init(configuration: TLSConfiguration) throws(TLSError) {
        guard let leaf = configuration.certificateChain.first else { throw .configuration("no certificate") }
        guard leaf.matches(configuration.privateKey) else {
            throw .configuration("the private key does not match certificate \(leaf.subject)")
        }
        guard let context = SSL_CTX_new(TLS_method()) else { throw .openSSL(.capture("SSL_CTX_new")) }
        // Until every step has succeeded, the SSL_CTX and the callback state belong to this
        // scope and are freed here on failure. Only a fully built context is stored, so deinit
        // (which also runs when an initialiser throws after its properties are set) frees only
        // what it owns.
        let state = ContextCallbackState(configuration: configuration)
        do throws(TLSError) {
            try Self.configure(context, configuration: configuration, leaf: leaf)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        pointer = context
        self.configuration = configuration
        callbackState = Unmanaged.passRetained(state)
        let argument = callbackState.toOpaque()
        SSL_CTX_set_cert_verify_callback(context, verifyPeerChain, argument)
        if configuration.role == .server { SSL_CTX_set_alpn_select_cb(context, selectApplicationProtocol, argument) }
    }

    /// Everything that may fail, before the context takes ownership of anything.
    private static func configure(_ context: OpaquePointer, configuration: TLSConfiguration, leaf: Certificate) throws(TLSError) {
        ERR_clear_error()
        let lowest = configuration.versions.lowerBound
        let highest = configuration.versions.upperBound
        var ok =
            mshim_SSL_CTX_set_min_proto_version(context, lowest) == 1
            && mshim_SSL_CTX_set_max_proto_version(context, highest) == 1
        _ = mshim_SSL_CTX_set_options(context, mshim_SSL_OP_NO_RENEGOTIATION() | mshim_SSL_OP_NO_TICKET() | mshim_SSL_OP_NO_COMPRESSION())
        _ = mshim_SSL_CTX_set_session_cache_mode(context, mshim_SSL_SESS_CACHE_OFF())
        ok = ok && SSL_CTX_set_num_tickets(context, 0) == 1
        if !configuration.omitCertificate {
            ok =
                ok && SSL_CTX_use_certificate(context, leaf.pointer) == 1
                && SSL_CTX_use_PrivateKey(context, configuration.privateKey.pointer) == 1
                && SSL_CTX_check_private_key(context) == 1
            for intermediate in configuration.certificateChain.dropFirst() {
                ok = ok && mshim_SSL_CTX_add1_chain_cert(context, intermediate.pointer) == 1
            }
        }
        guard ok else { throw .openSSL(OpenSSLError.capture("configuring SSL_CTX")) }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        if configuration.role == .client {
            let wire = ContextCallbackState.alpnWireFormat(configuration.offeredProtocolsOverride ?? configuration.applicationProtocols)
            // Returns 0 on success, unlike most of OpenSSL.
            let failed = wire.withUnsafeBufferPointer { SSL_CTX_set_alpn_protos(context, $0.baseAddress, UInt32($0.count)) } != 0
            if failed { throw .configuration("ALPN protocols rejected by OpenSSL") }
        }
    }

    deinit {
        SSL_CTX_free(pointer)
        callbackState.release()
    }
}

/// Holds the current `TLSContext` and lets it be replaced at run time (SIGHUP: new certificates,
/// CRLs, trust anchors). New connections take the current one; live ones keep theirs.
public final class TLSContextProvider: Sendable {
    private let box: NIOLockedValueBox<TLSContext>

    public init(_ context: TLSContext) { box = NIOLockedValueBox(context) }

    public var current: TLSContext { box.withLockedValue { $0 } }

    public func replace(with context: TLSContext) { box.withLockedValue { $0 = context } }
}

/// What the C callbacks of one SSL_CTX need: the trust store and the protocols.
final class ContextCallbackState: @unchecked Sendable {
    let trustStore: TrustStore
    let acceptedProtocols: [String]

    init(configuration: TLSConfiguration) {
        trustStore = configuration.trustStore
        acceptedProtocols = configuration.applicationProtocols
    }

    static func alpnWireFormat(_ protocols: [String]) -> [UInt8] {
        protocols.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
    }
}

/// Replaces OpenSSL's chain verification with the TrustStore's: the chain must end at the
/// anchor of the participant the leaf names, pass that participant's CRLs, and name one node.
/// The outcome is recorded on the connection so the handler can report exactly why.
private let verifyPeerChain: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { storeContext, argument in
    guard let storeContext, let argument else { return 0 }
    let state = Unmanaged<ContextCallbackState>.fromOpaque(argument).takeUnretainedValue()
    let connection = TLSConnection.verificationRecord(for: storeContext)
    guard let leafPointer = X509_STORE_CTX_get0_cert(storeContext) else {
        connection?.outcome = .failure(.noCertificate)
        return 0
    }
    var chain = [Certificate(retaining: leafPointer)]
    if let untrusted = X509_STORE_CTX_get0_untrusted(storeContext) {
        for index in 0..<mshim_sk_X509_num(untrusted) {
            guard let certificate = mshim_sk_X509_value(untrusted, index), X509_cmp(certificate, leafPointer) != 0 else { continue }
            chain.append(Certificate(retaining: certificate))
        }
    }
    do throws(TrustStoreError) {
        let peer = try state.trustStore.verify(chain)
        connection?.outcome = .success(peer)
        if let refusal = connection?.peerCheck?(peer) {
            connection?.refusal = refusal
            X509_STORE_CTX_set_error(storeContext, X509_V_ERR_APPLICATION_VERIFICATION)
            return 0
        }
        return 1
    } catch {
        connection?.outcome = .failure(error)
        X509_STORE_CTX_set_error(storeContext, alertCode(for: error))
        return 0
    }
}

/// The X.509 error code that makes OpenSSL send the most fitting alert.
private func alertCode(for error: TrustStoreError) -> Int32 {
    switch error {
    case .expired: X509_V_ERR_CERT_HAS_EXPIRED
    case .notYetValid: X509_V_ERR_CERT_NOT_YET_VALID
    case .revoked: X509_V_ERR_CERT_REVOKED
    case .unknownAuthority, .issuedByAnotherParticipant, .selfSigned, .unknownParticipant:
        X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    case .badSignature: X509_V_ERR_CERT_SIGNATURE_FAILURE
    default: X509_V_ERR_APPLICATION_VERIFICATION
    }
}

/// Server side of ALPN: only our protocol is acceptable; a client that does not offer it gets
/// a fatal no_application_protocol alert instead of a session.
private let selectApplicationProtocol:
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
        UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
    ) -> Int32 = { _, out, outLength, offered, offeredLength, argument in
        guard let out, let outLength, let offered, let argument else { return SSL_TLSEXT_ERR_ALERT_FATAL }
        let state = Unmanaged<ContextCallbackState>.fromOpaque(argument).takeUnretainedValue()
        var index = 0
        let total = Int(offeredLength)
        while index < total {
            let length = Int(offered[index])
            let start = index + 1
            guard start + length <= total else { break }
            let name = String(decoding: UnsafeBufferPointer(start: offered + start, count: length), as: UTF8.self)
            if state.acceptedProtocols.contains(name) {
                out.pointee = offered + start
                outLength.pointee = UInt8(length)
                return SSL_TLSEXT_ERR_OK
            }
            index = start + length
        }
        return SSL_TLSEXT_ERR_ALERT_FATAL
    }
