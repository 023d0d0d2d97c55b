import AdminAPI
import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

@main
enum MineralctlMain {
    static func main() {
        // A parent may have blocked signals (a test runner, some supervisors), and children
        // inherit the mask: `watch` would then outlive a SIGTERM. Take them as they come.
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        Mineralctl.main(GlobalOptions.movedToTheEnd(Array(CommandLine.arguments.dropFirst())))
    }
}

struct Mineralctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mineralctl",
        abstract: "Administer the local MineralSync node through its admin socket.",
        discussion: """
            The socket is --socket, else $MINERAL_SYNC_SOCKET, else /run/mineral-sync/admin.sock.
            Every command takes --json for machine-readable output.
            Shell completions: mineralctl --generate-completion-script bash|zsh|fish
            """,
        subcommands: [
            Status.self, Peers.self, Sync.self, Reserve.self, Alert.self, Watch.self, Minerals.self, Feed.self, Proof.self, Archive.self, Hooks.self,
            Dashboard.self
        ])
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The node's admin socket.", valueName: "path"))
    var socket: String?

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["MINERAL_SYNC_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/mineral-sync/admin.sock"
    }

    var client: AdminClient { AdminClient(socketPath: socketPath) }

    /// `mineralctl --socket S --json status` reads naturally, but argument-parser only parses a
    /// subcommand's options after its name: global options are moved to the end of the line.
    static func movedToTheEnd(_ arguments: [String]) -> [String] {
        var rest: [String] = []
        var global: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                rest += arguments[index...]
                break
            }
            if argument == "--json" {
                global.append(argument)
            } else if argument == "--socket", index + 1 < arguments.count {
                global += [argument, arguments[index + 1]]
                index += 1
            } else if argument.hasPrefix("--socket=") {
                global.append(argument)
            } else {
                rest.append(argument)
            }
            index += 1
        }
        if let terminator = rest.firstIndex(of: "--") {
            rest.insert(contentsOf: global, at: terminator)
            return rest
        }
        return rest + global
    }
}

/// Exit codes from sysexits.h, so scripts can tell failures apart.
enum Exit {
    static let failure: Int32 = 1
    static let dataError: Int32 = 65  // the request was refused as invalid
    static let unavailable: Int32 = 69  // the daemon is not running
    static let noPermission: Int32 = 77  // the socket, or the ownership policy
    static let temporaryFailure: Int32 = 75  // not writable yet, or timed out
    static let configurationError: Int32 = 78  // the node's certificate is not valid now

    /// Runs `body`; a failure becomes one line on stderr and a non-zero exit.
    static func guarding<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AdminClient.ClientError {
            FileHandle.standardError.write(Data("mineralctl: \(error.description)\n".utf8))
            throw ExitCode(code(for: error))
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("mineralctl: \(error.message)\n".utf8))
            throw ExitCode(dataError)
        }
    }

    static func code(for error: AdminClient.ClientError) -> Int32 {
        switch error {
        case .notRunning: unavailable
        case .permissionDenied: noPermission
        case .socket, .malformedResponse: failure
        case .api(let status, let body):
            switch (status, body.error) {
            case (_, "validation"), (_, "too-large"), (_, "not-failing"), (_, "other-event"): dataError
            case (_, "policy"): noPermission
            case (_, "certificate"): configurationError
            case (503, _), (504, _), (_, "not-connected"): temporaryFailure
            default: failure
            }
        }
    }
}

/// A problem found before asking the daemon (a CSV file that cannot be read).
struct UsageError: Error {
    let message: String
}
