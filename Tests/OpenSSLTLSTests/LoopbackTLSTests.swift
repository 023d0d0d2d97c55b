import Foundation
import NIOCore
import NIOPosix
import NIOTLS
import OpenSSLCrypto
@_spi(Testing) import OpenSSLTLS
import TestSupport
import Testing

/// Real TCP on loopback with certificates made here. Each refused peer must be refused for its
/// own reason, and no application byte may cross in either direction: the server's application
/// greets every verified client, the client's application writes as soon as it can.
@Suite(.serialized) struct LoopbackTLSTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let fixture: TLSFixture
    let server: TestNode

    init() throws {
        fixture = try TLSFixture()
        server = try fixture.pki.node("JP", "tokyo-1")
    }

    /// Runs one client against a fresh server and returns both applications' views.
    func exchange(
        serverTrust: TrustStore? = nil, client: TestNode,
        adjust: (inout TLSConfiguration) -> Void = { _ in }
    ) throws -> (server: Recorder, client: Recorder) {
        let listener = try LoopbackServer(
            group: group, context: try fixture.context(.server, server, trust: serverTrust),
            mode: .record, greeting: "server secret")
        defer { try? listener.stop() }
        let clientContext = try fixture.context(.client, client, adjust: adjust)
        let clientView = try runClient(group: group, port: listener.port, context: clientContext, greeting: "client secret")
        let serverView = try listener.closedConnection(1).recorder
        return (serverView, clientView)
    }

    func expectNothingCrossed(_ views: (server: Recorder, client: Recorder)) {
        #expect(views.server.received.isEmpty, "the server application received bytes from a refused client")
        #expect(views.client.received.isEmpty, "the refused client received application bytes")
        #expect(views.server.identity == nil)
    }

    @Test func goodPeerIsAcceptedBothWays() throws {
        let listener = try LoopbackServer(group: group, context: try fixture.context(.server, server), mode: .reply("welcome"))
        defer { try? listener.stop() }
        let client = try fixture.pki.node("EU", "brussels-1")
        let view = try runClient(group: group, port: listener.port, context: try fixture.context(.client, client), greeting: "hello")
        let serverView = try listener.closedConnection(1).recorder
        #expect(serverView.received == Array("hello".utf8))
        #expect(serverView.identity?.peer.identity.node == "brussels-1")
        #expect(view.received == Array("welcome".utf8))
        #expect(view.identity?.peer.identity.participant == "JP")
        #expect(view.tlsErrors.isEmpty && serverView.tlsErrors.isEmpty)
    }

    @Test func clientWithoutCertificateIsRefused() throws {
        let views = try exchange(client: try fixture.pki.node("EU", "eu-1")) { $0.omitCertificate = true }
        #expect(views.server.tlsErrors == [.noPeerCertificate])
        expectNothingCrossed(views)
    }

    @Test func clientFromAnUnknownAuthorityIsRefused() throws {
        let stranger = try TestPKI(participants: ["EU"], authorityName: { "\($0) Rogue CA" })
        let views = try exchange(client: try stranger.node("EU", "eu-1"))
        #expect(views.server.tlsErrors == [.peerCertificateRejected(.unknownAuthority(issuer: "CN=EU Rogue CA"))])
        expectNothingCrossed(views)
    }

    @Test func clientFromAnAuthorityForgingOurCAsNameIsRefused() throws {
        let forger = try TestPKI(participants: ["EU"])  // same CA name as the real EU authority, another key
        let views = try exchange(client: try forger.node("EU", "eu-1"))
        guard case .peerCertificateRejected(.badSignature) = views.server.tlsErrors.first else {
            Issue.record("unexpected \(views.server.tlsErrors)")
            return
        }
        expectNothingCrossed(views)
    }

    @Test func clientIssuedByAnotherParticipantsAuthorityIsRefused() throws {
        let views = try exchange(client: try fixture.pki.node("EU", "brussels-1", issuedBy: "US"))
        #expect(views.server.tlsErrors == [.peerCertificateRejected(.issuedByAnotherParticipant(claimed: "EU", issuer: "US"))])
        expectNothingCrossed(views)
    }

    @Test func revokedClientIsRefused() throws {
        let client = try fixture.pki.node("US", "washington-1")
        let views = try exchange(serverTrust: try fixture.pki.trustStore(revoked: ["US": [client.serial]]), client: client)
        #expect(views.server.tlsErrors == [.peerCertificateRejected(.revoked(subject: client.certificate.subject, serial: client.certificate.serialNumber))])
        expectNothingCrossed(views)
    }

    @Test func expiredClientIsRefused() throws {
        let client = try fixture.pki.node("EU", "eu-2", notBefore: Date(timeIntervalSinceNow: -7200), notAfter: Date(timeIntervalSinceNow: -60))
        let views = try exchange(client: client)
        guard case .peerCertificateRejected(.expired) = views.server.tlsErrors.first else {
            Issue.record("unexpected \(views.server.tlsErrors)")
            return
        }
        expectNothingCrossed(views)
    }

    @Test func tls12OnlyClientIsRefused() throws {
        let views = try exchange(client: try fixture.pki.node("EU", "eu-1")) { $0.versions = 0x0303...0x0303 }
        guard case .protocolVersionRefused = views.server.tlsErrors.first else {
            Issue.record("unexpected \(views.server.tlsErrors)")
            return
        }
        expectNothingCrossed(views)
    }

    @Test func clientOfferingAnotherProtocolIsRefused() throws {
        let views = try exchange(client: try fixture.pki.node("EU", "eu-1")) { $0.offeredProtocolsOverride = ["http/1.1"] }
        #expect(views.server.tlsErrors == [.applicationProtocolMismatch(selected: nil)])
        expectNothingCrossed(views)
    }

    @Test func clientRefusesAServerItCannotTrust() throws {
        let stranger = try TestPKI(participants: ["JP"])
        let impostor = try stranger.node("JP", "tokyo-1")
        let listener = try LoopbackServer(
            group: group,
            context: try TLSContext(
                configuration: TLSConfiguration(
                    role: .server, certificateChain: [impostor.certificate], privateKey: impostor.key, trustStore: fixture.trust)),
            mode: .record, greeting: "server secret")
        defer { try? listener.stop() }
        let view = try runClient(
            group: group, port: listener.port, context: try fixture.context(.client, try fixture.pki.node("EU", "eu-1")),
            greeting: "client secret")
        let serverView = try listener.closedConnection(1).recorder
        // The stranger's CA carries the real JP CA's name, but not its key.
        #expect(view.tlsErrors == [.peerCertificateRejected(.badSignature(subject: "CN=JP tokyo-1"))])
        #expect(view.identity == nil)
        #expect(view.received.isEmpty && serverView.received.isEmpty)
    }

    /// Garbage instead of a ClientHello, and a connection that says nothing, are closed within the
    /// time-out, and the server goes on accepting good peers.
    @Test func garbageAndSilentConnectionsAreClosedAndServingContinues() throws {
        let listener = try LoopbackServer(group: group, context: try fixture.context(.server, server, timeout: .seconds(1)), mode: .reply("ok"))
        defer { try? listener.stop() }

        let garbage = try ClientBootstrap(group: group).connect(host: "127.0.0.1", port: listener.port).wait()
        try garbage.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).wait()
        try garbage.closeFuture.wait()  // the server hung up on us
        let first = try listener.closedConnection(1).recorder
        guard case .malformedRecord = first.tlsErrors.first else {
            Issue.record("unexpected \(first.tlsErrors)")
            return
        }

        let silent = try ClientBootstrap(group: group).connect(host: "127.0.0.1", port: listener.port).wait()
        try silent.closeFuture.wait()
        let second = try listener.closedConnection(2).recorder
        #expect(second.tlsErrors == [.handshakeTimedOut(.seconds(1))])

        let view = try runClient(group: group, port: listener.port, context: try fixture.context(.client, try fixture.pki.node("US", "us-1")), greeting: "hi")
        #expect(view.received == Array("ok".utf8))
    }
}
