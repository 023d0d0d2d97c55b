import Foundation
import Registry
import Testing

@Suite struct ValueTests {
    @Test func participantIDsFollowTheRule() throws {
        for good in ["EU", "US", "JP", "KR", "AU2", "ABCDEFGH"] { #expect(try ParticipantID(good).rawValue == good) }
        for bad in ["", "E", "eu", "E-U", "ABCDEFGHI", "É U"] {
            #expect(throws: RegistryValueError.invalidParticipant(bad)) { try ParticipantID(bad) }
        }
    }

    @Test func nodeIDsParseAndPrint() throws {
        let node = try NodeID("EU/brussels-1")
        #expect(node.participant == "EU")
        #expect(node.name == "brussels-1")
        #expect(node.description == "EU/brussels-1")
        for bad in ["EU", "EU/", "EU/Brussels", "EU/-a", "eu/a", "EU/a/b"] {
            #expect(throws: RegistryValueError.self) { try NodeID(bad) }
        }
    }

    @Test func amountsAreCanonicalNonNegativeDecimals() throws {
        #expect(try Amount("1250").text == "1250")
        #expect(try Amount("1250.50").text == "1250.5")
        #expect(try Amount("007").text == "7")
        #expect(try Amount("0.000000001").text == "0.000000001")
        #expect(try Amount("0").text == "0")
        for bad in ["-5", "1e3", "", ".", "abc", "1.2.3", "0.0000000001", "1234567890123456789", "+4"] {
            #expect(throws: RegistryValueError.invalidAmount(bad)) { try Amount(bad) }
        }
        // Entries must carry the canonical form itself.
        for nonCanonical in ["1250.50", "007", "1.0", "0.", ".5"] {
            #expect(throws: RegistryValueError.self) { try Amount(canonical: nonCanonical) }
        }
    }

    @Test func quantitiesParseWithUnits() throws {
        let q = try Quantity(parsing: "1250.5 t")
        #expect(q.amount.text == "1250.5" && q.unit == .tonne)
        #expect(try Quantity(parsing: "300kg").tonnes == Decimal(string: "0.3"))
        #expect(throws: RegistryValueError.self) { try Quantity(parsing: "300 lb") }
        #expect(throws: RegistryValueError.self) { try Quantity(parsing: "-3 t") }
    }

    @Test func severityAndCategoryParse() throws {
        #expect(try Severity(parsing: "critical") == .critical)
        #expect(Severity.low < Severity.high)
        #expect(try AlertCategory(parsing: "export-restriction") == .exportRestriction)
        #expect(throws: RegistryValueError.invalidSeverity("urgent")) { try Severity(parsing: "urgent") }
        #expect(throws: RegistryValueError.invalidCategory("war")) { try AlertCategory(parsing: "war") }
    }

    @Test func catalogueHoldsBothListsAndMagnetsAndIsExtensible() throws {
        let catalogue = MineralCatalogue.standard
        for id in ["gallium", "graphite", "tungsten", "arsenic", "barite", "rare-earth-magnets", "coking-coal", "neodymium", "helium"] {
            #expect(catalogue.contains(try MineralID(id)), "\(id) missing")
        }
        #expect(catalogue.sorted.filter { $0.sources.contains("EU-CRMA-2024") }.count == 34)
        #expect(catalogue.sorted.filter { $0.sources.contains("US-USGS-2022") }.count == 50)
        #expect(try catalogue.resolve("Aluminum").rawValue == "aluminium")
        #expect(throws: RegistryValueError.unknownMineral("unobtainium")) { try catalogue.resolve("unobtainium") }
        let extended = try MineralCatalogue(extensions: [(id: "unobtainium", name: "Unobtainium")])
        #expect(extended.contains(try MineralID("unobtainium")))
        #expect(throws: RegistryValueError.invalidMineral("Bad Id")) { try MineralCatalogue(extensions: [(id: "Bad Id", name: "x")]) }
        // A config cannot rename a listed mineral or claim it for itself.
        let renamed = try MineralCatalogue(extensions: [(id: "gallium", name: "Not gallium")])
        let gallium = try #require(renamed.minerals[try MineralID("gallium")])
        #expect(gallium.name == MineralCatalogue.standard.minerals[try MineralID("gallium")]?.name)
        #expect(gallium.sources == ["EU-CRMA-2024", "US-USGS-2022"])
    }

    /// The HS codes customs and UN Comtrade report trade under, for the alliance's own examples;
    /// every code is a heading (4 digits) or a subheading (6), and every id names a mineral.
    @Test func catalogueKnowsTheHSCodesTradeIsReportedUnder() throws {
        let catalogue = MineralCatalogue.standard
        func codes(_ id: String) throws -> [String] { try #require(catalogue.minerals[try MineralID(id)]).hsCodes }
        #expect(try codes("gallium") == ["8112.92"])
        #expect(try codes("graphite") == ["2504"])
        #expect(try codes("tungsten").first == "2611")
        #expect(try codes("arsenic") == ["2804.80"])
        #expect(try codes("barite") == ["2511.10"])
        #expect(try codes("rare-earth-magnets") == ["8505.11"])
        let form = /^[0-9]{4}(\.[0-9]{2})?$/
        for mineral in catalogue.sorted { for code in mineral.hsCodes { #expect(code.wholeMatch(of: form) != nil, "\(mineral.id): \(code)") } }
        #expect(catalogue.sorted.filter { !$0.hsCodes.isEmpty }.count >= 55)
        #expect(try MineralCatalogue(extensions: [(id: "unobtainium", name: "Unobtainium")]).minerals[try MineralID("unobtainium")]?.hsCodes == [])
    }
}

@Suite struct ClockTests {
    @Test func ticksNeverGoBackwards() {
        var clock = HybridLogicalClock()
        let a = clock.tick(now: 1000)
        let b = clock.tick(now: 1000)
        let c = clock.tick(now: 999)  // wall clock stepped back
        let d = clock.tick(now: 1001)
        #expect(a < b && b < c && c < d)
        #expect(b == HybridTimestamp(wallMillis: 1000, logical: 1))
        #expect(d == HybridTimestamp(wallMillis: 1001, logical: 0))
    }

    @Test func observingOrdersLaterEventsAfterRemoteOnes() {
        var clock = HybridLogicalClock()
        let adopted = clock.observe(HybridTimestamp(wallMillis: 5000, logical: 3), now: 4990)
        #expect(adopted)
        #expect(clock.tick(now: 4991) == HybridTimestamp(wallMillis: 5000, logical: 4))
    }

    @Test func implausibleFutureTimestampsAreNotAdopted() {
        var clock = HybridLogicalClock(maximumForwardDriftMillis: 60_000)
        let adopted = clock.observe(HybridTimestamp(wallMillis: 10_000_000), now: 1000)
        #expect(!adopted)
        #expect(clock.tick(now: 1000) == HybridTimestamp(wallMillis: 1000))
    }
}

@Suite struct VersionVectorTests {
    let eu = try! NodeID("EU/eu-1"), us = try! NodeID("US/us-1"), jp = try! NodeID("JP/jp-1")

    @Test func mergeIsPointwiseMaximum() {
        let a = VersionVector([eu: 3, us: 1])
        let b = VersionVector([us: 4, jp: 2])
        let merged = a.merging(b)
        #expect(merged == VersionVector([eu: 3, us: 4, jp: 2]))
        #expect(merged.dominates(a) && merged.dominates(b))
        #expect(!a.dominates(b))
    }

    @Test func missingNamesExactlyTheLackingRanges() {
        let mine = VersionVector([eu: 3, us: 5])
        let theirs = VersionVector([eu: 7, us: 5, jp: 2])
        #expect(mine.missing(comparedTo: theirs) == [eu: 4...7, jp: 1...2])
        #expect(theirs.missing(comparedTo: mine).isEmpty)
    }
}
