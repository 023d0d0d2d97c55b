import AdminAPI
import Registry
import SyncNode

/// `feeds/cut`: another node of this participant ends at its last genuine entry (a stolen key).
struct FeedHandler: Sendable {
    let engine: SyncEngine

    func register(in router: inout AdminRouter) {
        router.on(AdminAPI.cutFeed) { _, body in try await cut(body) }
    }

    private func cut(_ body: FeedCutRequest) async throws(AdminFailure) -> WriteResponse {
        guard let feed = try? NodeID(body.feed) else {
            throw .validation("feed \"\(body.feed)\" must be a node such as EU/eu-1 (or one segment of it, EU/eu-1@7)")
        }
        do {
            // A reason beyond its limit is refused by the draft's read-back, like every field.
            let entry = try await engine.cut(feed, at: body.seq, reason: body.reason ?? "")
            return WriteResponse(id: entry.id.hex, seq: entry.seq)
        } catch {
            throw .refused(error)
        }
    }
}
