import Registry
import TestSupport
import Testing

/// `ReserveKey` hashes its ASCII keys in one call to the hasher; it must stay a lawful
/// `Hashable`: equal keys hash equally, including sites that are equal only canonically.
@Suite struct ReserveKeyTests {
    static func reference(_ key: ReserveKey) -> Int {
        var hasher = Hasher()
        hasher.combine(key.participant.rawValue)
        hasher.combine(key.mineral.rawValue)
        hasher.combine(key.site)
        return hasher.finalize()
    }

    @Test func asciiKeysHashAsTheirThreeStringsWould() throws {
        var random = SplitMix64(seed: 11)
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789 -/_.ABCXYZ")
        for _ in 0..<2_000 {
            let site = String((0..<Int(random.next() % 40)).map { _ in letters[Int(random.next() % UInt64(letters.count))] })
            let key = ReserveKey(
                participant: ["EU", "US", "JP", "KR7"][Int(random.next() % 4)],
                mineral: try MineralID(["gallium", "rare-earth-magnets", "tin"][Int(random.next() % 3)]), site: site)
            #expect(key.hashValue == Self.reference(key))
        }
    }

    @Test(arguments: [("K", "\u{212A}"), ("Qu\u{E9}bec", "Que\u{301}bec"), ("\u{212B}", "\u{C5}"), ("\u{C5}ngstr\u{F6}m", "A\u{30A}ngstro\u{308}m")])
    func canonicallyEqualSitesAreOneKey(_ a: String, _ b: String) throws {
        #expect(Array(a.unicodeScalars) != Array(b.unicodeScalars), "the two spellings must differ in their scalars")
        let gallium = try MineralID("gallium")
        let first = ReserveKey(participant: "EU", mineral: gallium, site: a)
        let second = ReserveKey(participant: "EU", mineral: gallium, site: b)
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(Set([first, second]).count == 1)
    }

    /// Only canonical equivalence joins sites: compatibility forms ("ﬁ" and "fi", full-width
    /// digits) and case are different places.
    @Test(arguments: [("\u{FB01}eld", "field"), ("Depot \u{FF11}", "Depot 1"), ("rotterdam", "Rotterdam")])
    func sitesEqualOnlyByCompatibilityOrCaseAreDifferentKeys(_ a: String, _ b: String) throws {
        let gallium = try MineralID("gallium")
        let first = ReserveKey(participant: "EU", mineral: gallium, site: a)
        let second = ReserveKey(participant: "EU", mineral: gallium, site: b)
        #expect(first != second)
        #expect(Set([first, second]).count == 2)
    }

    /// Reports whose sites are spelled differently but equal canonically go to one register, and
    /// the views (digest included) do not depend on which spelling arrived first.
    @Test(arguments: [("K", "\u{212A}"), ("Qu\u{E9}bec", "Que\u{301}bec")])
    func canonicallyEqualSpellingsFoldToOneRegisterInAnyOrder(_ a: String, _ b: String) throws {
        let alliance = TestAlliance.standard
        var eu1 = alliance.author("EU/eu-1")
        var eu2 = alliance.author("EU/eu-2")
        let first = eu1.write(Ops.report("EU", "gallium", "10", site: a), at: 1)
        let second = eu2.write(Ops.report("EU", "gallium", "20", site: b), at: 2)
        var forward = RegistryViews()
        forward.fold([first, second])
        var backward = RegistryViews()
        backward.fold([second, first])
        #expect(forward.reserves.count == 1)
        #expect(forward.digest == backward.digest)
        #expect(forward.reserves == backward.reserves)
    }

    @Test func fieldBoundariesMatter() throws {
        let keys = [
            ReserveKey(participant: "EU", mineral: try MineralID("tin"), site: "x"),
            ReserveKey(participant: "EU", mineral: try MineralID("tinx"), site: ""),
            ReserveKey(participant: "EU", mineral: try MineralID("tin"), site: "")
        ]
        #expect(Set(keys).count == 3)
        #expect(Set(keys.map(\.hashValue)).count == 3)
    }
}
