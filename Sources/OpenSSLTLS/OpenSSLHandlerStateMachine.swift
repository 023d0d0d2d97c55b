/// The life of one TLS connection, without I/O: the handler reports what happened and performs
/// the action returned.
///
///     idle ─active→ handshaking ─done→ verifyingIdentity ─ok→ active ─close→ closing → closed
///                        └──────────── failure / timeout / EOF ──────────────────────→ closed
struct OpenSSLHandlerStateMachine {
    enum State: Equatable {
        case idle, handshaking, verifyingIdentity, active, closing, closed
    }

    enum Action: Equatable {
        case none
        case driveHandshake
        case verifyIdentity
        case activate
        /// Flush any alert OpenSSL produced, report the error, close the channel.
        case fail(TLSError)
        /// Send close_notify, then close the channel.
        case sendCloseNotifyAndClose
        /// Close the transport without TLS niceties (nothing was established).
        case closeTransport
        case report(TLSError)
    }

    private(set) var state: State = .idle

    /// Application writes wait until the peer is verified; nothing is sent to an unverified peer.
    var buffersWrites: Bool { state == .idle || state == .handshaking || state == .verifyingIdentity }
    var isActive: Bool { state == .active }

    mutating func channelActive() -> Action {
        guard state == .idle else { return .none }
        state = .handshaking
        return .driveHandshake
    }

    mutating func bytesReceived() -> Action {
        switch state {
        case .handshaking: .driveHandshake
        default: .none
        }
    }

    mutating func handshakeProgressed(_ result: TLSResult<Void>) -> Action {
        guard state == .handshaking else { return .none }
        switch result {
        case .incomplete: return .none
        case .complete:
            state = .verifyingIdentity
            return .verifyIdentity
        case .closed:
            state = .closed
            return .fail(.closedDuringHandshake)
        case .failed(let error):
            state = .closed
            return .fail(error)
        }
    }

    mutating func identityChecked(_ failure: TLSError?) -> Action {
        guard state == .verifyingIdentity else { return .none }
        if let failure {
            state = .closed
            return .fail(failure)
        }
        state = .active
        return .activate
    }

    mutating func handshakeTimedOut(_ error: TLSError) -> Action {
        switch state {
        case .idle, .handshaking, .verifyingIdentity:
            state = .closed
            return .fail(error)
        default:
            return .none
        }
    }

    /// The local side asked to close.
    mutating func closeRequested() -> Action {
        switch state {
        case .active:
            state = .closing
            return .sendCloseNotifyAndClose
        case .idle, .handshaking, .verifyingIdentity:
            state = .closed
            return .closeTransport
        case .closing, .closed:
            return .closeTransport
        }
    }

    /// The peer sent close_notify: answer it and close.
    mutating func peerClosed() -> Action {
        guard state == .active else { return .none }
        state = .closing
        return .sendCloseNotifyAndClose
    }

    /// A read or write on an established session failed.
    mutating func sessionFailed(_ error: TLSError) -> Action {
        switch state {
        case .active, .closing:
            state = .closed
            return .fail(error)
        default:
            return .none
        }
    }

    mutating func channelInactive() -> Action {
        defer { state = .closed }
        switch state {
        case .handshaking, .verifyingIdentity: return .report(.closedDuringHandshake)
        case .active: return .report(.uncleanShutdown)
        case .idle, .closing, .closed: return .none
        }
    }
}
