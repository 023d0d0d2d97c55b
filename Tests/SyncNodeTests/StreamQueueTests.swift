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
}
