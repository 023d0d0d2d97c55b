import AdminAPI
import ArgumentParser

struct Feed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Feeds of this participant's other nodes.",
        subcommands: [Cut.self])

    struct Cut: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End another node's feed of this participant at its last genuine entry (after its key was stolen).",
            discussion: """
                Every node then shows that feed up to SEQ exactly, whatever became of the key that signed it, and
                nothing after it (kept as evidence, listed by `mineralctl status`). Only a node of the same
                participant may cut, never the node itself: for a participant with one node, its replacement under
                a new name. This node must hold the feed up to SEQ. Revoke the node's certificate first (a CRL),
                so that its key signs nothing more anywhere. See Deploy/README.md, "A stolen key".
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The feed, e.g. EU/eu-1 (or one segment of it, EU/eu-1@7).", valueName: "participant/node"))
        var feed: String
        @Option(help: ArgumentHelp("Its last genuine entry (0: none was).", valueName: "seq")) var at: UInt64
        @Option(help: "Why, for the record (at most 2,048 bytes).") var reason: String?

        func run() throws {
            let written: WriteResponse = try Exit.guarding { try global.client.call(AdminAPI.cutFeed, FeedCutRequest(feed: feed, seq: at, reason: reason)) }
            if global.json { return Output.json(written) }
            print("cut \(feed) at seq \(at): entry \(written.id.prefix(16)) (seq \(written.seq) of this node's feed)")
        }
    }
}
