import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OpenSSLCrypto
import OpenSSLTLS
import Registry
import SyncProtocol

/// Runs one `SyncSession` on a verified TLS connection: decodes frames into messages, performs
/// the session's actions, streams catch-up from the store as fast as the socket drains, and
/// drops pushes (to be repaired by anti-entropy) rather than queue without bound for a peer
/// that does not read.
final class PeerSessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Settings: Sendable {
        var antiEntropyInterval: TimeAmount
        var idleTimeout: TimeAmount
        var batchSize: Int
        /// Bytes written but not yet handed to the kernel above which pushes are dropped.
        var maximumPendingBytes: Int
        var maximumIngestsInFlight: Int
        var invalidEntriesPerSession: Int
        /// A peer whose clock differs from ours by more is logged (and shown as a security event).
        var maximumClockSkewMillis: Int64 = 60_000
        /// The largest checkpoint state this node takes (when it joins from a checkpoint).
        var maximumCheckpointBytes = 256 << 20
    }

    private let engine: SyncEngine
    private let manager: PeerManager
    private let direction: SessionTieBreak.Direction
    private let settings: Settings
    private var logger: Logger
    private let linkID: UInt64

    private var session: SyncSession?
    private var streamQueue = StreamQueue()
    private var pendingBytes = 0
    /// A store read for streaming is in flight (`pumpStream`).
    private var readingStore = false
    /// Frames of entries received and not yet taken by the engine.
    private var ingestsInFlight = 0
    private var antiEntropy: RepeatedTask?
    private var lastReceived = NIODeadline.now()
    private var remoteAddress = "?"
    private var rejectionLog = RejectionLog()
    /// The last ping sent: its nonce, and when (for the round trip and the clock offset).
    private var pingSent: (nonce: UInt64, at: NIODeadline, wall: Date)?
    /// Whether this session already logged the peer's clock as skewed (once per session).
    private var skewLogged = false
    /// The session's calls into the engine, made in order by the session's own task (from its
    /// identity on; its last call is the detach).
    private var work: SessionWork?
    private let tasks: SessionTasks
    /// Control messages (vector, ping, pong) a peer may send: a burst of `controlBurst`, then
    /// `controlPerSecond` (an honest peer sends one vector per anti-entropy interval, and pings
    /// when an operator asks). Beyond, it is flooding: closed and penalised.
    private var controlTokens = PeerSessionHandler.controlBurst
    private var controlRefilled = NIODeadline.now()
    static let controlBurst = 200.0, controlPerSecond = 20.0
    /// Calls into the engine one session may have waiting. Reads pause at
    /// `maximumIngestsInFlight` ingests, but the frames of a read already made still arrive
    /// (an honest peer pushing one entry per frame puts hundreds in 64 KiB), and control messages
    /// come in bursts of `controlBurst`: well above both, so only a flood reaches it.
    static let engineCallsWaiting = 4_096
    /// Reading pauses after a batch that brought nothing new (every entry refused or already
    /// held), for longer each time in a row: useless traffic costs the node little, and honest
    /// peers (whose batches bring something) never wait.
    private var uselessPause: TimeAmount = .zero
    private var paused = false
    private var invalidEntries = 0

    private static let nextLinkID = LinkIDCounter()

    init(engine: SyncEngine, manager: PeerManager, direction: SessionTieBreak.Direction, settings: Settings, tasks: SessionTasks, logger: Logger) {
        self.engine = engine
        self.tasks = tasks
        self.manager = manager
        self.direction = direction
        self.settings = settings
        self.logger = logger
        linkID = Self.nextLinkID.next()
    }

    private var peer: NodeID? { session?.peer }

    /// "127.0.0.1:7701" or "[::1]:7701" rather than NIO's "[IPv4]127.0.0.1/127.0.0.1:7701".
    static func text(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    // MARK: connection events

    func channelActive(context: ChannelHandlerContext) {
        remoteAddress = context.remoteAddress.map(Self.text) ?? "?"
        logger[metadataKey: "remote"] = "\(remoteAddress)"
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is SyncNowEvent {
            // An operator's `sync`: our vector now (the peer sends what we lack), and a ping so
            // the peer answers with its own vector (we send what it lacks, and learn it holds it).
            if var session {
                let actions = session.antiEntropyTick(localVector: engine.vector)
                self.session = session
                perform(actions, context)
                ping(context)
            }
            return
        }
        guard let identity = event as? PeerIdentityEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard let peer = try? NodeID(identity.peer.identity) else {
            context.close(promise: nil)
            return
        }
        logger[metadataKey: "peer"] = "\(peer)"
        if let end = manager.penaltyEnd(of: peer) {
            let reason = "\(peer) is refused until \(end.formatted(.iso8601)) for breaking the sync protocol's rules"
            manager.refused(address: remoteAddress, reason: reason)
            write(.goodbye(.protocolViolation, detail: reason), context)
            context.close(promise: nil)
            return
        }
        guard manager.claim(peer, direction: direction, channel: context.channel, verified: identity.peer) else {
            if manager.isStopped {
                write(SyncNode.shuttingDown, context)
            } else {
                logger.info("closing duplicate session")
                write(.goodbye(.duplicateSession, detail: "a session with \(engine.node) already exists"), context)
            }
            context.close(promise: nil)
            return
        }
        session = SyncSession(local: engine.node, peer: peer)
        session!.maximumCheckpointBytes = UInt64(settings.maximumCheckpointBytes)
        let expiry = identity.peer.leaf.notAfter
        manager.update(peer) {
            $0.address = self.remoteAddress
            $0.lastError = nil
            $0.certificateExpiry = expiry
        }
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let link = SyncEngine.SessionLink(peer: peer, id: linkID) { entries in
            loop.execute {
                let (handler, context) = bound.value
                handler.offer(entries, context)
            }
        } held: { entries in
            loop.execute { bound.value.0.session?.peerSent(entries) }
        } certificatesChanged: { origins in
            loop.execute { bound.value.0.session?.certificatesChanged(origins) }
        } revocations: { crls in
            loop.execute {
                let (handler, context) = bound.value
                handler.write(.revocations(crls), context)
            }
        } statements: { statements in
            loop.execute {
                let (handler, context) = bound.value
                handler.send(statements, context)
            }
        } checkpoint: { signal in
            loop.execute {
                let (handler, context) = bound.value
                handler.checkpoint(signal, context)
            }
        }
        let engine = self.engine
        let verified = identity.peer
        work = SessionWork(limit: Self.engineCallsWaiting, tasks: tasks)
        onEngine(context) {
            await engine.learnPeer(verified, chain: verified.chain)
            await engine.attach(link)
        }
        let (vector, headIDs) = engine.vectorAndHeadIDs
        perform(session!.start(localVector: vector, headIDs: headIDs, features: engine.sessionFeatures), context)
        antiEntropy = context.eventLoop.scheduleRepeatedTask(
            initialDelay: settings.antiEntropyInterval, delay: settings.antiEntropyInterval
        ) { _ in
            let (handler, context) = bound.value
            handler.tick(context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard var session else { return }
        lastReceived = .now()
        let frame = unwrapInboundIn(data)
        let actions: [SyncSession.Action]
        var advertised: VersionVector?
        do {
            let message = try SyncMessageCodec.decode(frame.readableBytesView)
            switch message {
            case .vector, .ping, .pong, .revocations, .statements, .checkpointRequest: try spendControlToken()
            default: break
            }
            switch message {
            case .hello(let hello): advertised = hello.vector
            case .vector(let vector): advertised = vector
            case .pong(let nonce, let wall): measureClock(nonce: nonce, peerWallMillis: wall)
            case .checkpointPart:
                engine.checkpointProgressed(link: linkID)
            default: break
            }
            actions = session.receive(message, localVector: engine.vector)
        } catch {
            actions = session.fail(error)
        }
        self.session = session
        if let peer {
            let held = session.peerHas
            manager.update(peer) { health in
                health.lastContact = Date()
                health.peerVector = held
                if let advertised { health.confirmedVector = advertised }
            }
        }
        perform(actions, context)
    }

    private func spendControlToken() throws(SyncProtocolError) {
        let now = NIODeadline.now()
        let elapsed = Double((now - controlRefilled).nanoseconds) / 1e9
        controlRefilled = now
        controlTokens = min(Self.controlBurst, controlTokens + elapsed * Self.controlPerSecond)
        guard controlTokens >= 1 else {
            throw .limitExceeded("more than \(Int(Self.controlBurst)) vectors, pings and pongs at once, or more than \(Int(Self.controlPerSecond)) a second")
        }
        controlTokens -= 1
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        pumpStream(context)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = "\(error)"
        if let peer {
            manager.update(peer) { $0.lastError = reason }
        } else {
            manager.refused(address: remoteAddress, reason: reason)
        }
        logger.warning("closing connection", metadata: ["reason": "\(reason)"])
        if var session, let error = error as? SyncProtocolError {
            perform(session.fail(error), context)
            self.session = session
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        antiEntropy?.cancel()
        if let line = rejectionLog.flush(now: Date(), force: true) { log(line) }
        if let peer {
            manager.release(peer, channel: context.channel)
            let engine = self.engine
            let id = linkID
            work?.finish { await engine.detach(id) }
        }
        context.fireChannelInactive()
    }

    // MARK: the session's actions

    private func perform(_ actions: [SyncSession.Action], _ context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .send(.pong(let nonce, _)):
                // Our wall clock, so that the peer can tell how far its clock is from ours.
                write(.pong(nonce, wallMillis: UInt64(max(0, Date().timeIntervalSince1970 * 1000))), context)
            case .send(let message):
                write(message, context)
            case .stream(let ranges):
                for (feed, range) in ranges.sorted(by: { $0.key < $1.key }) { streamQueue.add(feed, range) }
                pumpStream(context)
            case .sendCertificates(let origins):
                let certificates = engine.certificates(for: origins)
                if !certificates.isEmpty { write(.certificates(certificates), context) }
            case .ingest(let entries, let certificates):
                ingest(entries, certificates: certificates, context)
            case .established(let peerVector):
                guard let peer else { break }
                manager.update(peer) { $0.connectedSince = Date() }
                ping(context)  // the clock offset is known from the start
                let (engine, link, features) = (self.engine, linkID, session?.peerFeatures ?? [])
                onEngine(context) { await engine.sessionEstablished(with: peer, peerVector: peerVector, link: link, features: features) }
                logger.info("session established", metadata: ["direction": "\(direction)"])
                // Revocation is data: every CRL in force here goes to the peer.
                let crls = engine.revocationLists
                if !crls.isEmpty { write(.revocations(crls), context) }
                // And the view statements held (convergence proofs), if the peer takes them.
                let loop = context.eventLoop
                let bound = NIOLoopBound((self, context), eventLoop: loop)
                onEngine(context) {
                    let held = await engine.statementsToShare
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.send(held, context)
                    }
                }
            case .takeRevocations(let crls):
                guard let peer else { break }
                let engine = self.engine
                onEngine(context) { await engine.takeRevocations(crls, from: peer) }
            case .takeStatements(let statements):
                guard let peer else { break }
                let engine = self.engine
                onEngine(context) { await engine.takeStatements(statements, from: peer) }
            case .ownFeedBehind(let held):
                guard let peer else { break }
                let engine = self.engine
                onEngine(context) { await engine.peerHoldsOwnFeed(peer, upTo: held) }
            case .proveHead(let seq):
                // The peer was restored from a backup: the entry at its own head, at once, so it
                // can tell our claim from a lie and wait for the rest.
                guard let peer else { break }
                let head = engine.entries(of: peer, in: seq...seq, limit: 1)
                if !head.isEmpty { write(.entries(head), context) }
            case .compareHeads(let claims):
                let engine = self.engine
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let loop = context.eventLoop
                onEngine(context) {
                    let divergent = await engine.divergentFeeds(claims)
                    guard !divergent.isEmpty else { return }
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.logger.critical(
                            "peer holds a different entry at the same position: fork; sending ours as evidence",
                            metadata: ["feeds": "\(divergent.map { "\($0.feed)#\($0.seq)" })"])
                        for (feed, seq) in divergent { handler.streamQueue.add(feed, seq...seq) }
                        handler.pumpStream(context)
                    }
                }
            case .serveCheckpoint:
                serveCheckpoint(context)
            case .checkpointUnavailable:
                guard let peer else { break }
                let (engine, link) = (self.engine, linkID)
                onEngine(context) { await engine.checkpointUnavailable(from: peer, link: link) }
            case .joinFromCheckpoint(let state):
                guard let peer else { break }
                let (engine, link) = (self.engine, linkID)
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let loop = context.eventLoop
                onEngine(context) {
                    // Checked here, off the engine; taken (or refused) on it.
                    guard let check = await engine.checkpointCheck(link: link) else { return }
                    let checked = check.check(state)
                    guard let problem = await engine.checkpointArrived(state, checked: checked, started: check.started, from: peer, link: link) else { return }
                    loop.execute {
                        let (handler, context) = bound.value
                        guard var session = handler.session else { return }
                        let actions = session.close(.protocolViolation, detail: "sent a checkpoint state that does not check out: \(problem)")
                        handler.session = session
                        handler.perform(actions, context)
                    }
                }
            case .close(let reason, let detail, let sendGoodbye):
                // Breaking the protocol (what we close for, not a version mismatch, a duplicate,
                // idleness or shutdown) puts the peer in the penalty box; recorded before the
                // connection closes, so whoever sees it closed sees why.
                if sendGoodbye, reason == .protocolViolation || reason == .identityMismatch, let peer {
                    let end = manager.penalize(peer, reason: detail, closeSession: false)
                    logger.warning("peer penalized", metadata: ["reason": "\(detail)", "until": "\(end.formatted(.iso8601))"])
                }
                if sendGoodbye { write(.goodbye(reason, detail: detail), context) }
                logger.info("session closed", metadata: ["reason": "\(reason)", "detail": "\(detail)"])
                if let peer, reason != .shuttingDown { manager.update(peer) { $0.lastError = detail } }
                context.close(promise: nil)
            }
        }
    }

    private func ingest(_ entries: [SignedEntry], certificates: [OriginCertificate], _ context: ChannelHandlerContext) {
        guard let peer, let work else { return }
        ingestsInFlight += 1
        if ingestsInFlight >= settings.maximumIngestsInFlight { context.channel.setOption(.autoRead, value: false).whenComplete { _ in } }
        let engine = self.engine
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let limit = FeedLedger.defaultMaximumSingleChecksPerBatch
        let queued = work.ingest(entries, certificates: certificates, maximumFrames: settings.maximumIngestsInFlight) { joined in
            // The entries the ledger would check one at a time checked here, in the session's
            // task: beside the engine's work, not ahead of every other peer's batch.
            var batch = joined.batch
            let snapshot = engine.snapshot
            batch.checkAhead(of: snapshot.vector, keys: snapshot.originKeys, limit: limit)
            let result = await engine.ingest(batch, certificates: joined.certificates, from: peer)
            let accepted = result.accepted
            let rejected = result.rejected
            // Useless: nothing new, and refusals or a large batch of copies (a small one is a
            // push another peer relayed first, as happens in any mesh).
            let useful =
                !accepted.isEmpty || result.buffered > 0 || joined.entries == 0 || (rejected.isEmpty && result.duplicates <= 100 * joined.frames)
            loop.execute {
                let (handler, context) = bound.value
                handler.ingested(accepted: accepted, rejected: rejected, received: joined.entries, frames: joined.frames, useful: useful, context)
            }
        }
        if !queued { closeForFlooding(work, context) }
    }

    private func ingested(accepted: [Entry], rejected: [EntryRejection], received: Int, frames: Int, useful: Bool, _ context: ChannelHandlerContext) {
        ingestsInFlight -= frames
        uselessPause = useful ? .zero : min(.seconds(2), max(.milliseconds(20), uselessPause * 2))
        if uselessPause > .zero, !paused {
            paused = true
            context.channel.setOption(.autoRead, value: false).whenComplete { _ in }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: uselessPause) {
                let (handler, context) = bound.value
                handler.paused = false
                if handler.ingestsInFlight < handler.settings.maximumIngestsInFlight { context.channel.setOption(.autoRead, value: true).whenComplete { _ in } }
            }
        } else if !paused, ingestsInFlight < settings.maximumIngestsInFlight {
            context.channel.setOption(.autoRead, value: true).whenComplete { _ in }
        }
        session?.peerSent(accepted)
        guard let peer else { return }
        manager.update(peer) { health in
            health.entriesReceived += received
            health.rejected(rejected)
        }
        for line in rejectionLog.record(rejected, now: Date()) { log(line) }
        // Copies of an invalid entry in a batch that brought nothing count as invalid too.
        let invalid = rejected.count { $0.reason.isInvalid }
        invalidEntries += invalid > 0 && !useful ? received : invalid
        if invalidEntries > settings.invalidEntriesPerSession, var session, session.state != .closed {
            let reason = "sent \(invalidEntries) entries that fail validation (the limit is \(settings.invalidEntriesPerSession) per session)"
            perform(session.close(.protocolViolation, detail: reason), context)
            self.session = session
        }
    }

    /// Queues a call into the engine after the session's earlier ones. A peer that makes the
    /// session queue more than its bound (it floods past every other limit) is closed for it.
    private func onEngine(_ context: ChannelHandlerContext, _ call: @escaping SessionWork.Call) {
        guard let work, !work.enqueue(call) else { return }
        closeForFlooding(work, context)
    }

    private func closeForFlooding(_ work: SessionWork, _ context: ChannelHandlerContext) {
        // After the connection closed, its last call is queued and nothing more is: no flood.
        guard context.channel.isActive, var session else { return }
        let actions = session.close(.protocolViolation, detail: "more than \(work.limit) calls into the engine waiting for this session")
        self.session = session
        perform(actions, context)
    }

    private func log(_ line: RejectionLog.Line) {
        switch line {
        case .detail(let rejection): logger.warning("entry rejected", metadata: ["reason": "\(rejection)"])
        case .summary: logger.warning("\(line.summaryText ?? "")")
        }
    }

    /// New entries committed here (authored or from any peer): push those this peer lacks.
    private func offer(_ entries: [Entry], _ context: ChannelHandlerContext) {
        guard var session, context.channel.isActive else { return }
        // A peer that is not reading gets nothing more queued; its next vector repairs the gap.
        guard pendingBytes < settings.maximumPendingBytes else { return }
        let before = session.peerHas
        let actions = session.offer(entries)
        self.session = session
        let streaming = readingStore || !streamQueue.isEmpty || actions.contains { if case .stream = $0 { true } else { false } }
        if streaming {
            // The store is read off the event loop: entries pushed now would overtake the stream
            // (the gap it fills), and the peer would hold them waiting, then take them for another
            // peer's and offer them back. They are committed: they go after the stream, in order.
            perform(actions.filter { if case .send(.entries) = $0 { false } else if case .stream = $0 { false } else { true } }, context)
            for origin in Set(entries.map(\.origin)) where session.peerHas[origin] > before[origin] {
                streamQueue.add(origin, (before[origin] + 1)...session.peerHas[origin])
            }
            pumpStream(context)
        } else {
            perform(actions, context)
        }
        if let peer { manager.update(peer) { $0.peerVector = session.peerHas } }
    }

    /// Streams queued ranges from the store, one batch at a time, while the socket takes them.
    /// The store is read on a thread of the I/O pool, never on this event loop (a read of a
    /// batch would hold up every session and admin request on it); one read per session is in
    /// flight at a time. A batch is split into frames of at most `maximumFrameBytes` (entries of
    /// up to 64 KiB would otherwise make a 500-entry batch larger than a peer's frame limit).
    private func pumpStream(_ context: ChannelHandlerContext) {
        guard !readingStore, context.channel.isWritable, pendingBytes < settings.maximumPendingBytes,
            let (origin, range) = streamQueue.first
        else { return }
        // Entries before a feed's checkpoint were never held here (joined from it): skipped.
        let first = engine.firstHeld(of: origin)
        if range.lowerBound < first {
            streamQueue.consume(origin, through: min(range.upperBound, first - 1))
            return pumpStream(context)
        }
        readingStore = true
        let (engine, limit) = (engine, settings.batchSize)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { engine.entries(of: origin, in: range, limit: limit) }
            .whenComplete { result in
                let (handler, context) = bound.value
                handler.readingStore = false
                guard context.channel.isActive, case .success(let batch) = result else { return }
                handler.stream(batch, read: origin, range, context)
                handler.pumpStream(context)
            }
    }

    /// Sends a batch read for `range` of `origin`, if the queue still asks for all of it
    /// (`StreamQueue.take`); otherwise what it asks for now is read again.
    private func stream(_ batch: [SignedEntry], read origin: NodeID, _ range: ClosedRange<UInt64>, _ context: ChannelHandlerContext) {
        guard streamQueue.take(read: batch.count, of: origin, in: range), !batch.isEmpty else { return }
        write(.entries(batch), context)
    }

    /// What one outgoing frame may hold: well within every receiver's limits (`SyncLimits`,
    /// and frames of 1 MiB, the smallest `max-frame-size`), so an honest node never sends what
    /// a peer must refuse. Larger batches (an import, a released gap, a catch-up batch of big
    /// entries) and certificate sets go out in several messages.
    static let maximumFrameBytes = 1 << 20 - 4096
    static let maximumEntriesPerFrame = 5_000
    static let maximumCertificatesPerFrame = 32

    static func split(_ message: SyncMessage) -> [SyncMessage] {
        switch message {
        case .entries(let entries):
            var frames: [SyncMessage] = []
            var frame: [SignedEntry] = []
            var bytes = 0
            for entry in entries {
                let size = entry.byteCount + 8
                if !frame.isEmpty, bytes + size > maximumFrameBytes || frame.count == maximumEntriesPerFrame {
                    frames.append(.entries(frame))
                    frame = []
                    bytes = 0
                }
                frame.append(entry)
                bytes += size
            }
            if !frame.isEmpty { frames.append(.entries(frame)) }
            return frames
        case .certificates(let certificates) where certificates.count > maximumCertificatesPerFrame:
            return stride(from: 0, to: certificates.count, by: maximumCertificatesPerFrame).map {
                .certificates(Array(certificates[$0..<min($0 + maximumCertificatesPerFrame, certificates.count)]))
            }
        case .revocations(let crls) where crls.count > SyncLimits.standard.revocationListsPerMessage:
            let size = SyncLimits.standard.revocationListsPerMessage
            return stride(from: 0, to: crls.count, by: size).map { .revocations(Array(crls[$0..<min($0 + size, crls.count)])) }
        case .statements(let statements) where statements.count > SyncLimits.standard.statementsPerMessage:
            let size = SyncLimits.standard.statementsPerMessage
            return stride(from: 0, to: statements.count, by: size).map { .statements(Array(statements[$0..<min($0 + size, statements.count)])) }
        default:
            return [message]
        }
    }

    private func tick(_ context: ChannelHandlerContext) {
        if let line = rejectionLog.flush(now: Date(), force: false) { log(line) }
        guard var session else { return }
        let idle = NIODeadline.now() - lastReceived > settings.idleTimeout
        let actions =
            idle
            ? session.close(.idle, detail: "nothing received for \(settings.idleTimeout)")
            : session.antiEntropyTick(localVector: engine.vector)
        self.session = session
        perform(actions, context)
        if !idle { ping(context) }
    }

    /// A ping whose pong tells the round trip and the peer's clock.
    private func ping(_ context: ChannelHandlerContext) {
        let nonce = UInt64.random(in: 1...UInt64.max)
        pingSent = (nonce, .now(), Date())
        write(.ping(nonce), context)
    }

    /// The pong to our last ping: the peer's clock minus ours is its wall clock less the
    /// midpoint of the round trip (off by at most half the round trip).
    private func measureClock(nonce: UInt64, peerWallMillis: UInt64) {
        guard let sent = pingSent, sent.nonce == nonce, peerWallMillis > 0, let peer else { return }
        pingSent = nil
        let roundTrip = (NIODeadline.now() - sent.at).nanoseconds / 1_000_000
        let midpoint = Int64(sent.wall.timeIntervalSince1970 * 1000) + roundTrip / 2
        let offset = Int64(clamping: peerWallMillis) - midpoint
        manager.update(peer) { health in
            health.clockOffsetMillis = offset
            health.roundTripMillis = roundTrip
        }
        Gauge(label: "mineralsync_peer_clock_offset_seconds", dimensions: [("peer", "\(peer)")]).record(Double(offset) / 1000)
        if let warning = manager.clockWarningChanged(threshold: settings.maximumClockSkewMillis) { logger.warning("\(warning)") }
        if abs(offset) > settings.maximumClockSkewMillis, !skewLogged {
            skewLogged = true
            logger.warning(
                "peer's clock differs from this node's",
                metadata: [
                    "peer": "\(peer)", "offset": "\(ClockOffset.text(offset))", "round-trip-ms": "\(roundTrip)"
                ])
        }
    }

    /// The engine asks this peer for its checkpoint state, or no longer waits for one.
    private func checkpoint(_ signal: SyncEngine.CheckpointSignal, _ context: ChannelHandlerContext) {
        guard var session else { return }
        switch signal {
        case .request:
            let actions = session.requestCheckpoint()
            self.session = session
            if let actions { return perform(actions, context) }
            // Not established, or closed meanwhile: as if it had none.
            guard let peer else { return }
            let (engine, link) = (self.engine, linkID)
            onEngine(context) { await engine.checkpointUnavailable(from: peer, link: link) }
        case .abandon:
            session.abandonCheckpoint()
            self.session = session
        case .settled:
            let actions = session.checkpointSettled(localVector: engine.vector)
            self.session = session
            perform(actions, context)
        }
    }

    /// A joining peer asked for our checkpoint state: the certificates of every origin we know
    /// (its statements' signers and its entries' origins among them), then the state in parts.
    /// Read off the event loop; the parts go out as the socket takes them.
    private func serveCheckpoint(_ context: ChannelHandlerContext) {
        guard let peer else { return }
        let engine = self.engine
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        onEngine(context) {
            let state = await engine.mayServeCheckpoint(to: peer) ? await engine.servedCheckpointState() : []
            loop.execute {
                let (handler, context) = bound.value
                guard context.channel.isActive else { return }
                if !state.isEmpty {
                    let certificates = engine.certificates(for: Array(engine.snapshot.chains.keys).sorted())
                    if !certificates.isEmpty { handler.write(.certificates(certificates), context) }
                }
                for part in CheckpointPart.parts(of: state) { handler.write(.checkpointPart(part), context) }
                handler.logger.info("checkpoint state served", metadata: ["bytes": "\(state.count)"])
            }
        }
    }

    /// View statements, to a peer whose hello said it takes them.
    private func send(_ statements: [SignedStatement], _ context: ChannelHandlerContext) {
        guard !statements.isEmpty, session?.peerFeatures.contains(SyncFeature.statements) == true else { return }
        write(.statements(statements), context)
    }

    private func write(_ message: SyncMessage, _ context: ChannelHandlerContext) {
        let frames = Self.split(message)
        guard frames.count == 1 else { return frames.forEach { write($0, context) } }
        // Answers to a peer's pings and vectors are dropped, like pushes, while it is not
        // reading: the next interval's vector says the same.
        switch message {
        case .vector, .pong: guard pendingBytes < settings.maximumPendingBytes else { return }
        default: break
        }
        guard let bytes = try? SyncMessageCodec.encode(message) else { return }
        let size = bytes.count
        pendingBytes += size
        let queued = pendingBytes
        if let peer {
            let sent = if case .entries(let entries) = message { entries.count } else { 0 }
            manager.update(peer) { health in
                health.entriesSent += sent
                health.queuedBytes = queued
                health.peakQueuedBytes = max(health.peakQueuedBytes, queued)
            }
        }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes))).whenComplete { _ in
            bound.value.pendingBytes -= size
        }
    }
}

/// Unique ids for session links.
final class LinkIDCounter: Sendable {
    private let value = NIOLockedValueBox<UInt64>(0)
    func next() -> UInt64 {
        value.withLockedValue {
            $0 += 1
            return $0
        }
    }
}

/// Asks a session for an anti-entropy round now (`mineralctl sync`).
struct SyncNowEvent: Sendable {}
