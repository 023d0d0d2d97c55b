import AdminAPI
import ArgumentParser
import Foundation

struct Alert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Raise and follow disruption alerts.",
        subcommands: [Raise.self, Ack.self, Resolve.self, Update.self, List.self, Show.self])

    struct Raise: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Raise an alert; partners receive it at once. Prints its id.")
        @OptionGroup var global: GlobalOptions
        @Option var mineral: String
        @Option(help: "info, low, medium, high or critical.") var severity: String
        @Option(help: "export-restriction, production-outage, logistics, price-spike, geopolitical or other.") var category: String
        @Option var summary: String
        @Option var region: String?
        @Option(help: "When the alert lapses (2026-12-31 or ISO 8601).") var expires: String?

        func run() throws {
            let written: WriteResponse = try Exit.guarding {
                try global.client.call(
                    AdminAPI.raiseAlert,
                    AlertRaiseRequest(
                        mineral: mineral, severity: severity, category: category,
                        summary: summary, region: region, expires: expires))
            }
            if global.json { return Output.json(["id": written.id]) }
            print(written.id)
        }
    }

    struct Ack: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge an alert for this participant.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Alert id or a unique prefix (8+ hex digits).") var id: String
        @Option var note: String?

        func run() throws {
            let written: WriteResponse = try Exit.guarding {
                try global.client.call(AdminAPI.acknowledgeAlert, NoteRequest(note: note), parameters: ["id": id])
            }
            if global.json { return Output.json(written) }
            print("acknowledged \(id)")
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resolve an alert this participant raised.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: String
        @Option(help: "How it was resolved.") var note: String

        func run() throws {
            let written: WriteResponse = try Exit.guarding { try global.client.call(AdminAPI.resolveAlert, NoteRequest(note: note), parameters: ["id": id]) }
            if global.json { return Output.json(written) }
            print("resolved \(id)")
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an alert this participant raised.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: String
        @Option var severity: String?
        @Option var category: String?
        @Option var summary: String?
        @Option var region: String?
        @Option var expires: String?

        func run() throws {
            let written: WriteResponse = try Exit.guarding {
                try global.client.call(
                    AdminAPI.updateAlert,
                    AlertUpdateRequest(
                        severity: severity, category: category, summary: summary, region: region, expires: expires), parameters: ["id": id])
            }
            if global.json { return Output.json(written) }
            print("updated \(id)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Alerts, newest first.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only unresolved, unexpired alerts.") var open = false
        @Option var mineral: String?
        @Option(name: .customLong("min-severity")) var minSeverity: String?

        func run() throws {
            let alerts = try Exit.guarding {
                try global.client.call(AdminAPI.alerts, query: [("open", open ? "true" : nil), ("mineral", mineral), ("minSeverity", minSeverity)])
            }
            if global.json { return Output.json(alerts) }
            Output.table(
                ["ID", "SEVERITY", "MINERAL", "CATEGORY", "ISSUER", "RAISED", "STATE", "SUMMARY"],
                alerts.map { alert in
                    [
                        String(alert.id.prefix(12)), Output.severity(alert.severity), alert.mineral, alert.category, alert.issuer, Output.time(alert.raisedAt),
                        alert.resolved ? "resolved" : alert.acknowledgedBy.isEmpty ? "open" : "acked \(alert.acknowledgedBy.joined(separator: ","))",
                        alert.summary
                    ]
                })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One alert in full.")
        @OptionGroup var global: GlobalOptions
        @Argument var id: String

        func run() throws {
            let alert = try Exit.guarding { try global.client.call(AdminAPI.alert, parameters: ["id": id]) }
            if global.json { return Output.json(alert) }
            Output.fields([
                ("id", alert.id), ("mineral", alert.mineral), ("severity", Output.severity(alert.severity)), ("category", alert.category),
                ("region", alert.region.isEmpty ? "-" : alert.region), ("summary", alert.summary), ("issuer", alert.issuer),
                ("raised", Output.time(alert.raisedAt)), ("updated", Output.time(alert.updatedAt)), ("expires", Output.time(alert.expiresAt)),
                ("acknowledged by", alert.acknowledgedBy.isEmpty ? "-" : alert.acknowledgedBy.joined(separator: ", ")),
                ("resolved", alert.resolved ? "yes: \(alert.resolution ?? "")" : "no")
            ])
        }
    }
}
