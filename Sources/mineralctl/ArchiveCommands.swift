import AdminAPI
import ArgumentParser
import Foundation

struct Archive: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The history below the latest checkpoint, in a file anyone holding the trust anchors can check later.",
        subcommands: [Export.self, Drop.self])

    /// The daemon opens the file, from its own working directory: a relative path is this
    /// command's.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    struct Drop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop the history below the latest checkpoint from the store, once its archive checks out.",
            discussion: """
                Only with `history.drop-archived: true` in the node's config. The daemon checks FILE as                 `mineral-syncd verify-archive` does and that it covers the latest checkpoint, then removes those entries: the                 node shows the same registry, and holds and serves only what followed (as a node that joined from that                 checkpoint). Keep the archive: the node cannot give that history back.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The archive of the latest checkpoint (`archive export`).") var archive: String

        func run() throws {
            let dropped = try Exit.guarding { try global.client.call(AdminAPI.dropArchivedHistory, ArchiveRequest(path: Archive.absolute(archive))) }
            if global.json { return Output.json(dropped) }
            print("dropped \(dropped.dropped) entries below the checkpoint of \(dropped.checkpoint) entries; \(dropped.path) holds them")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the history below the latest checkpoint to a file (the node keeps all of it).",
            discussion: """
                The daemon writes the file (it reads its store): FILE must be a path the daemon may write, a new file \
                mode 0600. The archive holds the checkpoint's co-signed statements, every certificate that signed, and \
                every entry up to the checkpoint. Check it anywhere with `mineral-syncd verify-archive FILE --config NODE.yaml`.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The archive file to write.") var out: String

        func run() throws {
            let written = try Exit.guarding { try global.client.call(AdminAPI.exportArchive, ArchiveRequest(path: Archive.absolute(out))) }
            if global.json { return Output.json(written) }
            print(
                "wrote \(written.entries) entries (\(written.bytes) bytes) to \(written.path); check it with: mineral-syncd verify-archive \(written.path) --config NODE.yaml"
            )
            Output.fields([
                ("checkpoint", "\(written.entries) entries, digest \(written.digest.prefix(16)), signed by \(written.signedBy.joined(separator: ", "))"),
                ("vector", Output.vector(written.versionVector))
            ])
        }
    }
}
