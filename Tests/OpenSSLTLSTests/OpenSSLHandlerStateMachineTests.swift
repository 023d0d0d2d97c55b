import NIOCore
import TestSupport
import Testing

@testable import OpenSSLTLS

/// The TLS connection's life without I/O: every path through it, and what must hold whatever
/// the order of events (a closed connection stays closed; nothing is written to a peer before
/// it is verified).
@Suite struct OpenSSLHandlerStateMachineTests {
    @Test func aConnectionIsVerifiedBeforeItIsActiveAndClosesWithCloseNotify() {
        var machine = OpenSSLHandlerStateMachine()
        #expect(machine.buffersWrites)
        #expect(machine.channelActive() == .driveHandshake)
        #expect(machine.bytesReceived() == .driveHandshake)
        #expect(machine.handshakeProgressed(.incomplete) == .none)
        #expect(machine.handshakeProgressed(.complete(())) == .verifyIdentity)
        #expect(machine.buffersWrites, "writes wait for the identity check")
        #expect(machine.bytesReceived() == .none, "no handshake to drive while the identity is checked")
        #expect(machine.identityChecked(nil) == .activate)
        #expect(machine.isActive && !machine.buffersWrites)
        #expect(machine.closeRequested() == .sendCloseNotifyAndClose)
        #expect(machine.state == .closing)
        #expect(machine.closeRequested() == .closeTransport, "asked again while closing: just close")
        #expect(machine.channelInactive() == .none)
        #expect(machine.state == .closed)
    }

    @Test func aRejectedIdentityFailsTheConnectionAndNeverActivatesIt() {
        var machine = OpenSSLHandlerStateMachine()
        _ = machine.channelActive()
        _ = machine.handshakeProgressed(.complete(()))
        #expect(machine.identityChecked(.noPeerCertificate) == .fail(.noPeerCertificate))
        #expect(machine.state == .closed)
        #expect(machine.identityChecked(nil) == .none, "a late success changes nothing")
        #expect(!machine.isActive)
    }

    @Test func aHandshakeEndsInFailureOnAnErrorACloseOrATimeOut() {
        var failed = OpenSSLHandlerStateMachine()
        _ = failed.channelActive()
        #expect(failed.handshakeProgressed(.failed(.alertReceived("bad certificate"))) == .fail(.alertReceived("bad certificate")))
        var closed = OpenSSLHandlerStateMachine()
        _ = closed.channelActive()
        #expect(closed.handshakeProgressed(.closed) == .fail(.closedDuringHandshake))
        var slow = OpenSSLHandlerStateMachine()
        #expect(
            slow.handshakeTimedOut(.handshakeTimedOut(.seconds(10))) == .fail(.handshakeTimedOut(.seconds(10))),
            "a peer that never even starts is timed out too")
        var dropped = OpenSSLHandlerStateMachine()
        _ = dropped.channelActive()
        #expect(dropped.channelInactive() == .report(.closedDuringHandshake))
        for machine in [failed, closed, slow, dropped] { #expect(machine.state == .closed) }
    }

    @Test func anEstablishedSessionReportsAnUncleanEndAndIgnoresALateTimeOut() {
        var machine = OpenSSLHandlerStateMachine()
        _ = machine.channelActive()
        _ = machine.handshakeProgressed(.complete(()))
        _ = machine.identityChecked(nil)
        #expect(machine.handshakeTimedOut(.handshakeTimedOut(.seconds(1))) == .none)
        #expect(machine.isActive)
        #expect(machine.channelInactive() == .report(.uncleanShutdown))
        var answered = OpenSSLHandlerStateMachine()
        _ = answered.channelActive()
        _ = answered.handshakeProgressed(.complete(()))
        _ = answered.identityChecked(nil)
        #expect(answered.peerClosed() == .sendCloseNotifyAndClose)
        #expect(answered.sessionFailed(.uncleanShutdown) == .fail(.uncleanShutdown), "a write failing while closing still fails")
        #expect(answered.peerClosed() == .none)
    }

    /// Any order of events, from a seeded generator: once closed, always closed and every event
    /// answers nothing but closing the transport; never active without a successful identity
    /// check; writes are buffered exactly until active.
    @Test func closedIsFinalAndActiveNeedsAVerifiedPeerWhateverTheOrderOfEvents() {
        var random = SplitMix64(seed: 2026)
        for _ in 0..<2_000 {
            var machine = OpenSSLHandlerStateMachine()
            var verified = false
            var wasClosed = false
            for _ in 0..<12 {
                let action: OpenSSLHandlerStateMachine.Action
                switch random.next() % 10 {
                case 0: action = machine.channelActive()
                case 1: action = machine.bytesReceived()
                case 2: action = machine.handshakeProgressed([.incomplete, .complete(()), .closed, .failed(.uncleanShutdown)][Int(random.next() % 4)])
                case 3:
                    let ok = random.next() % 2 == 0
                    let before = machine.state
                    action = machine.identityChecked(ok ? nil : .noPeerCertificate)
                    if ok, before == .verifyingIdentity { verified = true }
                case 4: action = machine.handshakeTimedOut(.handshakeTimedOut(.seconds(1)))
                case 5: action = machine.closeRequested()
                case 6: action = machine.peerClosed()
                case 7: action = machine.sessionFailed(.uncleanShutdown)
                default: action = machine.channelInactive()
                }
                if wasClosed {
                    #expect(machine.state == .closed)
                    #expect(action == .none || action == .closeTransport)
                }
                if machine.isActive { #expect(verified) }
                #expect(machine.buffersWrites == [.idle, .handshaking, .verifyingIdentity].contains(machine.state))
                wasClosed = machine.state == .closed
            }
        }
    }
}
