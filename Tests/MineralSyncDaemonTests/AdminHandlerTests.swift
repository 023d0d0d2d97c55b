import AdminAPI
import Foundation
import HTTPServing
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NodeTestSupport
import OpenSSLCrypto
import Registry
import SyncNode
import TestSupport
import Testing

@testable import MineralSyncDaemon

/// The admin API's router and handlers, in process: a real engine and store behind them, the
/// requests as the HTTP server hands them over. (The daemon tests drive the same API through
/// the socket and `mineralctl`.)
@Suite struct AdminHandlerTests {
    let local: InProcessNode
    let service: AdminService
    var engine: SyncEngine { local.engine }

    init() throws {
        local = try InProcessNode("EU", "eu-1", pki: try TestPKI(), group: MultiThreadedEventLoopGroup.singleton, logLevel: .critical)
        var logger = Logger(label: "test.admin")
        logger.logLevel = .critical
        service = AdminService(
            engine: local.engine, node: local.node, catalogue: .standard, startedAt: Date(), certificateExpiry: { Date() },
            configuredPeers: { 0 }, logger: logger)
    }

    /// A request as the server hands it to the service, and the answer's status and body.
    func call(_ method: HTTPMethod, _ target: String, _ body: String? = nil) async -> (status: Int, body: Data) {
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: target)
        let response = await service.handle(HTTPRequest(head: head, body: ByteBuffer(string: body ?? "")))
        guard case .full(let buffer) = response.body else { return (Int(response.status.code), Data()) }
        return (Int(response.status.code), Data(buffer.readableBytesView))
    }

    func error(_ body: Data) -> ErrorResponse? { try? AdminJSON.decoder.decode(ErrorResponse.self, from: body) }

    @Test func everyEndpointOfTheTableIsServedAndNothingElse() async {
        #expect(service.router.unserved.isEmpty)
        #expect(Set(AdminAPI.all).count == AdminAPI.all.count, "an endpoint listed twice")
        let unknown = await call(.GET, "/v1/nothing-here")
        #expect(unknown.status == 404)
        #expect(error(unknown.body)?.error == "not-found")
        let outside = await call(.GET, "/status")
        #expect(error(outside.body)?.message.contains("under /v1/") == true)
    }

    @Test func aPathOfTheTableWithAnotherMethodIsRefusedNamingTheAllowedOnes() async {
        let wrong = await call(.DELETE, "/v1/reserves")
        #expect(wrong.status == 405)
        #expect(error(wrong.body)?.message.contains("allowed: GET, POST") == true)
        let put = await call(.PUT, "/v1/alerts/0123456789abcdef/ack")
        #expect(put.status == 405)
        #expect(error(put.body)?.message.contains("allowed: POST") == true)
    }

    @Test func aQueryParameterTheEndpointDoesNotReadIsRefused() async {
        let typo = await call(.GET, "/v1/alerts?minseverity=high")
        #expect(typo.status == 400)
        #expect(error(typo.body)?.message.contains("unknown query parameter \"minseverity\"") == true)
        #expect(error(typo.body)?.message.contains("minSeverity") == true)
        let none = await call(.GET, "/v1/status?verbose=1")
        #expect(none.status == 400)
        #expect(await call(.GET, "/v1/alerts?minSeverity=high").status == 200)
    }

    @Test func watchTakesOneKindOfChangeOrAllAndRefusesAnyOther() async {
        #expect(await call(.GET, "/v1/watch?type=alert").status == 200)
        #expect(await call(.GET, "/v1/watch").status == 200)
        let bogus = await call(.GET, "/v1/watch?type=everything")
        #expect(bogus.status == 400)
        #expect(error(bogus.body)?.message == "type \"everything\" must be alert or reserve")
        let unknown = await call(.GET, "/v1/watch?since=1")
        #expect(error(unknown.body)?.message.contains("unknown query parameter \"since\"") == true)
    }

    @Test func aBadBodyIsRefusedNamingWhatIsWrongAndWritesNothing() async throws {
        let notJSON = await call(.POST, "/v1/reserves", "{not json")
        #expect(notJSON.status == 400)
        #expect(error(notJSON.body)?.message == "the request body is not valid JSON")
        let missing = await call(.POST, "/v1/reserves", #"{"mineral":"gallium"}"#)
        #expect(error(missing.body)?.message == "the request body lacks \"quantity\"")
        let wrongType = await call(.POST, "/v1/reserves", #"{"mineral":"gallium","quantity":5}"#)
        #expect(error(wrongType.body)?.message.contains("wrong type at quantity") == true)
        let unknownMineral = await call(.POST, "/v1/reserves", #"{"mineral":"unobtainium","quantity":"5"}"#)
        #expect(unknownMineral.status == 400)
        #expect(error(unknownMineral.body)?.message.contains("unobtainium") == true)
        #expect(engine.snapshot.vector.total == 0)
    }

    @Test func writesAnswerCreatedAndReadsShowThemAtOnce() async throws {
        let written = await call(.POST, "/v1/reserves", #"{"mineral":"gallium","quantity":"48.5","site":"Rotterdam"}"#)
        #expect(written.status == 201)
        let entry = try AdminJSON.decoder.decode(WriteResponse.self, from: written.body)
        #expect(entry.seq == 1)
        let reserves = try AdminJSON.decoder.decode([ReserveItem].self, from: await call(.GET, "/v1/reserves?participant=EU").body)
        #expect(reserves.map(\.quantity) == ["48.5"])
        let status = try AdminJSON.decoder.decode(StatusResponse.self, from: await call(.GET, "/v1/status").body)
        #expect(status.entries == 1)
        #expect(status.viewDigest == (await engine.views.digest.hex))

        // An alert, acknowledged by a prefix of its id given percent-encoded.
        let raised = try AdminJSON.decoder.decode(
            WriteResponse.self,
            from: await call(
                .POST, "/v1/alerts", #"{"mineral":"gallium","severity":"high","category":"export-restriction","summary":"licences"}"#
            ).body)
        let prefix = String(raised.id.prefix(10)).map { "%\(String($0.asciiValue!, radix: 16))" }.joined()
        #expect(await call(.POST, "/v1/alerts/\(prefix)/ack").status == 201)
        let alert = try AdminJSON.decoder.decode(AlertItem.self, from: await call(.GET, "/v1/alerts/\(raised.id.prefix(12))").body)
        #expect(alert.acknowledgedBy == ["EU"])
        let unresolved = await call(.POST, "/v1/alerts/\(raised.id)/resolve", #"{"note":"  "}"#)
        #expect(unresolved.status == 400)
        #expect(await call(.GET, "/v1/alerts/ffffffffffff").status == 404)
    }

    @Test func syncWithoutPeersSaysSoAndAWaitForAPeerThatNeverConnectsEndsAtItsTimeOut() async throws {
        let alone = await call(.POST, "/v1/sync", #"{"wait":true}"#)
        #expect(alone.status == 409)
        #expect(error(alone.body)?.message.contains("no peer is connected") == true)
        let started = ContinuousClock.now
        let named = await call(.POST, "/v1/sync", #"{"wait":true,"peer":"US/us-1","timeoutSeconds":0.3}"#)
        #expect(named.status == 409)
        #expect(error(named.body)?.message == "US/us-1 is not connected (see `mineralctl peers`)")
        #expect(ContinuousClock.now - started >= .milliseconds(300), "answered before its time-out")
        let badPeer = await call(.POST, "/v1/sync", #"{"peer":"nobody"}"#)
        #expect(error(badPeer.body)?.message == "peer \"nobody\" must be a node such as EU/eu-1")
    }
}

/// The route table's paths, as the client renders them and the router matches them.
@Suite struct AdminPathTests {
    @Test func parametersAreFilledInEscapedAndMatchedBack() {
        let path: AdminPath = "/v1/alerts/{id}/ack"
        #expect(path.description == "/v1/alerts/{id}/ack")
        #expect(AdminAPI.acknowledgeAlert.target(["id": "ab cd/ef"]) == "/v1/alerts/ab%20cd%2Fef/ack")
        #expect(path.match(["v1", "alerts", "abcdef01", "ack"]) == ["id": "abcdef01"])
        #expect(path.match(["v1", "alerts", "abcdef01"]) == nil)
        #expect(path.match(["v1", "alerts", "", "ack"]) == nil)
        #expect(AdminAPI.alerts.target(query: [("open", nil), ("mineral", "rare earth&co")]) == "/v1/alerts?mineral=rare%20earth%26co")
    }
}
