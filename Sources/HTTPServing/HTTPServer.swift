import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server: the daemon's admin socket and metrics endpoint, and
/// `mineralctl dashboard`. One request per connection; a response may stream.
public enum HTTPServer {
    public enum Endpoint: Sendable, CustomStringConvertible {
        case unixSocket(path: String, mode: Int)
        case tcp(host: String, port: Int)

        public var description: String {
            switch self {
            case .unixSocket(let path, _): path
            case .tcp(let host, let port): "\(host):\(port)"
            }
        }
    }

    /// The socket file's mode could not be set: the server is closed again.
    public struct SocketModeError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { reason }
    }

    public static func start(
        _ endpoint: Endpoint, group: any EventLoopGroup, maximumBodyBytes: Int,
        handler: @escaping HTTPServerHandler.Handler
    ) async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPServerHandler(maximumBodyBytes: maximumBodyBytes, handler: handler))
                }
            }
        switch endpoint {
        case .unixSocket(let path, let mode):
            let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            guard chmod(path, mode_t(mode)) == 0 else {
                try? await channel.close()
                throw SocketModeError(path: path, reason: "cannot set mode \(String(mode, radix: 8)): \(String(cString: strerror(errno)))")
            }
            return channel
        case .tcp(let host, let port):
            return try await bootstrap.serverChannelOption(.socketOption(.so_reuseaddr), value: 1).bind(host: host, port: port).get()
        }
    }

    /// "Address already in use" rather than NIO's type dump.
    public static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return "\(String(cString: strerror(io.errnoCode))) (\(io.errnoCode))" }
        return "\(error)"
    }
}
