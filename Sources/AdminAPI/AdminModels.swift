import Foundation

// The admin API's JSON shapes, shared by the daemon and mineralctl. Field names are a stable
// contract (dashboards and scripts read them): add fields, never rename or remove one.
// Times are ISO 8601 strings in UTC; quantities are canonical decimal strings.

public struct StatusResponse: Codable, Sendable, Hashable {
    public var participant: String
    public var node: String
    public var uptimeSeconds: Int
    public var entries: Int
    public var versionVector: [String: UInt64]
    /// The view digest: two nodes with the same digest show the same registry.
    public var viewDigest: String
    /// False while a peer's claim to hold more of this node's feed waits for its proof (seconds).
    public var writable: Bool
    /// The feed this node writes: its own (`EU/eu-1`), or a later segment of it (`EU/eu-1@7`)
    /// after a restart that could not prove its store was the newest.
    public var feed: String
    public var peersConnected: Int
    public var peersConfigured: Int
    public var peers: [PeerItem]
    public var securityEvents: [SecurityEvent]
    public var certificateExpiresAt: String
    /// Every certificate this node's feed was signed under, oldest first; the last is current.
    public var keyHistory: [KeyHistoryItem]
    /// The CRLs in force: configured, or received from peers (revocation travels through sync).
    public var revocationLists: [RevocationListItem]
    /// Every cut entry held: which feed, where, by whom, and whether it is the one in force.
    public var feedsCut: [FeedCutItem]
    /// Set when this node's clock disagrees with most measured peers beyond `sync.max-clock-skew`.
    public var clockWarning: String?
    /// Per participant, the last vector at which its views and ours were the same (convergence
    /// proofs); a participant never compared with is absent.
    public var agreements: [AgreementItem]?
    /// The latest checkpoint: the same views signed by a node of every participant of the quorum.
    public var checkpoint: CheckpointItem?
    /// The checkpoint this node joined from (`sync.join-from-checkpoint`): it holds no entry
    /// before it. Absent for a node that holds every feed from its first entry.
    public var joinedFrom: CheckpointItem?
    /// The notification hooks configured, and how their deliveries go; absent without hooks.
    public var hooks: [HookItem]?

    public init(
        participant: String, node: String, uptimeSeconds: Int, entries: Int, versionVector: [String: UInt64], viewDigest: String,
        writable: Bool, feed: String, peersConnected: Int, peersConfigured: Int, peers: [PeerItem], securityEvents: [SecurityEvent],
        certificateExpiresAt: String,
        keyHistory: [KeyHistoryItem], revocationLists: [RevocationListItem], feedsCut: [FeedCutItem] = [], clockWarning: String? = nil
    ) {
        self.feedsCut = feedsCut
        self.clockWarning = clockWarning
        self.agreements = nil
        self.checkpoint = nil
        self.joinedFrom = nil
        self.hooks = nil
        self.participant = participant
        self.node = node
        self.uptimeSeconds = uptimeSeconds
        self.entries = entries
        self.versionVector = versionVector
        self.viewDigest = viewDigest
        self.writable = writable
        self.feed = feed
        self.peersConnected = peersConnected
        self.peersConfigured = peersConfigured
        self.peers = peers
        self.securityEvents = securityEvents
        self.certificateExpiresAt = certificateExpiresAt
        self.keyHistory = keyHistory
        self.revocationLists = revocationLists
    }
}

/// The last agreement with a participant's views (`status`).
public struct AgreementItem: Codable, Sendable, Hashable {
    public var participant: String
    /// The node whose statement agreed.
    public var node: String
    /// Entries at the vector both showed, and that vector.
    public var entries: UInt64
    public var versionVector: [String: UInt64]
    public var digest: String
    /// When that node signed its statement.
    public var signedAt: String

    public init(participant: String, node: String, entries: UInt64, versionVector: [String: UInt64], digest: String, signedAt: String) {
        self.participant = participant
        self.node = node
        self.entries = entries
        self.versionVector = versionVector
        self.digest = digest
        self.signedAt = signedAt
    }
}

/// A checkpoint in `status`: which views every participant signed.
public struct CheckpointItem: Codable, Sendable, Hashable {
    public var entries: UInt64
    public var digest: String
    public var signedBy: [String]

    public init(entries: UInt64, digest: String, signedBy: [String]) {
        self.entries = entries
        self.digest = digest
        self.signedBy = signedBy
    }
}

/// `POST /v1/archive`: where the daemon writes the history below the latest checkpoint (an
/// absolute path it may write; the file must not be a directory).
public struct ArchiveRequest: Codable, Sendable, Hashable {
    public var path: String
    public init(path: String) { self.path = path }
}

/// What `POST /v1/archive` wrote.
public struct ArchiveResponse: Codable, Sendable, Hashable {
    public var path: String
    public var entries: UInt64
    public var bytes: Int
    public var versionVector: [String: UInt64]
    public var digest: String
    public var signedBy: [String]

    public init(path: String, entries: UInt64, bytes: Int, versionVector: [String: UInt64], digest: String, signedBy: [String]) {
        self.path = path
        self.entries = entries
        self.bytes = bytes
        self.versionVector = versionVector
        self.digest = digest
        self.signedBy = signedBy
    }
}

/// What `POST /v1/archive/drop` dropped: the entries below the checkpoint (of `checkpoint`
/// entries) that the archive at `path` holds.
public struct ArchiveDropResponse: Codable, Sendable, Hashable {
    public var path: String
    public var dropped: Int
    public var checkpoint: UInt64
    public init(path: String, dropped: Int, checkpoint: UInt64) {
        self.path = path
        self.dropped = dropped
        self.checkpoint = checkpoint
    }
}

/// `GET /v1/proof`: the latest checkpoint, with everything needed to verify it offline.
public struct ProofResponse: Codable, Sendable, Hashable {
    public var versionVector: [String: UInt64]
    public var entries: UInt64
    public var digest: String
    /// What every signature covers: this context, a zero byte, then the statement's bytes.
    public var signatureContext: String
    public var statements: [ProofStatement]

    public init(versionVector: [String: UInt64], entries: UInt64, digest: String, signatureContext: String, statements: [ProofStatement]) {
        self.versionVector = versionVector
        self.entries = entries
        self.digest = digest
        self.signatureContext = signatureContext
        self.statements = statements
    }
}

/// One participant's signed statement in a proof.
public struct ProofStatement: Codable, Sendable, Hashable {
    public var participant: String
    public var node: String
    public var signedAt: String
    /// The encoded ViewStatement (views.proto), base64.
    public var statement: String
    /// The signature over context, 0x00, statement; base64.
    public var signature: String
    /// The certificate chain of the signer (PEM, leaf first), as this node holds it.
    public var certificateChain: String
    /// "ed25519" or "ecdsa-p256-sha256": how to verify the signature.
    public var algorithm: String

    public init(participant: String, node: String, signedAt: String, statement: String, signature: String, certificateChain: String, algorithm: String) {
        self.participant = participant
        self.node = node
        self.signedAt = signedAt
        self.statement = statement
        self.signature = signature
        self.certificateChain = certificateChain
        self.algorithm = algorithm
    }
}

/// A CRL in force at a node.
/// A cut of a feed (`mineralctl feed cut`).
public struct FeedCutItem: Codable, Sendable, Hashable {
    public var feed: String
    /// The last genuine entry: its position and id (null for a cut at 0).
    public var seq: UInt64
    public var entryID: String?
    /// The node that wrote the cut, and where in its feed.
    public var by: String
    public var reason: String
    /// The cut in force for its feed (the lowest, where several name it).
    public var inForce: Bool
    /// Entries of the feed this node holds beyond the cut: kept as evidence, never shown or relayed.
    public var heldAfterCut: UInt64

    public init(feed: String, seq: UInt64, entryID: String?, by: String, reason: String, inForce: Bool, heldAfterCut: UInt64) {
        self.feed = feed
        self.seq = seq
        self.entryID = entryID
        self.by = by
        self.reason = reason
        self.inForce = inForce
        self.heldAfterCut = heldAfterCut
    }
}

/// `POST /v1/feeds/cut`.
public struct FeedCutRequest: Codable, Sendable, Hashable {
    public var feed: String
    public var seq: UInt64
    public var reason: String?

    public init(feed: String, seq: UInt64, reason: String? = nil) {
        self.feed = feed
        self.seq = seq
        self.reason = reason
    }
}

public struct RevocationListItem: Codable, Sendable, Hashable {
    /// The participants whose authority issued it.
    public var participants: [String]
    public var issuer: String
    public var issuedAt: String
    /// When the authority promised the next one; null when it did not say.
    public var nextUpdate: String?

    public init(participants: [String], issuer: String, issuedAt: String, nextUpdate: String?) {
        self.participants = participants
        self.issuer = issuer
        self.issuedAt = issuedAt
        self.nextUpdate = nextUpdate
    }
}

/// One certificate of a node's key history: what entries name as their signer.
public struct KeyHistoryItem: Codable, Sendable, Hashable {
    /// SHA-256 of the certificate's DER, hex.
    public var fingerprint: String
    public var validFrom: String
    public var validUntil: String
    /// The certificate this node signs with now.
    public var current: Bool

    public init(fingerprint: String, validFrom: String, validUntil: String, current: Bool) {
        self.fingerprint = fingerprint
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.current = current
    }
}

public struct PeerItem: Codable, Sendable, Hashable {
    public var node: String
    public var participant: String
    public var address: String?
    /// "connected" or "disconnected".
    public var state: String
    public var connectedSince: String?
    public var lastContact: String?
    public var entriesSent: Int
    public var entriesReceived: Int
    /// Entries this node holds that the peer lacks, and the reverse, summed over feeds.
    public var lagOut: UInt64
    public var lagIn: UInt64
    /// Per feed with any lag: {feed: {out, in}}.
    public var lagByFeed: [String: FeedLag]
    public var rejected: Int
    public var lastRejection: String?
    public var lastError: String?
    public var versionVector: [String: UInt64]
    /// Times this peer broke the sync protocol's rules, the latest reason, and until when it is
    /// refused ("penalty box"; null when it is not).
    public var offences: Int = 0
    public var lastOffence: String?
    public var penalizedUntil: String?
    /// The peer's clock minus this node's, in ms (from the last ping's round trip); null until
    /// measured. Positive: the peer's clock is ahead.
    public var clockOffsetMillis: Int64?
    public var roundTripMillis: Int64?

    public struct FeedLag: Codable, Sendable, Hashable {
        public var out: UInt64
        public var `in`: UInt64
        public init(out: UInt64, in: UInt64) {
            self.out = out
            self.in = `in`
        }
    }

    public init(
        node: String, participant: String, address: String?, state: String, connectedSince: String?, lastContact: String?,
        entriesSent: Int, entriesReceived: Int, lagOut: UInt64, lagIn: UInt64, lagByFeed: [String: FeedLag], rejected: Int,
        lastRejection: String?, lastError: String?, versionVector: [String: UInt64]
    ) {
        self.node = node
        self.participant = participant
        self.address = address
        self.state = state
        self.connectedSince = connectedSince
        self.lastContact = lastContact
        self.entriesSent = entriesSent
        self.entriesReceived = entriesReceived
        self.lagOut = lagOut
        self.lagIn = lagIn
        self.lagByFeed = lagByFeed
        self.rejected = rejected
        self.lastRejection = lastRejection
        self.lastError = lastError
        self.versionVector = versionVector
    }

    private enum CodingKeys: String, CodingKey {
        case node, participant, address, state, connectedSince, lastContact, entriesSent, entriesReceived, lagOut, lagIn, lagByFeed,
            rejected, lastRejection, lastError, versionVector, offences, lastOffence, penalizedUntil, clockOffsetMillis, roundTripMillis
    }

    /// Every key always present (absent values as null): a stable shape for scripts.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(node, forKey: .node)
        try container.encode(participant, forKey: .participant)
        try container.encode(address, forKey: .address)
        try container.encode(state, forKey: .state)
        try container.encode(connectedSince, forKey: .connectedSince)
        try container.encode(lastContact, forKey: .lastContact)
        try container.encode(entriesSent, forKey: .entriesSent)
        try container.encode(entriesReceived, forKey: .entriesReceived)
        try container.encode(lagOut, forKey: .lagOut)
        try container.encode(lagIn, forKey: .lagIn)
        try container.encode(lagByFeed, forKey: .lagByFeed)
        try container.encode(rejected, forKey: .rejected)
        try container.encode(lastRejection, forKey: .lastRejection)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(versionVector, forKey: .versionVector)
        try container.encode(offences, forKey: .offences)
        try container.encode(lastOffence, forKey: .lastOffence)
        try container.encode(penalizedUntil, forKey: .penalizedUntil)
        try container.encode(clockOffsetMillis, forKey: .clockOffsetMillis)
        try container.encode(roundTripMillis, forKey: .roundTripMillis)
    }
}

public struct SecurityEvent: Codable, Sendable, Hashable {
    /// "fork", "refused-connection", "rejected-entries", "policy-violation", "penalized".
    public var kind: String
    public var subject: String
    public var detail: String
    public var at: String?

    public init(kind: String, subject: String, detail: String, at: String?) {
        self.kind = kind
        self.subject = subject
        self.detail = detail
        self.at = at
    }

    private enum CodingKeys: String, CodingKey { case kind, subject, detail, at }

    /// Every key always present (absent values as null): a stable shape for scripts.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(subject, forKey: .subject)
        try container.encode(detail, forKey: .detail)
        try container.encode(at, forKey: .at)
    }
}

public struct ReserveItem: Codable, Sendable, Hashable {
    public var participant: String
    public var mineral: String
    public var site: String
    public var quantity: String
    public var unit: String
    public var asOf: String
    public var reportedBy: String
    public var target: String?
    /// Level ÷ target, when a target is set (1 = at target).
    public var coverage: String?
    public var note: String
    /// The material's form ("metal", "oxide", ...), and whether the quantity is its gross weight
    /// or the mineral contained; null when not stated.
    public var form: String?
    public var basis: String?
    /// The participant holds a figure and does not share it (`quantity` is then "0" and counts
    /// nowhere); why.
    public var withheld: Bool
    public var withheldReason: String?
    /// The participant's annual consumption of the mineral (in this row's `unit`), and how many
    /// days its level (as `coverage` counts it) lasts at that rate; null without a consumption
    /// or a level.
    public var annualConsumption: String?
    public var daysOfCover: String?
    /// The report's entry id.
    public var entry: String?
    /// In a history: the entry id of the earlier report of the same site and `asOf` that this
    /// one corrects (a revision); null otherwise.
    public var revises: String?

    public init(
        participant: String, mineral: String, site: String, quantity: String, unit: String, asOf: String, reportedBy: String,
        target: String?, coverage: String?, note: String, form: String? = nil, basis: String? = nil, withheldReason: String? = nil,
        entry: String? = nil, revises: String? = nil, annualConsumption: String? = nil, daysOfCover: String? = nil
    ) {
        self.annualConsumption = annualConsumption
        self.daysOfCover = daysOfCover
        self.entry = entry
        self.revises = revises
        self.form = form
        self.basis = basis
        self.withheld = withheldReason != nil
        self.withheldReason = withheldReason
        self.participant = participant
        self.mineral = mineral
        self.site = site
        self.quantity = quantity
        self.unit = unit
        self.asOf = asOf
        self.reportedBy = reportedBy
        self.target = target
        self.coverage = coverage
        self.note = note
    }

    private enum CodingKeys: String, CodingKey {
        case participant, mineral, site, quantity, unit, asOf, reportedBy, target, coverage, note, form, basis, withheld, withheldReason, entry, revises,
            annualConsumption, daysOfCover
    }

    /// A daemon from before form, basis and withheld figures sends none of them.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        participant = try container.decode(String.self, forKey: .participant)
        mineral = try container.decode(String.self, forKey: .mineral)
        site = try container.decode(String.self, forKey: .site)
        quantity = try container.decode(String.self, forKey: .quantity)
        unit = try container.decode(String.self, forKey: .unit)
        asOf = try container.decode(String.self, forKey: .asOf)
        reportedBy = try container.decode(String.self, forKey: .reportedBy)
        target = try container.decodeIfPresent(String.self, forKey: .target)
        coverage = try container.decodeIfPresent(String.self, forKey: .coverage)
        note = try container.decode(String.self, forKey: .note)
        form = try container.decodeIfPresent(String.self, forKey: .form)
        basis = try container.decodeIfPresent(String.self, forKey: .basis)
        withheld = try container.decodeIfPresent(Bool.self, forKey: .withheld) ?? false
        withheldReason = try container.decodeIfPresent(String.self, forKey: .withheldReason)
        entry = try container.decodeIfPresent(String.self, forKey: .entry)
        revises = try container.decodeIfPresent(String.self, forKey: .revises)
        annualConsumption = try container.decodeIfPresent(String.self, forKey: .annualConsumption)
        daysOfCover = try container.decodeIfPresent(String.self, forKey: .daysOfCover)
    }

    /// Every key always present (absent values as null): a stable shape for scripts.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(form, forKey: .form)
        try container.encode(basis, forKey: .basis)
        try container.encode(withheld, forKey: .withheld)
        try container.encode(withheldReason, forKey: .withheldReason)
        try container.encode(entry, forKey: .entry)
        try container.encode(revises, forKey: .revises)
        try container.encode(annualConsumption, forKey: .annualConsumption)
        try container.encode(daysOfCover, forKey: .daysOfCover)
        try container.encode(participant, forKey: .participant)
        try container.encode(mineral, forKey: .mineral)
        try container.encode(site, forKey: .site)
        try container.encode(quantity, forKey: .quantity)
        try container.encode(unit, forKey: .unit)
        try container.encode(asOf, forKey: .asOf)
        try container.encode(reportedBy, forKey: .reportedBy)
        try container.encode(target, forKey: .target)
        try container.encode(coverage, forKey: .coverage)
        try container.encode(note, forKey: .note)
    }
}

public struct AlertItem: Codable, Sendable, Hashable {
    public var id: String
    public var mineral: String
    public var severity: String
    public var category: String
    public var region: String
    public var summary: String
    public var issuer: String
    public var raisedAt: String
    public var updatedAt: String
    public var expiresAt: String?
    public var acknowledgedBy: [String]
    public var resolved: Bool
    public var resolution: String?

    public init(
        id: String, mineral: String, severity: String, category: String, region: String, summary: String, issuer: String,
        raisedAt: String, updatedAt: String, expiresAt: String?, acknowledgedBy: [String], resolved: Bool, resolution: String?
    ) {
        self.id = id
        self.mineral = mineral
        self.severity = severity
        self.category = category
        self.region = region
        self.summary = summary
        self.issuer = issuer
        self.raisedAt = raisedAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.acknowledgedBy = acknowledgedBy
        self.resolved = resolved
        self.resolution = resolution
    }

    private enum CodingKeys: String, CodingKey {
        case id, mineral, severity, category, region, summary, issuer, raisedAt, updatedAt, expiresAt, acknowledgedBy, resolved, resolution
    }

    /// Every key always present (absent values as null): a stable shape for scripts.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(mineral, forKey: .mineral)
        try container.encode(severity, forKey: .severity)
        try container.encode(category, forKey: .category)
        try container.encode(region, forKey: .region)
        try container.encode(summary, forKey: .summary)
        try container.encode(issuer, forKey: .issuer)
        try container.encode(raisedAt, forKey: .raisedAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(acknowledgedBy, forKey: .acknowledgedBy)
        try container.encode(resolved, forKey: .resolved)
        try container.encode(resolution, forKey: .resolution)
    }
}

public struct MineralItem: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var sources: [String]
    /// Harmonized System (2022) codes its trade is reported under; empty where none is pinned.
    public var hsCodes: [String]
    public init(id: String, name: String, sources: [String], hsCodes: [String] = []) {
        self.id = id
        self.name = name
        self.sources = sources
        self.hsCodes = hsCodes
    }

    /// A daemon from before HS codes sends none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        sources = try container.decode([String].self, forKey: .sources)
        hsCodes = try container.decodeIfPresent([String].self, forKey: .hsCodes) ?? []
    }
}

/// One line of `GET /v1/watch` (newline-delimited JSON).
public struct WatchEvent: Codable, Sendable, Hashable {
    /// "alert" or "reserve".
    public var type: String
    /// The node whose entry caused the change.
    public var origin: String
    public var alert: AlertItem?
    public var reserve: ReserveItem?
    public init(type: String, origin: String, alert: AlertItem? = nil, reserve: ReserveItem? = nil) {
        self.type = type
        self.origin = origin
        self.alert = alert
        self.reserve = reserve
    }

    private enum CodingKeys: String, CodingKey { case type, origin, alert, reserve }

    /// Every key always present (absent values as null): a stable shape for scripts.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(origin, forKey: .origin)
        try container.encode(alert, forKey: .alert)
        try container.encode(reserve, forKey: .reserve)
    }
}

// MARK: requests

public struct ReserveReportRequest: Codable, Sendable, Hashable {
    public var mineral: String
    public var quantity: String
    public var unit: String?
    public var site: String?
    /// ISO 8601 date or date-time; default now.
    public var asOf: String?
    public var note: String?
    /// The line of the CSV file this row came from (`reserve import`), for error messages.
    public var line: Int?
    /// "metal", "oxide", "concentrate", "magnet", ... (1–32 of a–z, 0–9 and '-').
    public var form: String?
    /// "gross" or "contained".
    public var basis: String?
    /// Set: the figure is withheld, for this reason (`quantity` must then be empty).
    public var withheld: String?
    public init(
        mineral: String, quantity: String, unit: String? = nil, site: String? = nil, asOf: String? = nil, note: String? = nil,
        line: Int? = nil, form: String? = nil, basis: String? = nil, withheld: String? = nil
    ) {
        self.line = line
        self.form = form
        self.basis = basis
        self.withheld = withheld
        self.mineral = mineral
        self.quantity = quantity
        self.unit = unit
        self.site = site
        self.asOf = asOf
        self.note = note
    }
}

/// `GET /v1/reserves/totals`: the alliance's combined level of a mineral, in tonnes, from the
/// levels the participants share; those that withheld theirs are named, not counted.
public struct TotalItem: Codable, Sendable, Hashable {
    public var mineral: String
    public var tonnes: String
    /// The participants whose levels make the total up.
    public var participants: [String]
    /// The participants that withheld their level of this mineral.
    public var withheld: [String]
    /// The sum of the targets set for this mineral (every participant's), in tonnes.
    public var targetTonnes: String?
    /// Days the levels of the participants that report a consumption cover at their combined
    /// annual consumption; null when none does.
    public var daysOfCover: String?

    public init(mineral: String, tonnes: String, participants: [String], withheld: [String], targetTonnes: String?, daysOfCover: String? = nil) {
        self.daysOfCover = daysOfCover
        self.mineral = mineral
        self.tonnes = tonnes
        self.participants = participants
        self.withheld = withheld
        self.targetTonnes = targetTonnes
    }

    private enum CodingKeys: String, CodingKey { case mineral, tonnes, participants, withheld, targetTonnes, daysOfCover }

    /// Every key always present.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mineral, forKey: .mineral)
        try container.encode(tonnes, forKey: .tonnes)
        try container.encode(participants, forKey: .participants)
        try container.encode(withheld, forKey: .withheld)
        try container.encode(targetTonnes, forKey: .targetTonnes)
        try container.encode(daysOfCover, forKey: .daysOfCover)
    }
}

public struct ReserveImportRequest: Codable, Sendable, Hashable {
    public var rows: [ReserveReportRequest]
    public init(rows: [ReserveReportRequest]) { self.rows = rows }
}

public struct TargetRequest: Codable, Sendable, Hashable {
    public var mineral: String
    public var quantity: String
    public var unit: String?
    public init(mineral: String, quantity: String, unit: String? = nil) {
        self.mineral = mineral
        self.quantity = quantity
        self.unit = unit
    }
}

public struct AlertRaiseRequest: Codable, Sendable, Hashable {
    public var mineral: String
    public var severity: String
    public var category: String
    public var summary: String
    public var region: String?
    public var expires: String?
    public init(mineral: String, severity: String, category: String, summary: String, region: String? = nil, expires: String? = nil) {
        self.mineral = mineral
        self.severity = severity
        self.category = category
        self.summary = summary
        self.region = region
        self.expires = expires
    }
}

public struct AlertUpdateRequest: Codable, Sendable, Hashable {
    public var severity: String?
    public var category: String?
    public var summary: String?
    public var region: String?
    public var expires: String?
    public init(severity: String? = nil, category: String? = nil, summary: String? = nil, region: String? = nil, expires: String? = nil) {
        self.severity = severity
        self.category = category
        self.summary = summary
        self.region = region
        self.expires = expires
    }
}

public struct NoteRequest: Codable, Sendable, Hashable {
    public var note: String?
    public init(note: String? = nil) { self.note = note }
}

public struct SyncRequest: Codable, Sendable, Hashable {
    /// A node ("EU/eu-1"); nil: every connected peer.
    public var peer: String?
    public var wait: Bool?
    public var timeoutSeconds: Double?
    public init(peer: String? = nil, wait: Bool? = nil, timeoutSeconds: Double? = nil) {
        self.peer = peer
        self.wait = wait
        self.timeoutSeconds = timeoutSeconds
    }
}

public struct SyncResponse: Codable, Sendable, Hashable {
    public var peers: [String]
    public var inSync: Bool
    public var versionVector: [String: UInt64]
    public init(peers: [String], inSync: Bool, versionVector: [String: UInt64]) {
        self.peers = peers
        self.inSync = inSync
        self.versionVector = versionVector
    }
}

/// The answer to a write: the new entry.
public struct WriteResponse: Codable, Sendable, Hashable {
    public var id: String
    public var seq: UInt64
    public init(id: String, seq: UInt64) {
        self.id = id
        self.seq = seq
    }
}

public struct ErrorResponse: Codable, Sendable, Hashable, Error {
    /// A stable machine-readable code: "validation", "policy", "not-found", "unavailable", ...
    public var error: String
    public var message: String
    public init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}

public enum AdminJSON {
    nonisolated(unsafe) public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    nonisolated(unsafe) public static let decoder = JSONDecoder()

    // ISO8601DateFormatter is thread-safe for formatting and parsing once configured.
    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()

    public static func timestamp(_ date: Date) -> String { formatter.string(from: date) }
    public static func timestamp(millis: UInt64) -> String { timestamp(Date(timeIntervalSince1970: Double(millis) / 1000)) }

    /// Accepts `2026-11-26`, `2026-11-26T10:00:00Z` and with fractional seconds.
    public static func parseDate(_ text: String) -> Date? {
        if let date = formatter.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        plain.formatOptions = [.withFullDate]
        return plain.date(from: text)
    }
}
