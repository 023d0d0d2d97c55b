import Registry
import TestSupport
import Testing

@testable import SyncNode

@Suite struct StreamQueueTests {
    let eu = TestAlliance.standard.node("EU/eu-1"), us = TestAlliance.standard.node("US/us-1")

    @Test func theSameRangeQueuedTwiceIsStreamedOnce() {
        var queue = StreamQueue()
        for _ in 0..<1_000 { queue.add(eu, 1...500) }
        #expect(queue.count == 500)
        queue.add(eu, 400...700)  // overlapping
        queue.add(eu, 701...710)  // touching
        queue.add(eu, 900...910)  // apart
        queue.add(us, 1...3)
        #expect(queue.count == 710 + 11 + 3)
        #expect(queue.first! == (eu, 1...710))
        queue.consume(eu, through: 200)
        #expect(queue.first! == (eu, 201...710))
        queue.add(eu, 1...300)  // asked again for what was partly sent: merged, not appended
        #expect(queue.first! == (eu, 1...710))
        queue.consume(eu, through: 710)
        #expect(queue.first! == (eu, 900...910))
        queue.consume(eu, through: 910)
        #expect(queue.first! == (us, 1...3))
        queue.consume(us, through: 3)
        #expect(queue.isEmpty && queue.first == nil && queue.count == 0)
    }

    /// The store is read off the event loop: a batch read for the first range is sent only if
    /// the queue still asks for all of it when the read completes.
    @Test func aBatchIsTakenOnlyIfTheQueueStillAsksForAllOfIt() {
        var queue = StreamQueue()
        var taken: Bool
        queue.add(eu, 1...100)
        taken = queue.take(read: 50, of: eu, in: 1...100)
        #expect(taken)
        #expect(queue.first! == (eu, 51...100))
        // The range grew during the read (entries committed meanwhile): still asked for.
        queue.add(eu, 101...120)
        taken = queue.take(read: 50, of: eu, in: 51...100)
        #expect(taken)
        #expect(queue.first! == (eu, 101...120))
        // Asked again for entries before the range during the read: the batch is not taken
        // (sending it would skip them); the queue is read again from its new start.
        queue.add(eu, 90...100)
        taken = queue.take(read: 20, of: eu, in: 101...120)
        #expect(!taken)
        #expect(queue.first! == (eu, 90...120))
        // The range shrank (a read of more than is now asked for): not taken either.
        taken = queue.take(read: 31, of: eu, in: 90...121)
        #expect(!taken)
        // Another feed first, or nothing queued: not taken.
        taken = queue.take(read: 3, of: us, in: 90...92)
        #expect(!taken)
        // An empty batch (the entries are gone) consumes the whole range read.
        taken = queue.take(read: 0, of: eu, in: 90...120)
        #expect(taken)
        #expect(queue.isEmpty)
        taken = queue.take(read: 1, of: eu, in: 1...1)
        #expect(!taken)
    }
}
