import Foundation
import NodeConfig
import OpenSSLCrypto
import Registry
import Testing

@Suite("Config: notification hooks")
struct HookConfigurationTests {
    func parse(_ hooks: String) throws(ConfigurationError) -> NodeConfiguration {
        try ConfigurationParser.parse(ConfigurationParserTests.complete + "\nhooks:\n" + hooks, file: "c.yaml", baseDirectory: "/etc/mineral-sync")
    }

    func problems(_ hooks: String) -> [String] {
        do {
            _ = try parse(hooks)
            return []
        } catch {
            return error.problems.map { "\($0.key): \($0.message)" }
        }
    }

    @Test func readsExecAndWebhookHooksWithTheirFilters() throws {
        let configuration = try parse(
            """
              - events: [alert-raised, alert-updated, alert-acknowledged, alert-resolved, reserve-below-target]
                min-severity: medium
                minerals: [gallium, Graphite, baryte]
                exec: bin/page-duty-officer
                timeout: 30s
                max-age: 30d
              - name: chat
                events: [alert-raised]
                webhook: http://127.0.0.1:9000/mineral-alerts?channel=duty
            """)
        #expect(configuration.hooks.count == 2)
        let pager = configuration.hooks[0]
        #expect(pager.name == "exec /etc/mineral-sync/bin/page-duty-officer")
        #expect(pager.target == .exec("/etc/mineral-sync/bin/page-duty-officer"))
        #expect(pager.events == Set(RegistryEventKind.allCases) && pager.minimumSeverity == .medium)
        #expect(pager.minerals == Set(["gallium", "graphite", "barite"].map { try! MineralID($0) }))
        #expect(pager.timeout.milliseconds == 30_000 && pager.maximumAge.milliseconds == 30 * 86_400_000)
        let chat = configuration.hooks[1]
        #expect(chat.name == "chat" && chat.minerals == nil && chat.minimumSeverity == nil)
        #expect(chat.timeout.milliseconds == 10_000 && chat.maximumAge.milliseconds == 7 * 86_400_000)
        guard case .webhook(let address) = chat.target else {
            Issue.record("\(chat.target)")
            return
        }
        #expect(address.host == "127.0.0.1" && address.port == 9000 && address.target == "/mineral-alerts?channel=duty")
        #expect(address.description == "http://127.0.0.1:9000/mineral-alerts?channel=duty")
    }

    @Test func everyProblemIsNamedWithItsKey() {
        #expect(
            problems(
                """
                  - events: [alert-raised, alert-lowered]
                    exec: /bin/true
                """) == [
                    "hooks[0].events[1]: \"alert-lowered\" is not an event: one of alert-raised, alert-updated, alert-acknowledged, alert-resolved, reserve-below-target"
                ])
        #expect(problems("  - exec: /bin/true\n").first?.hasPrefix("hooks[0].events: names no event") == true)
        #expect(
            problems(
                """
                  - events: [alert-raised]
                    exec: /bin/true
                    webhook: http://127.0.0.1:9/
                """) == ["hooks[0]: has both exec: and webhook:; a hook does one (write two hooks for both)"])
        #expect(problems("  - events: [alert-raised]\n").first?.hasPrefix("hooks[0]: needs exec:") == true)
        #expect(
            problems(
                """
                  - events: [reserve-below-target]
                    min-severity: high
                    exec: /bin/true
                """) == ["hooks[0].min-severity: applies to alert events only, and this hook has none"])
        #expect(
            problems(
                """
                  - events: [alert-raised]
                    min-severity: urgent
                    minerals: [unobtainium]
                    exec: /bin/true
                    timeout: 10m
                """) == [
                    "hooks[0].min-severity: \"urgent\" must be one of info, low, medium, high, critical",
                    "hooks[0].minerals[0]: \"unobtainium\" is not a mineral of the catalogue (mineralctl minerals lists them)",
                    "hooks[0].timeout: \"10m\" must be a positive duration such as 500ms, 10s, 5m or 1h, at most 5m"
                ])
        for (url, message) in [
            ("https://chat.example/hook", "is https"), ("ftp://host/x", "has scheme ftp"), ("http:///x", "names no host"),
            ("http://user:pw@host/x", "must not carry a user"), ("not a url", "is not a URL")
        ] {
            let found = problems("  - events: [alert-raised]\n    webhook: \(url)\n")
            #expect(found.count == 1 && found[0].hasPrefix("hooks[0].webhook: \"\(url)\" \(message)"), "\(url): \(found)")
        }
        #expect(
            problems(
                """
                  - name: duty
                    events: [alert-raised]
                    exec: /bin/true
                  - name: duty
                    events: [alert-resolved]
                    exec: /bin/false
                """) == ["hooks[1].name: \"duty\" names another hook too: give each hook a name of its own"])
        #expect(problems("  - events: [alert-raised]\n    exec: /bin/true\n    color: red\n") == ["hooks[0].color: unknown key"])
    }

    @Test func aHookWantsOnlyWhatItsFiltersLetThrough() throws {
        let hook = try parse(
            """
              - events: [alert-raised, reserve-below-target]
                min-severity: high
                minerals: [gallium]
                exec: /bin/true
                max-age: 1h
            """
        ).hooks[0]
        func event(_ kind: RegistryEventKind, _ mineral: String = "gallium", severity: Severity? = .high, writtenAt: UInt64 = 10_000_000) -> RegistryEvent {
            RegistryEvent(
                kind: kind, entry: SHA256.hash([1]), origin: try! NodeID("EU/eu-1"), seq: 1, writtenAtMillis: writtenAt,
                subject: .level(TargetKey(participant: "EU", mineral: try! MineralID(mineral))), mineral: try! MineralID(mineral), severity: severity)
        }
        let now: UInt64 = 10_000_000
        #expect(hook.wants(event(.alertRaised), committedAtMillis: now))
        #expect(hook.wants(event(.alertRaised, severity: .critical), committedAtMillis: now))
        #expect(!hook.wants(event(.alertRaised, severity: .medium), committedAtMillis: now))
        #expect(!hook.wants(event(.alertRaised, "graphite"), committedAtMillis: now))
        #expect(!hook.wants(event(.alertResolved), committedAtMillis: now))
        #expect(hook.wants(event(.reserveBelowTarget, severity: nil), committedAtMillis: now), "severity filters alerts only")
        #expect(!hook.wants(event(.alertRaised, writtenAt: now - 3_600_001), committedAtMillis: now))
        #expect(hook.wants(event(.alertRaised, writtenAt: now + 5_000), committedAtMillis: now), "an entry dated ahead is not old")
    }
}
