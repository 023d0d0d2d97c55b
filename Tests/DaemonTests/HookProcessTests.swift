import AdminAPI
import Foundation
import TestSupport
import Testing

/// Notification hooks with real daemons. EU raises alerts; JP runs an `exec` hook (a shell
/// script that records when it started and what it was given) and one that hangs; US posts to
/// a webhook (an HTTP server in the test). Deliveries are awaited through the daemons' logs and
/// the server's requests, never slept for.
@Suite("notification hooks between real daemons", .serialized)
struct HookProcessTests {
    let root: TemporaryDirectory
    let pki: TestPKI
    let files: PKIFiles

    init() throws { (root, pki, files) = try PKIFiles.daemonFixture("hooks") }

    /// What the pager script recorded: one line per run, "<start ns> <event id> <json>".
    struct Recorded {
        let startedAt: Date
        let id: String
        let message: HookEventMessage
    }

    func recorded() throws -> [Recorded] {
        let text = (try? String(contentsOfFile: root.path("hook-out/events.log"), encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            let message = try AdminJSON.decoder.decode(HookEventMessage.self, from: Data(parts[2].utf8))
            return Recorded(startedAt: Date(timeIntervalSince1970: Double(parts[0])! / 1e9), id: parts[1], message: message)
        }
    }

    func script(_ name: String, _ body: String) throws -> String {
        let path = root.path(name)
        try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    func raise(_ node: DaemonProcess, _ mineral: String, _ severity: String, _ summary: String) throws -> String {
        try node.client.call(AdminAPI.raiseAlert, AlertRaiseRequest(mineral: mineral, severity: severity, category: "export-restriction", summary: summary)).id
    }

    @Test func alertsReachAnExecHookAndAWebhookWithinASecondAtLeastOnceAcrossACrashAndAHangingHookDelaysNothing() async throws {
        let out = root.path("hook-out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let pager = try script(
            "pager.sh",
            """
            started=$(date +%s%N)
            if [ -e "\(out)/fail" ]; then echo "told to fail by the test" >&2; exit 3; fi
            body=$(cat)
            printf '%s %s %s\\n' "$started" "$MINERALSYNC_EVENT_ID" "$body" >> "\(out)/events.log"
            """)
        let hanging = try script("hanging.sh", "exec sleep 30\n")
        let receiver = try await WebhookReceiver()
        let ports = freePorts(3)
        let eu = try DaemonProcess("EU", "eu-1", port: ports[0], peers: [ports[1], ports[2]], root: root.url.path, pki: pki, files: files)
        let jp = try DaemonProcess(
            "JP", "jp-1", port: ports[1], peers: [ports[0]], root: root.url.path, pki: pki, files: files,
            extraConfig: """
                hooks:
                  - name: pager
                    events: [alert-raised]
                    min-severity: medium
                    minerals: [gallium]
                    exec: \(pager)
                  - name: stuck
                    events: [alert-raised]
                    exec: \(hanging)
                    timeout: 2s
                """)
        let us = try DaemonProcess(
            "US", "us-1", port: ports[2], peers: [ports[0]], root: root.url.path, pki: pki, files: files,
            extraConfig: """
                hooks:
                  - events: [alert-raised, alert-resolved]
                    webhook: http://127.0.0.1:\(receiver.port)/mineral-alerts
                """)
        #expect(try await CommandRun.run("mineral-syncd", ["check-config", jp.configPath]).status == 0)
        for daemon in [eu, jp, us] { try await daemon.start() }
        _ = try await eu.syncAndWait(with: [jp, us])

        // Raised at EU: JP's program starts, and US's webhook is posted, within a second.
        let raisedAt = Date()
        let first = try raise(eu, "gallium", "high", "Export licences refused")
        try await jp.waitForLog("hook delivered attempts=1 event=alert-raised/\(first)")
        let posted = try await receiver.waitFor(1)
        let execLatency = try #require(try recorded().first).startedAt.timeIntervalSince(raisedAt)
        let webhookLatency = posted[0].at.timeIntervalSince(raisedAt)
        #expect(execLatency < 1 && webhookLatency < 1, "exec hook started after \(execLatency) s, webhook after \(webhookLatency) s")
        // What they were given: the event, its id (the same on every node), the alert as shown.
        let atJP = try #require(try recorded().first)
        #expect(atJP.id == "alert-raised/\(first)" && atJP.message.id == atJP.id)
        #expect(atJP.message.event == "alert-raised" && atJP.message.node == "JP/jp-1" && atJP.message.entry.origin == "EU/eu-1")
        #expect(atJP.message.alert?.summary == "Export licences refused" && atJP.message.alert?.severity == "high")
        let atUS = try AdminJSON.decoder.decode(HookEventMessage.self, from: posted[0].body)
        #expect(posted[0].path == "/mineral-alerts" && posted[0].headers["content-type"] == "application/json")
        #expect(posted[0].headers["x-mineralsync-event-id"] == "alert-raised/\(first)" && atUS.id == atJP.id && atUS.node == "US/us-1")

        // The hanging hook is terminated at its timeout and retried; sync and the pager go on.
        try await jp.waitForLog("did not finish within 2s")
        let secondRaisedAt = Date()
        let second = try raise(eu, "gallium", "critical", "Mine flooded")
        try await jp.waitForLog("hook delivered attempts=1 event=alert-raised/\(second)")
        // From EU's write to JP's commit (sync), and from JP's commit to the program's start.
        let pagedSecond = try #require(try recorded().last)
        let committedAtJP = try #require(AdminJSON.parseDate(pagedSecond.message.at))
        #expect(
            committedAtJP.timeIntervalSince(secondRaisedAt) < 1 && pagedSecond.startedAt.timeIntervalSince(committedAtJP) < 1,
            "with a hook hanging, sync took \(committedAtJP.timeIntervalSince(secondRaisedAt)) s and the pager started \(pagedSecond.startedAt.timeIntervalSince(committedAtJP)) s after the commit"
        )
        #expect(try jp.status().hooks?.last?.delivered == 0, "the stuck hook is still stuck")

        // Filters: a low alert and a graphite alert do not page JP's duty officer.
        _ = try raise(eu, "gallium", "low", "Minor delay")
        _ = try raise(eu, "graphite", "critical", "Graphite ban")
        let third = try raise(eu, "gallium", "medium", "Port strike")
        try await jp.waitForLog("hook delivered attempts=1 event=alert-raised/\(third)")
        #expect(try recorded().map(\.id) == [first, second, third].map { "alert-raised/\($0)" })
        let five = try await receiver.waitFor(5)
        #expect(Set(five.map { $0.headers["x-mineralsync-event-id"] }).count == 5, "every alert once, none twice")

        // A webhook that answers 500 is tried again, with back-off, until it takes the event.
        receiver.answer.withLockedValue { $0 = .status(500) }
        let refused = try raise(eu, "tungsten", "low", "Rail strike")
        try await us.waitForLog(
            "event=alert-raised/\(refused) hook=\"webhook http://127.0.0.1:\(receiver.port)/mineral-alerts\" reason=\"the endpoint answered HTTP 500 Internal Server Error\""
        )
        receiver.answer.withLockedValue { $0 = .status(204) }
        try await us.waitForLog("hook delivered after failing attempts=")
        let retried = try await receiver.waitFor(7)
        #expect(retried.dropFirst(5).allSatisfy { $0.headers["x-mineralsync-event-id"] == "alert-raised/\(refused)" }, "the refused event, again, nothing else")

        let status = try jp.status()
        let hooks = try #require(status.hooks)
        #expect(hooks.map(\.name) == ["pager", "stuck"])
        #expect(hooks[0].delivered == 3 && hooks[0].retryingSince == nil && hooks[0].target == "exec \(pager)")
        #expect(hooks[1].delivered == 0 && hooks[1].failures >= 1 && hooks[1].retryingSince != nil && hooks[1].lastError?.contains("did not finish") == true)
        let text = try await CommandRun.ctl(jp, ["status"])
        #expect(text.output.contains("1 of 2 failing: stuck"), "\(text.output)")

        // Killed before it could deliver: delivered after the restart, once.
        try Data().write(to: URL(fileURLWithPath: "\(out)/fail"))
        let fourth = try raise(eu, "gallium", "high", "Smelter outage")
        try await jp.waitForLog("attempt=1 event=alert-raised/\(fourth) hook=pager reason=\"exited with status 3: told to fail by the test\"")
        _ = try await jp.kill()
        try FileManager.default.removeItem(atPath: "\(out)/fail")
        try await jp.start()
        try await jp.waitForLog("hook delivered attempts=1 event=alert-raised/\(fourth)")

        // Delivered is delivered: neither a kill -9 nor a clean restart sends an event again.
        _ = try await jp.kill()
        try await jp.start()
        try await jp.stop()
        try await jp.start()
        let fifth = try raise(eu, "gallium", "high", "Rail embargo")
        try await jp.waitForLog("hook delivered attempts=1 event=alert-raised/\(fifth)")
        #expect(try recorded().map(\.id) == [first, second, third, fourth, fifth].map { "alert-raised/\($0)" })

        for daemon in [eu, jp, us] { try await daemon.stop() }
        await receiver.close()
    }

    /// A pager that always refuses one event (its text breaks the pager's gateway) would hold
    /// back every later alert. `status` names the event and the error; the operator skips it
    /// by name, and the next alerts are paged; after a restart the skipped one stays skipped.
    @Test func anEventAHookAlwaysRefusesIsSkippedByTheOperatorAndTheNextArePaged() async throws {
        let out = root.path("poison-out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let pager = try script(
            "poison-pager.sh",
            """
            body=$(cat)
            case "$body" in *POISON*) echo "the gateway refuses this text" >&2; exit 3;; esac
            echo "$MINERALSYNC_EVENT_ID" >> "\(out)/paged.log"
            """)
        let paged = { (try? String(contentsOfFile: "\(out)/paged.log", encoding: .utf8))?.split(separator: "\n").map(String.init) ?? [] }
        let ports = freePorts(2)
        let eu = try DaemonProcess("EU", "eu-1", port: ports[0], peers: [ports[1]], root: root.url.path, pki: pki, files: files)
        let jp = try DaemonProcess(
            "JP", "jp-1", port: ports[1], peers: [ports[0]], root: root.url.path, pki: pki, files: files,
            extraConfig: """
                hooks:
                  - name: pager
                    events: [alert-raised]
                    exec: \(pager)
                """)
        for daemon in [eu, jp] { try await daemon.start() }
        _ = try await eu.syncAndWait(with: [jp])

        let poison = "alert-raised/" + (try raise(eu, "gallium", "high", "POISON in the summary"))
        let next = "alert-raised/" + (try raise(eu, "gallium", "critical", "Export ban"))
        try await jp.waitForLog("attempt=2 event=\(poison) hook=pager reason=\"exited with status 3: the gateway refuses this text\"")
        let hook = try #require(try jp.status().hooks?.first)
        #expect(hook.failingEvent == poison && hook.retryingSince != nil && hook.queued >= 2 && hook.delivered == 0)
        let text = try await CommandRun.ctl(jp, ["status"]).output
        #expect(text.contains("failing on \(poison) since"), "\(text)")

        // Named wrongly: nothing is skipped, and the answer says what is what.
        let wrongEvent = try await CommandRun.ctl(jp, ["hooks", "skip", "pager", next])
        #expect(
            wrongEvent.status == 65 && wrongEvent.error.contains("hook \"pager\" is failing on event \(poison), not on \(next): nothing was skipped"),
            "\(wrongEvent.error)")
        let wrongHook = try await CommandRun.ctl(jp, ["hooks", "skip", "page", poison])
        #expect(wrongHook.status == 1 && wrongHook.error.contains("no hook is named \"page\": the hooks are \"pager\""), "\(wrongHook.error)")
        let noEvent = try await CommandRun.ctl(jp, ["hooks", "skip", "pager", ""])
        #expect(noEvent.status == 65 && noEvent.error.contains("event: name the event the hook keeps failing on"), "\(noEvent.error)")
        let long = try await CommandRun.ctl(jp, ["hooks", "skip", "pager", String(repeating: "x", count: 100_000)])
        #expect(long.status == 65 && long.error.contains("at most 256 bytes each") && long.error.count < 200, "\(long.error.prefix(300))")
        #expect(paged().isEmpty)

        // Skipped: answered once the hook moved past it, and the next alert is paged.
        let skipped = try await CommandRun.ctl(jp, ["hooks", "skip", "pager", poison])
        #expect(skipped.status == 0, "\(skipped.error)")
        #expect(skipped.output.contains("hook pager: skipped \(poison) after"), "\(skipped.output)")
        #expect(skipped.output.contains("(last: exited with status 3: the gateway refuses this text)"), "\(skipped.output)")
        try await jp.waitForLog("hook delivered attempts=1 event=\(next)")
        try await jp.waitForLog("hook event skipped by the operator: this hook never delivers it cursor-saved=true event=\(poison)")
        let after = try #require(try jp.status().hooks?.first)
        #expect(after.skipped == 1 && after.failingEvent == nil && after.retryingSince == nil && after.delivered == 1)
        let again = try await CommandRun.ctl(jp, ["hooks", "skip", "pager", poison])
        #expect(again.status == 65 && again.error.contains("hook \"pager\" is not failing on any event: nothing was skipped"), "\(again.error)")

        // Skipped for good: a restart resumes after it.
        try await jp.stop()
        try await jp.start()
        let third = "alert-raised/" + (try raise(eu, "gallium", "high", "Smelter fire"))
        try await jp.waitForLog("hook delivered attempts=1 event=\(third)")
        #expect(paged() == [next, third])
        for daemon in [eu, jp] { try await daemon.stop() }
    }

    /// An operator adds a pager at 3 a.m. without restarting the node, and takes it out again.
    @Test func aReloadAddsAndRemovesHooksWithoutARestart() async throws {
        let out = root.path("reload-out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let pager = try script("reload-pager.sh", "cat >> \(out)/events.log\necho >> \(out)/events.log\n")
        let ports = freePorts(2)
        let eu = try DaemonProcess("EU", "eu-1", port: ports[0], peers: [ports[1]], root: root.url.path, pki: pki, files: files)
        let jp = try DaemonProcess("JP", "jp-1", port: ports[1], peers: [ports[0]], root: root.url.path, pki: pki, files: files)
        for daemon in [eu, jp] { try await daemon.start() }
        _ = try await eu.syncAndWait(with: [jp])
        #expect(try jp.status().hooks == nil)
        let original = try String(contentsOfFile: jp.configPath, encoding: .utf8)
        try (original + "\nhooks:\n  - name: pager\n    events: [alert-raised]\n    exec: \(pager)\n").write(
            toFile: jp.configPath, atomically: true, encoding: .utf8)
        var mark = jp.logText.count
        jp.hangUp()
        try await jp.waitForLog("reload: hooks reconfigured", after: mark)
        #expect(try jp.status().hooks?.map(\.name) == ["pager"])
        let raised = try raise(eu, "gallium", "high", "Added at night")
        try await jp.waitForLog("hook delivered attempts=1 event=alert-raised/\(raised)")
        #expect(try String(contentsOfFile: "\(out)/events.log", encoding: .utf8).contains("Added at night"))

        try original.write(toFile: jp.configPath, atomically: true, encoding: .utf8)
        mark = jp.logText.count
        jp.hangUp()
        try await jp.waitForLog("reload: hooks reconfigured", after: mark)
        #expect(try jp.status().hooks == nil)
        for daemon in [eu, jp] { try await daemon.stop() }
    }

    @Test func checkConfigNamesWhatIsWrongWithAHook() async throws {
        let notExecutable = root.path("plain.txt")
        try "not a program".write(toFile: notExecutable, atomically: true, encoding: .utf8)
        let node = try DaemonProcess(
            "EU", "eu-1", port: freePorts(1)[0], peers: [], root: root.url.path, pki: pki, files: files,
            extraConfig: """
                hooks:
                  - events: [alert-raised, reserve-low]
                    exec: \(notExecutable)
                  - events: [reserve-below-target]
                    min-severity: high
                    webhook: https://chat.example/hook
                """)
        let result = try await CommandRun.run("mineral-syncd", ["check-config", node.configPath])
        #expect(result.status == 78)
        #expect(result.error.contains("hooks[0].events[1]: \"reserve-low\" is not an event: one of alert-raised"), "\(result.error)")
        #expect(result.error.contains("hooks[1].min-severity: applies to alert events only"), "\(result.error)")
        #expect(result.error.contains("hooks[1].webhook: \"https://chat.example/hook\" is https"), "\(result.error)")
        // The form fixed, the file the hook names is checked.
        let text = try String(contentsOfFile: node.configPath, encoding: .utf8)
            .replacingOccurrences(of: ", reserve-low]", with: "]").replacingOccurrences(of: "\n    min-severity: high", with: "")
            .replacingOccurrences(of: "https://chat.example/hook", with: "http://127.0.0.1:9/hook")
        try text.write(toFile: node.configPath, atomically: true, encoding: .utf8)
        let second = try await CommandRun.run("mineral-syncd", ["check-config", node.configPath])
        #expect(second.status == 78)
        #expect(second.error.contains("hooks[0].exec: \(notExecutable) is not an executable file"), "\(second.error)")
    }
}
