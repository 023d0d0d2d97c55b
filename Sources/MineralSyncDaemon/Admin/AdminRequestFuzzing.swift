import AdminAPI
import HTTPServing
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// For the libFuzzer target in `Fuzz/`: raw bytes from an admin socket client, through the
/// server's HTTP/1.1 parsing, the request's path and query, and every request body type the
/// routes decode. Nothing here may crash, whatever the bytes.
@_spi(Fuzzing) public enum AdminRequestFuzzing {
    public static func exercise(_ bytes: [UInt8], maximumBodyBytes: Int = 4 << 20) {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        guard (try? channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))) != nil else { return }
        do { try channel.writeInbound(ByteBuffer(bytes: bytes)) } catch { return }
        var head: HTTPRequestHead?
        var body = ByteBuffer()
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let next):
                head = next
                body.clear()
            case .body(var chunk):
                guard body.readableBytes + chunk.readableBytes <= maximumBodyBytes else { return }
                body.writeBuffer(&chunk)
            case .end:
                guard let head else { continue }
                let request = HTTPRequest(head: head, body: body)
                _ = request.path.split(separator: "/", omittingEmptySubsequences: true)
                _ = try? AdminCall.decode(ReserveReportRequest.self, request)
                _ = try? AdminCall.decode(ReserveImportRequest.self, request)
                _ = try? AdminCall.decode(TargetRequest.self, request)
                _ = try? AdminCall.decode(AlertRaiseRequest.self, request)
                _ = try? AdminCall.decode(AlertUpdateRequest.self, request)
                _ = try? AdminCall.decode(NoteRequest.self, request, emptyAllowed: true)
                _ = try? AdminCall.decode(SyncRequest.self, request, emptyAllowed: true)
            }
        }
    }
}
