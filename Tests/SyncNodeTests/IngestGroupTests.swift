import Registry
import TestSupport
import Testing

@testable import SyncNode

/// Frames that arrive while the session's earlier calls run reach the engine as one batch, in
/// the order they came, until the group's turn comes or it is full.
@Suite struct IngestGroupTests {
    func frames(_ count: Int, of size: Int) -> [[SignedEntry]] {
        var author = TestAlliance.standard.author("EU/eu-1")
        let entries = (0..<count * size).map { author.write(Ops.report("EU", "gallium", "\($0)"), at: 1_000 + UInt64($0)) }
        return stride(from: 0, to: entries.count, by: size).map { entries[$0..<$0 + size].map(\.signed) }
    }

    @Test func framesJoinInOrderUntilTheGroupIsFull() async {
        let group = IngestGroup(maximumFrames: 3)
        let sent = frames(4, of: 5)
        #expect(group.join(.init(sent[0]), certificates: []))
        #expect(group.join(.init(sent[1]), certificates: []))
        #expect(group.join(.init(sent[2]), certificates: []))
        #expect(!group.join(.init(sent[3]), certificates: []), "full: the fourth frame starts a group of its own")
        let joined = await group.begin()
        #expect(joined.frames == 3)
        #expect(joined.entries == 15)
        #expect(joined.batch.entries.map(\.seq) == Array(1...15))
    }

    /// A push of a few entries is decoded where it arrives, more on a task; joined, they keep
    /// the order they came in.
    @Test func smallFramesAreDecodedInPlaceLargeOnesOnATaskInOrder() async {
        let sent = frames(3, of: 12)
        let small = Array(sent[1].prefix(IngestGroup.Frame.mostDecodedInPlace))
        #expect(IngestGroup.Frame(small).wasDecodedInPlace)
        #expect(!IngestGroup.Frame(sent[0]).wasDecodedInPlace)
        let group = IngestGroup(maximumFrames: 4)
        #expect(group.join(.init(sent[0]), certificates: []))
        #expect(group.join(.init(small), certificates: []))
        #expect(group.join(.init(Array(sent[1].dropFirst(small.count)) + sent[2]), certificates: []))
        let joined = await group.begin()
        #expect(joined.entries == 36)
        #expect(joined.batch.entries.map(\.seq) == Array(1...36))
    }

    @Test func noFrameJoinsOnceTheGroupsTurnCame() async {
        let group = IngestGroup(maximumFrames: 8)
        let sent = frames(2, of: 3)
        #expect(group.join(.init(sent[0]), certificates: []))
        let joined = await group.begin()
        #expect(!group.join(.init(sent[1]), certificates: []), "it would never reach the engine")
        #expect(joined.batch.entries.map(\.seq) == [1, 2, 3])
    }

    @Test func whatDoesNotDecodeIsCountedAndKept() async {
        let group = IngestGroup(maximumFrames: 4)
        #expect(group.join(.init([SignedEntry(body: [0xFF], signature: [1])]), certificates: []))
        #expect(group.join(.init(frames(1, of: 2)[0]), certificates: []))
        let joined = await group.begin()
        #expect(joined.entries == 3)
        #expect(joined.batch.entries.count == 2)
        #expect(joined.batch.malformed.count == 1)
    }

    /// A peer's large frames stay one engine call each; small ones join up to the bound.
    @Test func aGroupTakesAtMostItsEntriesButAlwaysItsFirstFrame() async {
        let group = IngestGroup(maximumFrames: 8, maximumEntries: 10)
        let sent = frames(3, of: 6)
        #expect(group.join(.init(sent[0] + sent[1]), certificates: []), "the first frame, however large")
        #expect(!group.join(.init(sent[2]), certificates: []))
        let small = IngestGroup(maximumFrames: 8, maximumEntries: 10)
        #expect(small.join(.init(Array(sent[0].prefix(4))), certificates: []))
        #expect(small.join(.init(sent[1]), certificates: []), "10 entries: at the bound")
        #expect(!small.join(.init(Array(sent[2].prefix(1))), certificates: []))
        #expect(await small.begin().entries == 10)
    }
}
