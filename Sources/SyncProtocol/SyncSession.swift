import Registry

/// One sync session with one peer, without I/O: the shell feeds it what happened (a message
/// arrived, new entries were accepted locally, the anti-entropy timer fired) and performs the
/// actions it returns. Unit-tested without sockets.
///
/// `peerHas` is what the peer is known to hold: its advertised vector, raised by what it sends us
/// and (optimistically) by what we send it. New entries go out only when the peer lacks them;
/// when the peer's vector shows a gap, the missing range is streamed from the store. A received
/// `vector` corrects the optimism, so anything lost is sent again: that is the anti-entropy
/// repair. What is in flight is not: a feed is sent again from what the peer confirms only once
/// the peer has failed to confirm it for a whole anti-entropy interval, so repeating a vector (or
/// a ping) never makes the node send what the peer holds or is still receiving.
public struct SyncSession: Sendable {
    public enum State: String, Sendable, Hashable {
        case awaitingHello = "awaiting hello"
        case established
        case closed
    }

    public enum Action: Sendable, Hashable {
        case send(SyncMessage)
        /// Read these ranges from the store and send them, oldest first per feed, in bounded batches.
        case stream([NodeID: ClosedRange<UInt64>])
        /// Send the certificate chains of these origins before their entries.
        case sendCertificates([NodeID])
        /// Verify the certificates, then validate and store the entries (the sync engine's job).
        case ingest([SignedEntry], certificates: [OriginCertificate])
        /// Check these CRLs and put those newer than ours in force (the sync engine's job).
        case takeRevocations([[UInt8]])
        /// Signed view statements the peer sent (convergence proofs).
        case takeStatements([SignedStatement])
        /// The hello exchange is done: the session may be counted as connected.
        case established(peerVector: VersionVector)
        /// The peer says it holds more of *our own* feed than we do (we were restored from a
        /// backup): a claim, proven only by the entry at that position signed with our key.
        case ownFeedBehind(peerHolds: UInt64)
        /// The peer lacks part of its *own* feed (it was restored from a backup): send it the
        /// entry at `seq` at once, as the proof that it must wait for the rest before writing.
        case proveHead(seq: UInt64)
        /// The peer's head entry ids for feeds we hold at least as far: wherever our entry at
        /// that seq differs, the feed is forked; send ours so the peer holds the evidence too.
        case compareHeads([NodeID: PeerHead])
        /// The peer asks for this node's checkpoint state: send it (`CheckpointPart.parts`).
        case serveCheckpoint
        /// The peer asked has no checkpoint to serve.
        case checkpointUnavailable
        /// The checkpoint state the peer sent, whole: check it, and start from it or refuse it.
        case joinFromCheckpoint([UInt8])
        /// Say goodbye (when the reason is ours) and close the connection.
        case close(GoodbyeReason, detail: String, sendGoodbye: Bool)
    }

    public let local: NodeID
    /// The node the peer's TLS certificate names: the only identity its hello may claim.
    public let peer: NodeID
    public private(set) var state: State = .awaitingHello
    public private(set) var peerHas = VersionVector()
    /// Optional messages the peer takes (its hello's `features`).
    public private(set) var peerFeatures: Set<String> = []
    /// Origins whose certificates this peer has been sent (or sent us) in this session. The
    /// peer knows its own; ours go with our first entries, since a peer knows only our current
    /// certificate from the handshake, not those our older entries name.
    private var certificatesKnownToPeer: Set<NodeID> = []
    /// Anti-entropy intervals since the session started.
    private var epoch = 0
    /// Per feed, what was sent (pushed or queued for streaming) and not confirmed yet: the
    /// highest seq sent in each epoch, oldest first (one record per epoch, so a few per feed).
    private var unconfirmed: [NodeID: [(upTo: UInt64, epoch: Int)]] = [:]
    /// The vector last sent, and when: a ping is answered with the vector only when it changed
    /// or once per interval.
    private var vectorSent: (vector: VersionVector, epoch: Int)?
    /// The peer joins from a checkpoint (its hello listed `awaits-checkpoint`): it is sent no
    /// entries until it sends a vector.
    public private(set) var peerAwaitsCheckpoint = false
    /// This node joins from a checkpoint: it sends no vector (which would make the peer send
    /// the whole history) until `checkpointSettled`.
    public private(set) var awaitingCheckpoint = false
    /// The checkpoint state asked of this peer, as far as it arrived (nil: none asked).
    private var checkpointReceived: [UInt8]?
    /// The peer asked for our checkpoint state in this session (once is all it may).
    private var checkpointServed = false
    private var checkpointTotal: UInt64 = 0
    /// A transfer this node stopped waiting for: the rest of its parts are dropped as they come.
    private var discardingCheckpoint = false
    /// The largest checkpoint state this node takes (`sync.max-checkpoint-bytes`).
    public var maximumCheckpointBytes: UInt64 = 256 << 20

    public init(local: NodeID, peer: NodeID) {
        self.local = local
        self.peer = peer
        certificatesKnownToPeer = [peer]
    }

    /// The origins' key histories changed (a rotation, here or at the origin): their chains go
    /// to the peer again before their next entries.
    public mutating func certificatesChanged(_ origins: [NodeID]) {
        certificatesKnownToPeer.subtract(origins.filter { $0 != peer })
    }

    /// Opens the session: both sides send hello at once.
    /// `features`: what this node takes; with `awaits-checkpoint`, it joins from a checkpoint.
    public mutating func start(localVector: VersionVector, headIDs: [NodeID: EntryID] = [:], features: Set<String> = SyncFeature.all) -> [Action] {
        awaitingCheckpoint = features.contains(SyncFeature.awaitsCheckpoint)
        return [.send(.hello(SyncHello(node: local, vector: localVector, headIDs: headIDs, features: features)))]
    }

    /// Asks this peer for its checkpoint state, if it serves one; false when it does not.
    public mutating func requestCheckpoint() -> [Action]? {
        guard state == .established, peerFeatures.contains(SyncFeature.checkpointViews), checkpointReceived == nil, !discardingCheckpoint else { return nil }
        checkpointReceived = []
        checkpointTotal = 0
        return [.send(.checkpointRequest)]
    }

    /// This node no longer waits for the state it asked this peer for (it took too long): the
    /// rest of it is dropped as it arrives, without holding it, and without blaming the peer.
    public mutating func abandonCheckpoint() {
        if checkpointReceived != nil { discardingCheckpoint = true }
        checkpointReceived = nil
    }

    /// This node started from a checkpoint, or gave up doing so: it tells the peer what it
    /// holds, and the peer sends what it lacks from there.
    public mutating func checkpointSettled(localVector: VersionVector) -> [Action] {
        abandonCheckpoint()
        guard awaitingCheckpoint else { return [] }
        awaitingCheckpoint = false
        guard state == .established else { return [] }
        vectorSent = (localVector, epoch)
        return [.send(.vector(localVector))]
    }

    /// A message arrived from the peer.
    public mutating func receive(_ message: SyncMessage, localVector: VersionVector) -> [Action] {
        switch (state, message) {
        case (.closed, _):
            return []
        case (_, .goodbye(let reason, let detail)):
            state = .closed
            return [.close(reason, detail: "peer said goodbye: \(reason)\(detail.isEmpty ? "" : " (\(detail))")", sendGoodbye: false)]
        case (.awaitingHello, .hello(let hello)):
            guard hello.protocolVersion == syncProtocolVersion else { return fail(.unsupportedVersion(hello.protocolVersion)) }
            guard hello.node == peer else { return fail(.identityMismatch(certificate: peer, hello: hello.node)) }
            state = .established
            peerHas = hello.vector
            peerFeatures = hello.features
            peerAwaitsCheckpoint = hello.features.contains(SyncFeature.awaitsCheckpoint)
            var actions: [Action] = [.established(peerVector: hello.vector)]
            // Feeds where we hold the peer's head seq too: the shell compares ids there.
            var claims: [NodeID: PeerHead] = [:]
            for (feed, id) in hello.headIDs where hello.vector[feed] <= localVector[feed] {
                claims[feed] = PeerHead(seq: hello.vector[feed], id: id)
            }
            if !claims.isEmpty { actions.append(.compareHeads(claims)) }
            if hello.vector[local] > localVector[local] { actions.append(.ownFeedBehind(peerHolds: hello.vector[local])) }
            if !peerAwaitsCheckpoint { actions += catchUp(localVector: localVector) }
            return actions
        case (.awaitingHello, _):
            return fail(.unexpectedMessage(kind: message.kind, state: state.rawValue))
        case (.established, .hello):
            return fail(.unexpectedMessage(kind: "second hello", state: state.rawValue))
        case (.established, .entries(let entries)):
            // A peer that knows checkpoints sends a node that awaits one no entry before its vector.
            if awaitingCheckpoint, peerFeatures.contains(SyncFeature.checkpointViews) {
                return fail(.unexpectedMessage(kind: "entries (this node awaits its checkpoint and has sent no vector)", state: state.rawValue))
            }
            return [.ingest(entries, certificates: [])]
        case (.established, .certificates(let certificates)):
            for certificate in certificates { certificatesKnownToPeer.insert(certificate.node) }
            return [.ingest([], certificates: certificates)]
        case (.established, .vector(let vector)):
            peerAwaitsCheckpoint = false
            confirm(vector, localVector: localVector)
            var actions: [Action] = []
            if vector[local] > localVector[local] { actions.append(.ownFeedBehind(peerHolds: vector[local])) }
            return actions + catchUp(localVector: localVector)
        case (.established, .ping(let nonce)):
            // A ping asks "what do you hold now?": the answer is our vector (unless the peer
            // already has it from this interval), then the pong. Not while this node awaits its
            // checkpoint: the peer would send it the whole history.
            if awaitingCheckpoint { return [.send(.pong(nonce, wallMillis: 0))] }
            if let sent = vectorSent, sent.vector == localVector, sent.epoch == epoch { return [.send(.pong(nonce, wallMillis: 0))] }
            vectorSent = (localVector, epoch)
            return [.send(.vector(localVector)), .send(.pong(nonce, wallMillis: 0))]
        case (.established, .pong):
            return []
        case (.established, .revocations(let crls)):
            return [.takeRevocations(crls)]
        case (.established, .statements(let statements)):
            return [.takeStatements(statements)]
        case (.established, .checkpointRequest):
            guard !checkpointServed else { return fail(.unexpectedMessage(kind: "second checkpoint request", state: state.rawValue)) }
            checkpointServed = true
            return [.serveCheckpoint]
        case (.established, .checkpointPart(let part)):
            return receive(part)
        }
    }

    /// A part of the checkpoint state asked for: in order, within the size limit.
    private mutating func receive(_ part: CheckpointPart) -> [Action] {
        // The count only: a copy of the buffer held across the append below would make every
        // part copy all the parts before it.
        guard let received = checkpointReceived?.count else {
            if discardingCheckpoint {
                if part.total == 0 || part.offset + UInt64(part.data.count) >= part.total { discardingCheckpoint = false }
                return []
            }
            return fail(.unexpectedMessage(kind: "checkpoint part (none was asked for)", state: state.rawValue))
        }
        if part.total == 0 {
            checkpointReceived = nil
            return [.checkpointUnavailable]
        }
        guard part.total <= maximumCheckpointBytes else {
            return fail(.limitExceeded("a checkpoint state of \(part.total) bytes; this node takes at most \(maximumCheckpointBytes)"))
        }
        guard part.offset == UInt64(received), received == 0 || part.total == checkpointTotal else {
            return fail(.undecodableMessage("a checkpoint part at \(part.offset) of \(part.total) bytes; \(received) arrived so far"))
        }
        checkpointTotal = part.total
        if received == 0 { checkpointReceived!.reserveCapacity(Int(part.total)) }
        checkpointReceived!.append(contentsOf: part.data)
        guard UInt64(checkpointReceived!.count) == part.total else { return [] }
        let whole = checkpointReceived!
        checkpointReceived = nil
        return [.joinFromCheckpoint(whole)]
    }

    /// Entries the peer sent us were accepted: it holds them, so they need not go back to it.
    public mutating func peerSent(_ accepted: [Entry]) {
        for entry in accepted where peerHas[entry.origin] < entry.seq {
            peerHas[entry.origin] = entry.seq
        }
    }

    /// New entries (authored here or accepted from any peer) that this peer may lack: push them.
    /// Entries must be given in feed order. Entries that do not follow what the peer holds are
    /// preceded by a streamed range for the gap.
    public mutating func offer(_ entries: [Entry]) -> [Action] {
        guard state == .established, !peerAwaitsCheckpoint else { return [] }
        var direct: [SignedEntry] = []
        var gaps: [NodeID: ClosedRange<UInt64>] = [:]
        var newOrigins: [NodeID] = []
        for entry in entries {
            let held = peerHas[entry.origin]
            guard entry.seq > held else { continue }
            if entry.seq > held + 1 {
                let start = gaps[entry.origin]?.lowerBound ?? held + 1
                gaps[entry.origin] = start...(entry.seq - 1)
            }
            if !certificatesKnownToPeer.contains(entry.origin) {
                certificatesKnownToPeer.insert(entry.origin)
                newOrigins.append(entry.origin)
            }
            direct.append(entry.signed)
            peerHas[entry.origin] = entry.seq
            markSent(entry.origin, upTo: entry.seq)
        }
        var actions: [Action] = []
        if !newOrigins.isEmpty { actions.append(.sendCertificates(newOrigins)) }
        if !gaps.isEmpty { actions.append(.stream(gaps)) }
        if !direct.isEmpty { actions.append(.send(.entries(direct))) }
        return actions
    }

    /// The anti-entropy timer: tell the peer what we hold, so it can send what we miss.
    public mutating func antiEntropyTick(localVector: VersionVector) -> [Action] {
        guard state == .established, !awaitingCheckpoint else { return [] }
        epoch += 1
        vectorSent = (localVector, epoch)
        return [.send(.vector(localVector))]
    }

    /// The peer's vector: what it holds. Raises `peerHas` (for feeds this node holds: a peer's
    /// vector cannot make the session remember feeds without end); lowers it back to the vector
    /// for a feed whose oldest unconfirmed send is a whole interval old (lost, or refused there):
    /// the feed is sent again from what the peer holds, once.
    private mutating func confirm(_ vector: VersionVector, localVector: VersionVector) {
        for (feed, seq) in vector.heads where seq > peerHas[feed] && localVector[feed] > 0 { peerHas[feed] = seq }
        for (feed, sends) in unconfirmed {
            let open = sends.filter { $0.upTo > vector[feed] }
            if let oldest = open.first, epoch - oldest.epoch >= 2 {
                peerHas[feed] = vector[feed]
                unconfirmed[feed] = nil
            } else {
                unconfirmed[feed] = open.isEmpty ? nil : open
            }
        }
    }

    private mutating func markSent(_ feed: NodeID, upTo seq: UInt64) {
        var sends = unconfirmed[feed] ?? []
        if let last = sends.last, last.epoch == epoch {
            sends[sends.count - 1].upTo = max(last.upTo, seq)
        } else {
            sends.append((seq, epoch))
        }
        unconfirmed[feed] = sends
    }

    /// A frame or message failed to decode, or the entries/certificates the peer sent broke
    /// the protocol: close with the reason.
    public mutating func fail(_ error: SyncProtocolError) -> [Action] {
        guard state != .closed else { return [] }
        state = .closed
        return [.close(error.goodbyeReason, detail: error.description, sendGoodbye: true)]
    }

    /// We are shutting down, or closing a duplicate session.
    public mutating func close(_ reason: GoodbyeReason, detail: String = "") -> [Action] {
        guard state != .closed else { return [] }
        state = .closed
        return [.close(reason, detail: detail, sendGoodbye: true)]
    }

    /// What the peer lacks of what we hold, optimistically marked as sent.
    private mutating func catchUp(localVector: VersionVector) -> [Action] {
        let missing = peerHas.missing(comparedTo: localVector)
        guard !missing.isEmpty else { return [] }
        var actions: [Action] = []
        if let own = missing[peer] { actions.append(.proveHead(seq: own.upperBound)) }
        let newOrigins = missing.keys.filter { !certificatesKnownToPeer.contains($0) }.sorted()
        if !newOrigins.isEmpty {
            certificatesKnownToPeer.formUnion(newOrigins)
            actions.append(.sendCertificates(newOrigins))
        }
        for (node, range) in missing {
            peerHas[node] = range.upperBound
            markSent(node, upTo: range.upperBound)
        }
        actions.append(.stream(missing))
        return actions
    }
}

/// A peer's claim about a feed: it holds entries 1...seq, and the one at seq has this id.
public struct PeerHead: Sendable, Hashable {
    public let seq: UInt64
    public let id: EntryID

    public init(seq: UInt64, id: EntryID) {
        self.seq = seq
        self.id = id
    }
}
