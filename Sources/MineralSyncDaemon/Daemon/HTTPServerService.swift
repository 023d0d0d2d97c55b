import HTTPServing
import NIOCore
import ServiceLifecycle

/// A bound HTTP server (the admin socket, the metrics endpoint) as a service: it serves until
/// graceful shutdown closes it, and a server that closes by itself stops the node gracefully.
struct HTTPServerService: Service {
    let channel: any Channel

    func run() async throws {
        let channel = channel
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}
