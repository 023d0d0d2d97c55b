import OpenSSLCrypto
@_spi(Testing) import Registry
import TestSupport
import Testing

/// The views' seen-set against `Set<EntryID>` as the model, over random ids, repeats, ids that
/// share their first 64 bits (so they always land on the same slot), and the all-zero id.
@Suite struct EntryIDSetTests {
    static func id(_ words: (UInt64, UInt64, UInt64, UInt64)) -> EntryID {
        var bytes: [UInt8] = []
        for word in [words.0, words.1, words.2, words.3] { withUnsafeBytes(of: word.bigEndian) { bytes += $0 } }
        return EntryID(bytes: bytes)!
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func behavesAsASetOfIDs(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var set = EntryIDSet()
        var model = Set<EntryID>()
        var inserted: [EntryID] = []
        for step in 0..<20_000 {
            let id: EntryID
            switch Int.random(in: 0..<10, using: &random) {
            case 0 where !inserted.isEmpty:
                id = inserted.randomElement(using: &random)!  // a repeat
            case 1:
                id = Self.id((42, 0, 0, UInt64.random(in: 0...300, using: &random)))  // same first word
            case 2:
                id = .zero
            default:
                id = Self.id((random.next(), random.next(), random.next(), random.next()))
            }
            let added = set.insert(id)
            #expect(added == model.insert(id).inserted, "step \(step)")
            inserted.append(id)
            if step % 97 == 0 {
                let probe = Self.id((random.next(), 1, 2, 3))
                #expect(set.contains(probe) == model.contains(probe))
            }
        }
        #expect(set.count == model.count)
        #expect(model.allSatisfy { set.contains($0) })
        #expect(set.capacity >= set.count)
    }

    @Test func reservingKeepsWhatIsThereAndDoesNotShrink() {
        var set = EntryIDSet()
        let ids = (1...100).map { Self.id((UInt64($0), 0, 0, 0)) }
        for id in ids { set.insert(id) }
        set.reserveCapacity(10_000)
        #expect(set.capacity >= 10_000)
        set.reserveCapacity(10)
        #expect(set.capacity >= 10_000)
        #expect(ids.allSatisfy { set.contains($0) })
        let again = set.insert(ids[7])
        #expect(!again)
        #expect(set.count == 100)
    }
}
