import Foundation
import NIOCore
import NIOEmbedded
import OpenSSLCrypto
import Registry
import SyncProtocol
import TestSupport
import Testing

@testable import SyncNode

/// One session per peer, the penalty box and the refusals, without sockets: channels are
/// `EmbeddedChannel`s, so what the manager closes and says is read back directly.
@Suite struct PeerManagerTests {
    let pki: TestPKI
    let us: TestNode
    let verified: VerifiedPeer

    init() throws {
        pki = try TestPKI()
        us = try pki.node("US", "us-1")
        verified = VerifiedPeer(
            identity: try SPIFFEIdentity(trustDomain: pki.trustDomain, participant: "US", node: "us-1"),
            leaf: us.certificate, chain: [us.certificate])
    }

    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7701)).wait()
        return channel
    }

    @Test func aSecondSessionInTheSameDirectionReplacesTheFirstAndTheTieBreakDecidesOtherwise() throws {
        let local = try NodeID("EU/eu-1")
        let manager = PeerManager(local: local)
        let first = try channel()
        let second = try channel()
        #expect(manager.claim(us.id, direction: .dialled, channel: first, verified: verified))
        #expect(manager.connectedPeers == [us.id])
        // The dialling side dials again only when it gave up on the old connection: the new wins.
        #expect(manager.claim(us.id, direction: .dialled, channel: second, verified: verified))
        #expect(!first.isActive, "the replaced session is closed")
        #expect(manager.direction(of: us.id) == .dialled)
        // Both sides dialled at once: EU < US, so the session EU dialled is kept, the one it accepted closes.
        let crossing = try channel()
        #expect(!manager.claim(us.id, direction: .accepted, channel: crossing, verified: verified))
        #expect(second.isActive)
        #expect(SessionTieBreak.keepsNew(local: local, peer: us.id, newDirection: .dialled))
        // A stale release (of a channel no longer registered) leaves the live session alone.
        manager.release(us.id, channel: first)
        #expect(manager.connectedPeers == [us.id])
        manager.release(us.id, channel: second)
        #expect(manager.connectedPeers.isEmpty)
    }

    /// Once the node stops, it closes the sessions it has, and a handshake that ends afterwards
    /// starts none: nobody would close it, and the node would wait for it forever.
    @Test func onceTheNodeStopsNoSessionIsRegistered() throws {
        let manager = PeerManager(local: try NodeID("EU/eu-1"))
        let jp = try pki.node("JP", "jp-1")
        let live = try channel()
        #expect(manager.claim(us.id, direction: .accepted, channel: live, verified: verified))
        #expect(!manager.isStopped)
        let toClose = manager.stop()
        #expect(toClose.map(ObjectIdentifier.init) == [ObjectIdentifier(live)])
        #expect(manager.isStopped)
        let late = try channel()
        let jpVerified = VerifiedPeer(
            identity: try SPIFFEIdentity(trustDomain: pki.trustDomain, participant: "JP", node: "jp-1"), leaf: jp.certificate, chain: [jp.certificate])
        #expect(!manager.claim(jp.id, direction: .accepted, channel: late, verified: jpVerified), "a handshake that ends after the stop")
        #expect(!manager.claim(us.id, direction: .dialled, channel: late, verified: verified), "even one the tie-break would keep")
        #expect(manager.connectedPeers == [us.id], "the session it had, until it closes")
        #expect(live.isActive, "closing is the caller's (with a goodbye)")
    }

    @Test func offencesCloseTheSessionWithAGoodbyeAndEachPenaltyDoublesUntilForgiven() throws {
        let manager = PeerManager(local: try NodeID("EU/eu-1"), penaltyPolicy: PenaltyPolicy(base: 30, maximum: 100, forgiveness: 3600))
        let session = try channel()
        #expect(manager.claim(us.id, direction: .accepted, channel: session, verified: verified))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(manager.penalize(us.id, reason: "malformed frame", now: start) == start.addingTimeInterval(30))
        let goodbye = try #require(try session.readOutbound(as: ByteBuffer.self))
        let frame = try SyncMessageCodec.decode(Array(goodbye.readableBytesView))
        guard case .goodbye(let reason, let detail) = frame else {
            Issue.record("not a goodbye: \(frame)")
            return
        }
        #expect(reason == .protocolViolation && detail == "malformed frame")
        #expect(manager.penalize(us.id, reason: "again", closeSession: false, now: start.addingTimeInterval(40)) == start.addingTimeInterval(100))
        #expect(
            manager.penalize(us.id, reason: "again", closeSession: false, now: start.addingTimeInterval(50)) == start.addingTimeInterval(150),
            "capped at the maximum")
        #expect(manager.penaltyEnd(of: us.id, now: start.addingTimeInterval(60)) == start.addingTimeInterval(150))
        #expect(manager.penaltyEnd(of: us.id, now: start.addingTimeInterval(200)) == nil)
        let health = try #require(manager.health(of: us.id))
        #expect(health.offences == 3 && health.lastOffence == "again")
        // A year later the slate is clean: back to the base penalty.
        let later = start.addingTimeInterval(365 * 86_400)
        #expect(manager.penalize(us.id, reason: "once more", closeSession: false, now: later) == later.addingTimeInterval(30))
        #expect(manager.health(of: us.id)?.offences == 1)
    }

    @Test func refusedConnectionsAreKeptUpToTheirBoundNewestLast() throws {
        let manager = PeerManager(local: try NodeID("EU/eu-1"))
        for index in 0..<(PeerManager.refusalLimit + 20) { manager.refused(address: "10.0.0.\(index % 250):7701", reason: "refusal \(index)") }
        #expect(manager.refusals.count == PeerManager.refusalLimit)
        #expect(manager.refusals.last?.reason == "refusal \(PeerManager.refusalLimit + 19)")
        #expect(manager.refusals.first?.reason == "refusal 20")
    }

    @Test func everyChangeIsSignalledToWhoeverWaits() async throws {
        let manager = PeerManager(local: try NodeID("EU/eu-1"))
        var changes = manager.sessionChanges().makeAsyncIterator()
        #expect(await changes.next() != nil, "an element at once")
        _ = manager.claim(us.id, direction: .dialled, channel: try channel(), verified: verified)
        #expect(await changes.next() != nil)
        manager.update(us.id) { $0.entriesReceived += 1 }
        #expect(await changes.next() != nil)
        manager.refused(address: "10.0.0.1:7701", reason: "unknown authority")
        #expect(await changes.next() != nil)
    }

    @Test func aSessionNoLongerTrustedIsClosedWithTheReasonInItsHealth() throws {
        let manager = PeerManager(local: try NodeID("EU/eu-1"))
        let session = try channel()
        _ = manager.claim(us.id, direction: .accepted, channel: session, verified: verified)
        #expect(manager.closeSessions { _ in nil }.isEmpty)
        #expect(session.isActive)
        #expect(manager.closeSessions { $0.identity.participant == "US" ? "revoked" : nil } == [us.id])
        #expect(!session.isActive)
        #expect(manager.health(of: us.id)?.lastError == "certificate no longer trusted: revoked")
    }
}
