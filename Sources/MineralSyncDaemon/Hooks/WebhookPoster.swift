import NIOCore
import NIOHTTP1
import NIOPosix
import NodeConfig

/// POSTs the event's JSON to the webhook's URL; any 2xx answer is delivered. Headers name the
/// event (`X-MineralSync-Event`, `X-MineralSync-Event-Id`). One connection per event, closed
/// after the answer; the whole exchange, connection included, within the timeout.
struct WebhookPoster: HookDeliverer {
    let address: WebhookAddress
    let group: any EventLoopGroup

    func deliver(_ body: [UInt8], kind: String, id: String, timeout: Duration) async -> HookAttempt {
        let limit = TimeAmount(timeout)
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(limit)
                .connect(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            return .failed("cannot connect to \(address.host):\(address.port): \(WebhookPoster.reason(error))")
        }
        // The deadline closes the connection, which ends the exchange below.
        let deadline = channel.channel.eventLoop.scheduleTask(in: limit) { channel.channel.close(promise: nil) }
        defer { deadline.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: address.target)
                let host = address.host.contains(":") ? "[\(address.host)]" : address.host
                head.headers.add(name: "Host", value: address.port == 80 ? host : "\(host):\(address.port)")
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: "\(body.count)")
                head.headers.add(name: "User-Agent", value: "mineral-syncd")
                head.headers.add(name: "X-MineralSync-Event", value: kind)
                head.headers.add(name: "X-MineralSync-Event-Id", value: id)
                head.headers.add(name: "Connection", value: "close")
                try await outbound.write(.head(head))
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                try await outbound.write(.end(nil))
                var status: HTTPResponseStatus?
                for try await part in inbound {
                    switch part {
                    case .head(let response): status = response.status
                    case .body: continue
                    case .end:
                        guard let status else { return .failed("the endpoint ended its answer without a status") }
                        return (200..<300).contains(status.code) ? .delivered : .failed("the endpoint answered HTTP \(status.code) \(status.reasonPhrase)")
                    }
                }
                if let status, (200..<300).contains(status.code) { return .delivered }
                return .failed(
                    status.map { "the endpoint answered HTTP \($0.code)" } ?? "no answer within \(timeout.shortText), or the connection closed first")
            }
        } catch {
            return .failed("the exchange failed: \(WebhookPoster.reason(error))")
        }
    }

    static func reason(_ error: any Error) -> String {
        (error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(error)"
    }
}
