import AdminAPI
import ArgumentParser
import Foundation

struct Reserve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report and read strategic reserve levels.",
        subcommands: [Set.self, Withhold.self, Target.self, Consumption.self, List.self, Totals.self, History.self, Import.self])

    /// "130 t", or "withheld (reason)".
    static func quantityText(_ item: ReserveItem) -> String {
        item.withheld ? "withheld (\(item.withheldReason ?? ""))" : "\(item.quantity) \(item.unit)"
    }

    /// "metal, contained", "-" when neither is stated.
    static func materialText(_ item: ReserveItem) -> String {
        let parts = [item.form, item.basis].compactMap { $0 }
        return parts.isEmpty ? "-" : parts.joined(separator: ", ")
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report this participant's reserve of a mineral (one signed entry).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Mineral id, e.g. gallium (see `mineralctl minerals`).") var mineral: String
        @Argument(help: "Quantity, a non-negative decimal.") var quantity: String
        @Option(help: "t or kg.") var unit = "t"
        @Option(help: "Storage site; omit for the participant's total.") var site: String?
        @Option(name: .customLong("as-of"), help: "Date the level was measured (2026-11-26 or ISO 8601); default now.") var asOf: String?
        @Option(help: "A note for partners.") var note: String?
        @Option(help: "The material's form: metal, oxide, concentrate, magnet, ...") var form: String?
        @Option(help: "gross (the material's weight) or contained (the mineral it holds).") var basis: String?

        func run() throws {
            let written: WriteResponse = try Exit.guarding {
                try global.client.call(
                    AdminAPI.reportReserve,
                    ReserveReportRequest(
                        mineral: mineral, quantity: quantity, unit: unit, site: site, asOf: asOf,
                        note: note, form: form, basis: basis))
            }
            if global.json { return Output.json(written) }
            print("reported \(mineral) \(quantity) \(unit)\(site.map { " at \($0)" } ?? "") (entry \(written.seq), \(written.id.prefix(12)))")
        }
    }

    struct Withhold: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report that this participant holds a figure for a mineral and does not share it (left out of totals, which say so).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Mineral id, e.g. gallium.") var mineral: String
        @Option(help: "Why the figure is not shared, e.g. \"national security\".") var reason: String
        @Option(help: "Storage site; omit for the participant's total.") var site: String?
        @Option(name: .customLong("as-of"), help: "Date of the figure withheld; default now.") var asOf: String?

        func run() throws {
            let written: WriteResponse = try Exit.guarding {
                guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw UsageError(message: "--reason must say why the figure is withheld") }
                return try global.client.call(
                    AdminAPI.reportReserve, ReserveReportRequest(mineral: mineral, quantity: "", site: site, asOf: asOf, withheld: reason))
            }
            if global.json { return Output.json(written) }
            print("withheld \(mineral)\(site.map { " at \($0)" } ?? "") (\(reason)) (entry \(written.seq), \(written.id.prefix(12)))")
        }
    }

    struct Totals: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The alliance's level of each mineral: the shared levels summed, and who withheld.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let totals = try Exit.guarding { try global.client.call(AdminAPI.reserveTotals) }
            if global.json { return Output.json(totals) }
            Output.table(
                ["MINERAL", "TOTAL", "TARGETS", "DAYS OF COVER", "FROM", "WITHHELD"],
                totals.map {
                    // A mineral every participant withheld has no total to show.
                    [
                        $0.mineral, $0.participants.isEmpty ? "-" : "\($0.tonnes) t", $0.targetTonnes.map { "\($0) t" } ?? "-", $0.daysOfCover ?? "-",
                        $0.participants.joined(separator: ", "),
                        $0.withheld.isEmpty ? "-" : "\($0.withheld.count): \($0.withheld.joined(separator: ", "))"
                    ]
                })
        }
    }

    struct Consumption: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report this participant's annual consumption of a mineral: reserve list and totals then show days of cover.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Mineral id, e.g. gallium.") var mineral: String
        @Argument(help: "Quantity consumed per year, a non-negative decimal.") var quantity: String
        @Option(help: "t or kg.") var unit = "t"

        func run() throws {
            let written: WriteResponse = try Exit.guarding {
                try global.client.call(AdminAPI.setConsumption, TargetRequest(mineral: mineral, quantity: quantity, unit: unit))
            }
            if global.json { return Output.json(written) }
            print("annual consumption of \(mineral) set to \(quantity) \(unit) (entry \(written.seq))")
        }
    }

    struct Target: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set this participant's reserve target for a mineral.")
        @OptionGroup var global: GlobalOptions
        @Argument var mineral: String
        @Argument var quantity: String
        @Option(help: "t or kg.") var unit = "t"

        func run() throws {
            let written: WriteResponse = try Exit.guarding {
                try global.client.call(AdminAPI.setTarget, TargetRequest(mineral: mineral, quantity: quantity, unit: unit))
            }
            if global.json { return Output.json(written) }
            print("target for \(mineral) set to \(quantity) \(unit) (entry \(written.seq))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Current reserve levels across the alliance.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this participant, e.g. EU.") var participant: String?
        @Option(help: "Only this mineral.") var mineral: String?

        func run() throws {
            let items = try Exit.guarding { try global.client.call(AdminAPI.reserves, query: [("participant", participant), ("mineral", mineral)]) }
            if global.json { return Output.json(items) }
            Output.table(
                ["PARTICIPANT", "MINERAL", "SITE", "QUANTITY", "FORM", "AS OF", "TARGET", "COVERAGE", "DAYS OF COVER", "REPORTED BY"],
                items.map {
                    [
                        $0.participant, $0.mineral, $0.site.isEmpty ? "(total)" : $0.site, Reserve.quantityText($0), Reserve.materialText($0),
                        Output.time($0.asOf),
                        $0.target ?? "-", $0.coverage ?? "-", $0.daysOfCover ?? "-", $0.reportedBy
                    ]
                })
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every report of a mineral's level, oldest first; a report for a date already reported corrects the earlier one (a revision).")
        @OptionGroup var global: GlobalOptions
        @Argument var mineral: String
        @Option(help: "Whose reports (default: this node's participant).") var participant: String?

        func run() throws {
            let items = try Exit.guarding { try global.client.call(AdminAPI.reserveHistory, query: [("mineral", mineral), ("participant", participant)]) }
            if global.json { return Output.json(items) }
            Output.table(
                ["AS OF", "SITE", "QUANTITY", "FORM", "REPORTED BY", "REVISION", "NOTE"],
                items.map {
                    [
                        Output.time($0.asOf), $0.site.isEmpty ? "(total)" : $0.site, Reserve.quantityText($0), Reserve.materialText($0), $0.reportedBy,
                        $0.revises.map { "corrects \($0.prefix(12))" } ?? "-", $0.note
                    ]
                })
            // A node that joined from a checkpoint (or dropped archived history) holds none before it.
            if let start = (try? global.client.call(AdminAPI.status))?.joinedFrom {
                print(
                    "\nthis node holds the history from the checkpoint at \(start.entries) entries on: reports before it are at "
                        + "nodes that hold every entry, and in archives of it (mineralctl archive export)")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report many levels from a CSV file, all or nothing.",
            discussion:
                "Columns: mineral,quantity,unit,site,as_of (a header row with these names is optional). One bad row rejects the file, naming its line; nothing is written."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The CSV file.") var file: String

        func run() throws {
            let rows = try Exit.guarding { try ReserveCSV.read(file) }
            let written: [WriteResponse] = try Exit.guarding {
                do {
                    return try global.client.call(AdminAPI.importReserves, ReserveImportRequest(rows: rows))
                } catch AdminClient.ClientError.api(let status, let error) where error.message.hasPrefix("line ") {
                    throw AdminClient.ClientError.api(status: status, ErrorResponse(error: error.error, message: "\(file) \(error.message)"))
                }
            }
            if global.json { return Output.json(written) }
            print("imported \(written.count) reserve reports from \(file)")
        }
    }
}

/// The import file: RFC 4180 CSV (quoted fields may hold commas, quotes and newlines).
enum ReserveCSV {
    static let columns = ["mineral", "quantity", "unit", "site", "as_of"]

    static func read(_ path: String) throws(UsageError) -> [ReserveReportRequest] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError(message: "\(path): cannot read the file (does it exist?)")
        }
        guard var text = String(data: data, encoding: .utf8) else { throw UsageError(message: "\(path): not UTF-8 text") }
        // Spreadsheets often begin a UTF-8 CSV with a byte-order mark.
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let records = try parse(text, file: path)
        var rows: [ReserveReportRequest] = []
        for (line, fields) in records {
            if rows.isEmpty, fields.map({ $0.lowercased().trimmingCharacters(in: .whitespaces) }) == Array(columns.prefix(fields.count)) { continue }
            guard fields.count >= 2, fields.count <= 5 else {
                throw UsageError(message: "\(path) line \(line): expected columns \(columns.joined(separator: ",")), found \(fields.count) fields")
            }
            func field(_ index: Int) -> String? {
                guard index < fields.count else { return nil }
                let value = fields[index].trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
            rows.append(ReserveReportRequest(mineral: field(0) ?? "", quantity: field(1) ?? "", unit: field(2), site: field(3), asOf: field(4), line: line))
        }
        guard !rows.isEmpty else { throw UsageError(message: "\(path): no rows to import") }
        return rows
    }

    /// Records with the line each starts on; blank lines skipped. Strict where RFC 4180 is: a
    /// quote may open a field or be doubled inside a quoted one, nothing else, so that a row
    /// that a spreadsheet would read differently is refused rather than guessed at.
    static func parse(_ text: String, file: String) throws(UsageError) -> [(Int, [String])] {
        var records: [(Int, [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        /// The field was quoted and its closing quote has been read: only a separator may follow.
        var closed = false
        var line = 1
        var recordLine = 1
        var characters = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                        closed = true
                    }
                } else {
                    if character == "\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            if closed, character != ",", character != "\n" {
                throw UsageError(message: "\(file) line \(line): text after the closing quote of a field (write a quote inside a quoted field as \"\")")
            }
            closed = false
            switch character {
            case "\"" where field.isEmpty: quoted = true
            case "\"":
                throw UsageError(message: "\(file) line \(line): a quote inside an unquoted field (quote the whole field, and double the quote)")
            case ",":
                fields.append(field)
                field = ""
            case "\n":
                fields.append(field)
                if fields != [""] { records.append((recordLine, fields)) }
                fields = []
                field = ""
                line += 1
                recordLine = line
            default: field.append(character)
            }
        }
        if quoted { throw UsageError(message: "\(file) line \(recordLine): a quoted field is not closed") }
        fields.append(field)
        if fields != [""] { records.append((recordLine, fields)) }
        return records
    }
}
