import Foundation
import Registry
import TestSupport
import Testing

/// A reserve report's form, basis and withheld figure: written and read alike by both readers,
/// refused where malformed, read on what this version knows when a later one adds more, and
/// left out of levels and totals when withheld.
@Suite struct ReserveDetailsTests {
    let alliance = TestAlliance.standard

    static func report(
        _ participant: ParticipantID, _ mineral: String = "gallium", _ amount: String = "100", site: String = "", form: String = "",
        basis: ReserveBasis? = nil, withheld: String? = nil
    ) -> EntryOperation {
        .reportReserve(
            ReserveReport(
                participant: participant, mineral: try! MineralID(mineral), site: site,
                quantity: withheld == nil ? Quantity(amount: try! Amount(amount), unit: .tonne) : ReserveReport.withheldQuantity,
                asOfMillis: 1_000, form: form, basis: basis, withheld: withheld))
    }

    @Test func formBasisAndWithheldFiguresReadTheSameThroughBothReaders() throws {
        var author = alliance.author("EU/eu-1")
        let operations = [
            Self.report("EU", form: "metal", basis: .contained), Self.report("EU", form: "concentrate", basis: .gross, withheld: nil),
            Self.report("EU", withheld: "national security"), Self.report("EU", site: "Rotterdam", form: "oxide", withheld: "commercial"),
            Self.report("EU", basis: .gross),
            .setConsumption(
                ReserveConsumption(participant: "EU", mineral: try MineralID("gallium"), quantity: Quantity(amount: try Amount("365"), unit: .tonne)))
        ]
        for operation in operations {
            let entry = author.write(operation, at: 1_000)
            let fast = try EntryCodec.decode(entry.signed)
            let reference = try EntryCodec.decodeWithGeneratedCode(entry.signed)
            EntryBodyReaderTests.assertSameReading(fast, reference)
            if case .setConsumption(let written) = operation {
                #expect(fast.operation == .setConsumption(written))
                continue
            }
            guard case .reportReserve(let read) = fast.operation, case .reportReserve(let written) = operation else {
                Issue.record("\(fast)")
                continue
            }
            #expect(read.form == written.form && read.basis == written.basis && read.withheld == written.withheld && read.quantity == written.quantity)
        }
    }

    @Test func aWithheldFigureWithAQuantityABadFormOrNeitherQuantityNorReasonIsMalformed() throws {
        let author = alliance.author("EU/eu-1")
        for (entry, reason) in [
            (try HandcraftedEntries.report(withheld: "secret", by: author, now: 1_000).0, "a withheld figure carries no quantity"),
            (try HandcraftedEntries.report(form: "Metal Bars", by: author, now: 1_000).0, "form \"Metal Bars\" must be 1–32"),
            (try HandcraftedEntries.report(amount: nil, by: author, now: 1_000).0, "quantity must not be empty")
        ] {
            for read in [try EntryCodec.decode(entry.signed), try EntryCodec.decodeWithGeneratedCode(entry.signed)] {
                guard case .malformed(let text) = read.operation else {
                    Issue.record("\(reason): read as \(read.operation)")
                    continue
                }
                #expect(text.hasPrefix(reason), "\(text)")
            }
        }
    }

    /// A later version's report (a basis this one does not know, a field it does not know) is
    /// read, kept and folded on what this one knows.
    @Test func aReportWithWhatALaterVersionAddsIsFoldedOnWhatThisOneKnows() throws {
        let author = alliance.author("EU/eu-1")
        let (entry, _) = try HandcraftedEntries.report(form: "metal", amount: "7", basis: 9, unknownField: 11, by: author, now: 1_000)
        for read in [try EntryCodec.decode(entry.signed), try EntryCodec.decodeWithGeneratedCode(entry.signed)] {
            guard case .reportReserve(let report) = read.operation else {
                Issue.record("\(read.operation)")
                continue
            }
            #expect(report.quantity.amount.text == "7" && report.form == "metal" && report.basis == nil && report.withheld == nil)
        }
        var views = RegistryViews()
        views.fold(try EntryCodec.decode(entry.signed))
        #expect(views.level(of: "EU", try MineralID("gallium")) == 7)
        // An enum is 32 bits to protobuf: a basis of 2^32 + 1 reads as gross in both readers.
        let (wide, _) = try HandcraftedEntries.report(rawBasis: (1 << 32) + 1, by: author, now: 1_000)
        let readings = [try EntryCodec.decode(wide.signed), try EntryCodec.decodeWithGeneratedCode(wide.signed)]
        EntryBodyReaderTests.assertSameReading(readings[0], readings[1])
        guard case .reportReserve(let report) = readings[0].operation else {
            Issue.record("\(readings[0].operation)")
            return
        }
        #expect(report.basis == .gross)
    }

    @Test func withheldLevelsAreLeftOutOfLevelsAndTotalsAndNamed() throws {
        var eu = alliance.author("EU/eu-1")
        var us = alliance.author("US/us-1")
        var jp = alliance.author("JP/jp-1")
        var views = RegistryViews()
        views.fold([
            eu.write(Self.report("EU", "gallium", "100", form: "metal", basis: .contained), at: 1_000),
            us.write(Self.report("US", "gallium", withheld: "national security"), at: 1_000),
            jp.write(Self.report("JP", "gallium", "30", site: "Kobe"), at: 1_000),
            jp.write(Self.report("JP", "gallium", site: "Osaka", withheld: "commercial"), at: 1_001),
            eu.write(Self.report("EU", "tungsten", "5", site: "Hamburg", withheld: "not shared"), at: 1_002),
            eu.write(Self.report("EU", "tungsten", "40"), at: 1_003)
        ])
        let gallium = try MineralID("gallium")
        let tungsten = try MineralID("tungsten")
        #expect(views.level(of: "EU", gallium) == 100)
        #expect(views.level(of: "US", gallium) == nil, "a withheld total")
        #expect(views.level(of: "JP", gallium) == nil, "a withheld site leaves the sum unknown")
        #expect(views.level(of: "EU", tungsten) == 40, "a shared total stands, whatever a site withholds")
        #expect(views.allianceTotals[gallium] == 100 && views.allianceTotals[tungsten] == 40)
        #expect(views.withheldLevels == [TargetKey(participant: "US", mineral: gallium), TargetKey(participant: "JP", mineral: gallium)])
        // The level as a report not yet folded would leave it.
        #expect(
            views.level(
                of: "US", gallium,
                with: ReserveReport(
                    participant: "US", mineral: gallium, quantity: Quantity(amount: try Amount("9"), unit: .tonne),
                    asOfMillis: 2_000)) == 9)
    }

    /// Days of cover: a level ÷ (annual consumption ÷ 365); the consumption is a register of its
    /// own (the latest write wins), kept in snapshots, and in the digest only when there is one.
    @Test func daysOfCoverFollowTheLatestConsumptionAndSurviveASnapshot() throws {
        var eu = alliance.author("EU/eu-1")
        var eu2 = alliance.author("EU/eu-2")
        let gallium = try MineralID("gallium")
        let key = TargetKey(participant: "EU", mineral: gallium)
        func consumption(_ tonnes: String) -> EntryOperation {
            .setConsumption(ReserveConsumption(participant: "EU", mineral: gallium, quantity: Quantity(amount: try! Amount(tonnes), unit: .tonne)))
        }
        let report = eu.write(Self.report("EU", "gallium", "100"), at: 1_000)
        var views = RegistryViews()
        views.fold(report)
        let withoutConsumption = views.digest
        #expect(views.daysOfCover(100, key) == nil)
        views.fold([eu.write(consumption("730"), at: 2_000), eu2.write(consumption("365"), at: 3_000)])
        #expect(views.consumption(key)?.consumption.quantity.amount.text == "365")
        #expect(views.daysOfCover(100, key) == 100)
        #expect(views.digest != withoutConsumption)
        let restored = try RegistryViews(snapshot: views.snapshot(alertEntries: []))
        #expect(restored.digest == views.digest && restored.daysOfCover(100, key) == 100)
        // Someone else's consumption is refused by the policy, as its target would be.
        var us = alliance.author("US/us-1")
        let forged = us.write(consumption("1"), at: 4_000)
        views.fold(forged)
        #expect(views.violations[forged.id] != nil && views.daysOfCover(100, key) == 100)
    }
}
