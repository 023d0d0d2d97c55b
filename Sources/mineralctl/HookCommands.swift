import AdminAPI
import ArgumentParser

struct Hooks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Notification hooks: stop retrying an event a hook keeps failing on.",
        discussion: """
            `mineralctl status` lists the hooks, and for one that keeps failing, the event it is
            failing on and why.
            """,
        subcommands: [Skip.self])

    struct Skip: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Skip the event a hook keeps failing to deliver, so that it goes on with the next.",
            discussion: """
                A hook delivers its events in the order they were committed, and retries one that
                fails for as long as it takes: an event its program or endpoint always refuses holds
                back every later one. Skipping it moves the hook past it for good (this hook never
                delivers it; the skip is logged with the event and the last error). Name the event
                as `mineralctl status` shows it: if the hook delivered it meanwhile, or fails on
                another one, nothing is skipped. Answers once the attempt in flight, if any, ends;
                once asked, a skip is not withdrawn (interrupting this command changes nothing).
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The hook's name, as `status` shows it.", valueName: "hook")) var hook: String
        @Argument(help: ArgumentHelp("The event it keeps failing on, e.g. alert-raised/3f2a….", valueName: "event")) var event: String

        func run() throws {
            let answer = try Exit.guarding { try global.client.call(AdminAPI.skipHookEvent, HookSkipRequest(hook: hook, event: event)) }
            if global.json { return Output.json(answer) }
            switch answer.outcome {
            case "skipped":
                print(
                    "hook \(answer.hook): skipped \(answer.event) after \(answer.failedAttempts) failed attempts (last: \(answer.lastError)); it goes on with the next event"
                )
            default:
                print("hook \(answer.hook): \(answer.event) was delivered by the attempt in flight; nothing was skipped")
            }
        }
    }
}
