import OpenSSLCrypto
import Registry

/// Checkpoint states as a node serves them (views.proto, "Checkpoint state"), made from entries
/// in memory: the views of `entries` (feed prefixes), statements signed by the test alliance's
/// keys, the entry at the vector of every feed.
public enum CheckpointFixture {
    public static let quorum: Set<ParticipantID> = ["EU", "US", "JP"]

    /// The state a node holding `entries` serves, its statements signed by `signers` over
    /// `digest` (default: the views' own); `dropBase` leaves out the first feed's base.
    public static func state(
        of entries: [Entry], alliance: TestAlliance = .standard, signers: [String] = ["EU/eu-1", "US/us-1", "JP/jp-1"],
        digest: SHA256Digest? = nil, dropBase: Bool = false
    ) throws -> (bytes: [UInt8], views: RegistryViews) {
        var views = RegistryViews()
        views.fold(entries)
        var bases: [NodeID: Entry] = [:]
        for entry in entries where entry.seq == views.folded[entry.origin] { bases[entry.origin] = entry }
        if dropBase, let first = bases.keys.sorted().first { bases[first] = nil }
        let statements = try signers.map { name in
            let node = alliance.node(name)
            return try SignedStatement.signing(
                ViewStatement(node: node, vector: views.folded, digest: digest ?? views.digest, signedAtMillis: 1),
                key: alliance.nodes[node]!, signer: SHA256.hash(Array(name.utf8)))
        }
        let checkpoint = ConvergenceTracker.Checkpoint(vector: views.folded, digest: digest ?? views.digest, statements: statements)
        let alerts = entries.filter { $0.subject?.hasPrefix(Entry.alertSubjectStart) == true }
        return (
            try CheckpointState.encode(
                checkpoint, views: views.snapshot(alertEntries: alerts),
                bases: bases.values.sorted { $0.origin < $1.origin }.map(\.signed)), views
        )
    }

    /// `bytes` checked with the test alliance's keys.
    public static func decode(_ bytes: [UInt8], alliance: TestAlliance = .standard) throws(CheckpointState.Problem) -> CheckpointState {
        let keys = alliance.nodes.mapValues(\.publicKey)
        return try CheckpointState(
            decoding: bytes, policy: EntryPolicy(), quorum: quorum,
            statementSigned: { signed in
                keys[signed.statement.node].map(signed.isSigned(by:)) ?? false
            },
            entrySigned: { entry in
                keys[entry.origin.node].map(entry.signed.isSigned(by:)) ?? false
            })
    }
}
