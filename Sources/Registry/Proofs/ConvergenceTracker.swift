import OpenSSLCrypto

/// What a node knows of the alliance's agreement on the registry: the latest statement of every
/// node (checked by the caller: signed by a certificate of that node), its own recent ones,
/// the last agreement per participant, and the latest checkpoint. Pure: the shell feeds it
/// statements and acts on what it returns (log a divergence as a security event, relay what is
/// new, persist a checkpoint).
///
/// Two statements compare only at the same vector. A statement is compared when it arrives, if
/// this node's views are at its vector now or were when it signed its own recent statements;
/// otherwise it waits (the latest per node) and is compared when this node signs that vector.
public struct ConvergenceTracker: Sendable {
    public struct Agreement: Sendable, Hashable {
        public let node: NodeID
        public let vector: VersionVector
        public let digest: SHA256Digest
        public let signedAtMillis: UInt64
    }

    public struct Divergence: Sendable, Hashable, CustomStringConvertible {
        public let node: NodeID
        public let vector: VersionVector
        public let ours: SHA256Digest
        public let theirs: SHA256Digest

        public var description: String {
            "at the vector of \(vector.total) entries \(node) shows digest \(theirs.hex), this node \(ours.hex)"
        }
    }

    /// The same vector and digest signed by a node of every participant of the quorum.
    public struct Checkpoint: Sendable, Hashable {
        public let vector: VersionVector
        public let digest: SHA256Digest
        /// One statement per participant, in participant order.
        public let statements: [SignedStatement]

        public init(vector: VersionVector, digest: SHA256Digest, statements: [SignedStatement]) {
            self.vector = vector
            self.digest = digest
            self.statements = statements
        }
    }

    public enum Outcome: Sendable, Hashable {
        /// Not newer than the statement held from that node: nothing to do, nothing to relay.
        case known
        /// Kept (and to relay); not comparable yet: this node's views were never at its vector.
        case kept
        case agreed(Agreement)
        case diverged(Divergence)
    }

    /// Participants whose agreement makes a checkpoint.
    public let quorum: Set<ParticipantID>
    public let node: NodeID
    /// How many of its own statements this node remembers (vector and digest) to compare with.
    public static let ownRemembered = 32

    public private(set) var latest: [NodeID: SignedStatement] = [:]
    private var own: [(vector: VersionVector, digest: SHA256Digest)] = []
    public private(set) var agreements: [ParticipantID: Agreement] = [:]
    public private(set) var checkpoint: Checkpoint?

    public init(node: NodeID, quorum: Set<ParticipantID>) {
        self.node = node
        self.quorum = quorum
    }

    /// This node signed a statement: remembered, and compared with every held statement at
    /// the same vector (they may have waited for it).
    public mutating func recordOwn(_ signed: SignedStatement) -> [Outcome] {
        let statement = signed.statement
        own.removeAll { $0.vector == statement.vector }
        own.append((statement.vector, statement.digest))
        if own.count > Self.ownRemembered { own.removeFirst(own.count - Self.ownRemembered) }
        latest[node] = signed
        var outcomes: [Outcome] = []
        for (other, held) in latest.sorted(by: { $0.key < $1.key }) where other != node && held.statement.vector == statement.vector {
            outcomes.append(compare(held, with: statement.digest))
        }
        findCheckpoint(at: statement.vector, digest: statement.digest)
        return outcomes
    }

    /// Whether a statement of that node at least as new is held (a caller need not check it).
    public func holds(_ signed: SignedStatement) -> Bool {
        guard let held = latest[signed.statement.node] else { return false }
        return held.statement.signedAtMillis >= signed.statement.signedAtMillis
    }

    /// A statement from another node (its signature checked by the caller). `current` is this
    /// node's views' vector and a way to get their digest now.
    public mutating func receive(_ signed: SignedStatement, current: VersionVector, digest: () -> SHA256Digest) -> Outcome {
        let statement = signed.statement
        guard statement.node != node, !holds(signed) else { return .known }
        latest[statement.node] = signed
        let ours: SHA256Digest?
        if statement.vector == current {
            ours = digest()
        } else {
            ours = own.last { $0.vector == statement.vector }?.digest
        }
        guard let ours else { return .kept }
        let outcome = compare(signed, with: ours)
        if case .agreed = outcome { findCheckpoint(at: statement.vector, digest: ours) }
        return outcome
    }

    private mutating func compare(_ signed: SignedStatement, with ours: SHA256Digest) -> Outcome {
        let statement = signed.statement
        guard statement.digest == ours else {
            return .diverged(Divergence(node: statement.node, vector: statement.vector, ours: ours, theirs: statement.digest))
        }
        let agreement = Agreement(node: statement.node, vector: statement.vector, digest: ours, signedAtMillis: statement.signedAtMillis)
        agreements[statement.node.participant] = agreement
        return .agreed(agreement)
    }

    /// A checkpoint at `vector` when a node of every participant of the quorum signed it with
    /// `digest` (this node's own statement counts for its participant). Kept if it covers more
    /// than the one held.
    private mutating func findCheckpoint(at vector: VersionVector, digest: SHA256Digest) {
        guard !quorum.isEmpty else { return }
        var byParticipant: [ParticipantID: SignedStatement] = [:]
        for (node, signed) in latest.sorted(by: { $0.key < $1.key })
        where quorum.contains(node.participant) && signed.statement.vector == vector && signed.statement.digest == digest {
            if byParticipant[node.participant] == nil { byParticipant[node.participant] = signed }
        }
        guard byParticipant.count == quorum.count else { return }
        if let held = checkpoint, held.vector.dominates(vector) { return }
        checkpoint = Checkpoint(
            vector: vector, digest: digest,
            statements: byParticipant.sorted { $0.key < $1.key }.map(\.value))
    }

    /// A checkpoint read back from the store.
    public mutating func restore(_ checkpoint: Checkpoint) {
        self.checkpoint = checkpoint
    }
}
