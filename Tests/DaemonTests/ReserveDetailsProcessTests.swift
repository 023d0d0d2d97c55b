import AdminAPI
import Foundation
import TestSupport
import Testing

/// Form, basis and withheld figures with real daemons: written with `mineralctl`, refused when
/// malformed (nothing signed), and shown the same on every node, totals included.
@Suite("reserve details between real daemons", .serialized)
struct ReserveDetailsProcessTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("reserve-details") }

    @Test func everyNodeShowsTheSameWithheldFiguresFormsAndTotals() async throws {
        let ports = freePorts(3)
        func node(_ participant: String, _ name: String, _ index: Int) throws -> DaemonProcess {
            try DaemonProcess(
                participant, name, port: ports[index], peers: ports.enumerated().filter { $0.offset != index }.map(\.element),
                root: root.url.path, pki: pki, files: files)
        }
        let (eu, us, jp) = (try node("EU", "eu-1", 0), try node("US", "us-1", 1), try node("JP", "jp-1", 2))
        for daemon in [eu, us, jp] { try await daemon.start() }
        func ok(_ daemon: DaemonProcess, _ arguments: [String]) async throws {
            let run = try await CommandRun.ctl(daemon, arguments)
            #expect(run.status == 0, "\(arguments): \(run.error)")
        }
        try await ok(eu, ["reserve", "set", "gallium", "100", "--form", "metal", "--basis", "contained"])
        try await ok(eu, ["reserve", "target", "gallium", "300"])
        try await ok(us, ["reserve", "withhold", "gallium", "--reason", "national security"])
        try await ok(jp, ["reserve", "set", "gallium", "30", "--site", "Kobe"])
        try await ok(jp, ["reserve", "withhold", "gallium", "--site", "Osaka", "--reason", "commercial"])
        try await ok(jp, ["reserve", "set", "tungsten", "40", "--form", "concentrate", "--basis", "gross"])
        try await ok(eu, ["reserve", "consumption", "gallium", "73"])

        // Malformed details are refused before anything is signed.
        let held = try eu.status().entries
        for (arguments, message) in [
            (["reserve", "set", "gallium", "5", "--form", "Metal Bars"], "form \"Metal Bars\" must be 1–32 of a–z"),
            (["reserve", "set", "gallium", "5", "--basis", "net"], "basis \"net\" must be gross or contained"),
            (["reserve", "withhold", "gallium", "--reason", " "], "--reason must say why")
        ] {
            let refused = try await CommandRun.ctl(eu, arguments)
            #expect(refused.status == 65 && refused.error.contains(message), "\(arguments): \(refused.status) \(refused.error)")
        }
        #expect(try eu.status().entries == held, "nothing was written")

        _ = try await eu.syncAndWait(with: [us, jp])
        _ = try await us.syncAndWait(with: [eu, jp])
        _ = try await jp.syncAndWait(with: [eu, us])
        var shownTotals: [[TotalItem]] = []
        for daemon in [eu, us, jp] {
            let totals = try AdminJSON.decoder.decode(
                [TotalItem].self, from: Data(try await CommandRun.ctl(daemon, ["reserve", "totals", "--json"]).output.utf8))
            shownTotals.append(totals)
            let gallium = try #require(totals.first { $0.mineral == "gallium" }, "\(daemon.nodeID)")
            #expect(
                gallium.tonnes == "100" && gallium.participants == ["EU"] && gallium.withheld == ["JP", "US"] && gallium.targetTonnes == "300",
                "\(daemon.nodeID): \(gallium)")
            // 100 t at 73 t a year: 500 days.
            #expect(gallium.daysOfCover == "500", "\(daemon.nodeID): \(gallium)")
            let reserves = try AdminJSON.decoder.decode(
                [ReserveItem].self, from: Data(try await CommandRun.ctl(daemon, ["reserve", "list", "--json"]).output.utf8))
            let euGallium = try #require(reserves.first { $0.participant == "EU" && $0.mineral == "gallium" })
            #expect(euGallium.daysOfCover == "500" && euGallium.annualConsumption == "73", "\(daemon.nodeID): \(euGallium)")
            #expect(totals.first { $0.mineral == "tungsten" }.map { $0.tonnes == "40" && $0.withheld.isEmpty } == true)
            let list = try await CommandRun.ctl(daemon, ["reserve", "list"]).output
            #expect(list.contains("withheld (national security)") && list.contains("withheld (commercial)"), "\(daemon.nodeID): \(list)")
            #expect(list.contains("metal, contained") && list.contains("concentrate, gross"), "\(daemon.nodeID): \(list)")
            let table = try await CommandRun.ctl(daemon, ["reserve", "totals"]).output
            #expect(table.contains("2: JP, US"), "\(daemon.nodeID): \(table)")
        }
        #expect(shownTotals.dropFirst().allSatisfy { $0 == shownTotals[0] })

        // A second report for a date already reported corrects the first: history says so.
        try await ok(jp, ["reserve", "set", "tungsten", "35", "--as-of", "2026-11-01"])
        try await ok(jp, ["reserve", "set", "tungsten", "38", "--as-of", "2026-11-01", "--note", "recounted"])
        _ = try await eu.syncAndWait(with: [jp])
        let history = try AdminJSON.decoder.decode(
            [ReserveItem].self,
            from: Data(
                try await CommandRun.ctl(eu, ["reserve", "history", "tungsten", "--participant", "JP", "--json"]).output.utf8))
        #expect(history.map(\.quantity) == ["40", "35", "38"] || history.map(\.quantity) == ["35", "38", "40"], "\(history.map(\.quantity))")
        let corrected = try #require(history.first { $0.quantity == "35" })
        let correction = try #require(history.first { $0.quantity == "38" })
        #expect(correction.revises == corrected.entry && corrected.revises == nil && corrected.entry != nil)
        #expect(
            try await CommandRun.ctl(eu, ["reserve", "history", "tungsten", "--participant", "JP"]).output.contains("corrects \(corrected.entry!.prefix(12))"))
        #expect(Set(try [eu, us, jp].map { try $0.status().viewDigest }).count == 1)
        for daemon in [eu, us, jp] { try await daemon.stop() }
    }
}
