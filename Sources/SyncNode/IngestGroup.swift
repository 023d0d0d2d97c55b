import NIOConcurrencyHelpers
import Registry
import SyncProtocol

/// Frames of entries from one peer that reach the engine together. While the session's earlier
/// calls run, the frames that arrive join the group queued behind them, and when its turn comes
/// the engine takes them as one batch: one transaction (one fsync), one publication, one offer
/// to every other session, where each frame would cost its own. A peer streaming a catch-up
/// keeps the engine busy with batches that grow as the engine falls behind; a lone push is a
/// group of one and waits for nothing.
///
/// Each frame is decoded as soon as it arrives (`Frame`); the group's call awaits the decoded
/// frames in the order they came.
/// A frame joins only the group queued last (the session closes it to later frames as soon as
/// it queues any other call), so the engine still sees everything in the order the peer sent it.
final class IngestGroup: Sendable {
    /// Frames one group takes at most.
    let maximumFrames: Int
    /// Entries one group takes at most, but for its first frame (which may be larger): a peer's
    /// large frames stay one engine call each, so that the entries other peers send are not
    /// held up behind one long call; catch-up batches (500 entries) still join by four.
    let maximumEntries: Int
    static let defaultMaximumEntries = 2_000
    private let state = NIOLockedValueBox(State())

    private struct State {
        var frames: [Frame] = []
        var certificates: [OriginCertificate] = []
        var entries = 0
        var begun = false
    }

    /// A frame of entries, decoded as it arrives: a few entries (a push) where it arrives, more
    /// on a task of its own, beside the engine's work rather than before it.
    struct Frame: Sendable {
        /// Entries the peer sent (those that do not decode included).
        let entries: Int
        private let decoding: Decoding

        private enum Decoding: Sendable {
            case done(ReceivedBatch)
            case running(Task<ReceivedBatch, Never>)
        }

        /// At most this many entries are decoded where the frame arrives: a push of a few costs
        /// less to decode than a task costs to start and to be waited for (alert propagation,
        /// `mineral-bench sync`).
        static let mostDecodedInPlace = 8

        init(_ entries: [SignedEntry]) {
            self.entries = entries.count
            decoding = entries.count <= Self.mostDecodedInPlace ? .done(ReceivedBatch(decoding: entries)) : .running(Task { ReceivedBatch(decoding: entries) })
        }

        /// Whether it was decoded where it arrived.
        var wasDecodedInPlace: Bool {
            if case .done = decoding { true } else { false }
        }

        var batch: ReceivedBatch {
            get async {
                switch decoding {
                case .done(let batch): batch
                case .running(let task): await task.value
                }
            }
        }
    }

    /// What the group holds when its turn comes.
    struct Joined: Sendable {
        let batch: ReceivedBatch
        let certificates: [OriginCertificate]
        let frames: Int
        /// Entries the peer sent (those that do not decode included).
        let entries: Int
    }

    init(maximumFrames: Int, maximumEntries: Int = IngestGroup.defaultMaximumEntries) {
        self.maximumFrames = maximumFrames
        self.maximumEntries = maximumEntries
    }

    /// Adds a frame; false when the group's turn came, or it is full (in frames, or in entries
    /// with this frame): the frame then starts a group of its own.
    func join(_ frame: Frame, certificates: [OriginCertificate]) -> Bool {
        state.withLockedValue { state in
            guard !state.begun, state.frames.count < maximumFrames,
                state.frames.isEmpty || state.entries + frame.entries <= maximumEntries
            else { return false }
            state.frames.append(frame)
            state.certificates += certificates
            state.entries += frame.entries
            return true
        }
    }

    /// The group's turn: no frame joins it any more. Its frames decoded, as one batch.
    func begin() async -> Joined {
        let taken = state.withLockedValue { state in
            state.begun = true
            return state
        }
        var batches: [ReceivedBatch] = []
        batches.reserveCapacity(taken.frames.count)
        for frame in taken.frames { batches.append(await frame.batch) }
        return Joined(batch: ReceivedBatch(joining: batches), certificates: taken.certificates, frames: taken.frames.count, entries: taken.entries)
    }
}
