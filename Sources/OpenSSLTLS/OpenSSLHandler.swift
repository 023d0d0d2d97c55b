import NIOCore
import NIOTLS
import OpenSSLCrypto

/// TLS 1.3 over the system OpenSSL as a NIO channel handler: ciphertext below, plaintext above.
///
/// Nothing reaches the application from an unverified peer, and nothing the application writes
/// is sent to one: writes wait until the handshake is done and the peer's identity is verified
/// (chain to the anchor of the participant its certificate names, CRLs, ALPN, and any extra
/// `peerCheck`, asked during the handshake: a refused peer gets an alert, not a session).
/// Then the handler fires `PeerIdentityEvent` and `TLSUserEvent.handshakeCompleted`, and
/// forwards plaintext both ways. Failures are fired as `TLSError` (one case per reason) and
/// close the channel; a handshake that does not finish within the configured time-out is closed
/// too.
public final class OpenSSLHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// An extra check of the verified peer (say, "this must be the node I dialled").
    public typealias PeerCheck = @Sendable (VerifiedPeer) -> String?

    private let context: TLSContext
    private let peerCheck: PeerCheck?
    private var connection: TLSConnection?
    private var machine = OpenSSLHandlerStateMachine()
    private var bufferedWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var handshakeTimeout: Scheduled<Void>?
    private var pendingClosePromise: EventLoopPromise<Void>?
    private var transportClosed = false
    /// An empty plaintext buffer left from a read that found no whole record, reused by the next.
    private var spareBuffer: ByteBuffer?

    public private(set) var peer: VerifiedPeer?

    public init(context: TLSContext, peerCheck: PeerCheck? = nil) {
        self.context = context
        self.peerCheck = peerCheck
    }

    public convenience init(provider: TLSContextProvider, peerCheck: PeerCheck? = nil) {
        self.init(context: provider.current, peerCheck: peerCheck)
    }

    // MARK: lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        do {
            connection = try TLSConnection(context: self.context, peerCheck: peerCheck)
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        if context.channel.isActive { start(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        handshakeTimeout?.cancel()
        failBufferedWrites(TLSError.closedDuringHandshake)
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard case .driveHandshake = machine.channelActive() else { return }
        let timeout = self.context.configuration.handshakeTimeout
        handshakeTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            perform(machine.handshakeTimedOut(.handshakeTimedOut(timeout)), context)
        }
        driveHandshake(context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        transportClosed = true
        spareBuffer = nil
        handshakeTimeout?.cancel()
        let action = machine.channelInactive()
        failBufferedWrites(TLSError.closedDuringHandshake)
        perform(action, context)
        pendingClosePromise?.succeed()
        pendingClosePromise = nil
        context.fireChannelInactive()
    }

    // MARK: inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let connection else { return }
        connection.receive(unwrapInboundIn(data))
        switch machine.state {
        case .handshaking: driveHandshake(context)
        case .active, .closing: readPlaintext(context)
        default: break
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        flushCiphertext(context)
        context.fireChannelReadComplete()
    }

    private func driveHandshake(_ context: ChannelHandlerContext) {
        guard let connection else { return }
        let result = connection.handshake()
        writeCiphertext(context, promise: nil)
        context.flush()
        perform(machine.handshakeProgressed(result), context)
    }

    private func verifyIdentity() -> TLSError? {
        guard let connection else { return .closedDuringHandshake }
        let selected = connection.negotiatedProtocol
        guard let selected, self.context.configuration.applicationProtocols.contains(selected) else {
            return .applicationProtocolMismatch(selected: selected)
        }
        // (`peerCheck` was asked during the handshake, by the verification callback.)
        guard let verified = connection.verifiedPeer else { return .noPeerCertificate }
        peer = verified
        return nil
    }

    /// Decrypts what has arrived, several records into one buffer (up to `plaintextBatch`), so
    /// that a bulk transfer reaches the next handler in a few large reads rather than one per record.
    private func readPlaintext(_ context: ChannelHandlerContext) {
        guard let connection else { return }
        var pending: ByteBuffer?
        func deliver() {
            guard let buffer = pending else { return }
            pending = nil
            if buffer.readableBytes == 0 {
                spareBuffer = buffer  // nothing was decrypted into it: keep it for the next read
            } else if machine.isActive {
                context.fireChannelRead(wrapInboundOut(buffer))
            }
        }
        defer { deliver() }  // the last buffer is settled however the loop ends (an empty one kept as the spare)
        while machine.isActive || machine.state == .closing {
            var buffer = pending ?? spareBuffer.take() ?? context.channel.allocator.buffer(capacity: Self.plaintextBatch)
            pending = nil
            let result = connection.read(into: &buffer)
            pending = buffer
            switch result {
            case .complete:
                if buffer.writableBytes < TLSConnection.maximumRecordPlaintext { deliver() }
            case .incomplete:
                deliver()
                return
            case .closed:
                deliver()
                perform(machine.peerClosed(), context)
                return
            case .failed(let error):
                deliver()
                perform(machine.sessionFailed(error), context)
                return
            }
        }
    }

    static let plaintextBatch = 64 * 1024

    // MARK: outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        if machine.buffersWrites {
            bufferedWrites.append((buffer, promise))
            return
        }
        guard machine.isActive, let connection else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        encrypt(buffer, promise: promise, connection: connection, context)
    }

    public func flush(context: ChannelHandlerContext) {
        if machine.isActive { context.flush() }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // Half-closes, and a close after the transport has already gone, need no TLS goodbye:
        // pass them down so the promise completes (stored, it would wait forever).
        guard mode == .all, !transportClosed else {
            context.close(mode: mode, promise: promise)
            return
        }
        if let promise {
            if let pending = pendingClosePromise { pending.futureResult.cascade(to: promise) } else { pendingClosePromise = promise }
        }
        perform(machine.closeRequested(), context)
    }

    private func encrypt(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?, connection: TLSConnection, _ context: ChannelHandlerContext) {
        switch connection.write(buffer) {
        case .complete, .incomplete:
            writeCiphertext(context, promise: promise)
        case .closed:
            promise?.fail(ChannelError.outputClosed)
        case .failed(let error):
            promise?.fail(error)
            perform(machine.sessionFailed(error), context)
        }
    }

    // MARK: actions

    private func perform(_ action: OpenSSLHandlerStateMachine.Action, _ context: ChannelHandlerContext) {
        switch action {
        case .none, .driveHandshake:
            break
        case .verifyIdentity:
            perform(machine.identityChecked(verifyIdentity()), context)
        case .activate:
            handshakeTimeout?.cancel()
            guard let connection, let peer else { return }
            context.fireUserInboundEventTriggered(
                PeerIdentityEvent(
                    peer: peer, applicationProtocol: connection.negotiatedProtocol ?? "", version: connection.negotiatedVersion))
            context.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: connection.negotiatedProtocol))
            let writes = bufferedWrites
            bufferedWrites = []
            for (buffer, promise) in writes { encrypt(buffer, promise: promise, connection: connection, context) }
            if !writes.isEmpty { context.flush() }
            // Application data may have arrived with the handshake's last flight.
            readPlaintext(context)
        case .fail(let error):
            handshakeTimeout?.cancel()
            writeCiphertext(context, promise: nil)  // an alert, if OpenSSL produced one
            context.flush()
            failBufferedWrites(error)
            context.fireErrorCaught(error)
            context.close(promise: nil)
        case .sendCloseNotifyAndClose:
            _ = connection?.shutdown()
            writeCiphertext(context, promise: nil)
            context.flush()
            context.fireUserInboundEventTriggered(TLSUserEvent.shutdownCompleted)
            context.close(promise: nil)
        case .closeTransport:
            failBufferedWrites(ChannelError.ioOnClosedChannel)
            context.close(promise: nil)
        case .report(let error):
            context.fireErrorCaught(error)
        }
    }

    private func writeCiphertext(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if let ciphertext = connection?.takeCiphertext() {
            context.write(wrapOutboundOut(ciphertext), promise: promise)
        } else {
            promise?.succeed()
        }
    }

    private func flushCiphertext(_ context: ChannelHandlerContext) {
        guard let ciphertext = connection?.takeCiphertext() else { return }
        context.write(wrapOutboundOut(ciphertext), promise: nil)
        context.flush()
    }

    private func failBufferedWrites(_ error: any Error) {
        let writes = bufferedWrites
        bufferedWrites = []
        for (_, promise) in writes { promise?.fail(error) }
    }
}
