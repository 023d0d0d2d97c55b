import Foundation
import OpenSSLCrypto

/// The id of an entry: SHA-256 of its body bytes. An alert's id is the id of the entry that raised it.
public typealias EntryID = SHA256Digest

/// A participant's reserve level of one mineral, at one site or (site empty) in total.
public struct ReserveReport: Sendable, Hashable {
    public var participant: ParticipantID
    public var mineral: MineralID
    public var site: String
    public var quantity: Quantity
    public var asOfMillis: UInt64
    public var note: String
    /// The register's latest write as the author showed it (entry.proto, "Causality").
    public var supersedes: EntryID?
    /// The material's form ("metal", "oxide", "concentrate", "magnet", ...); empty: not stated.
    public var form: String
    public var basis: ReserveBasis?
    /// Set when the participant does not share the figure: why. `quantity` then means nothing
    /// (it is zero) and no level or total counts the report.
    public var withheld: String?

    public init(
        participant: ParticipantID, mineral: MineralID, site: String = "", quantity: Quantity, asOfMillis: UInt64, note: String = "",
        supersedes: EntryID? = nil, form: String = "", basis: ReserveBasis? = nil, withheld: String? = nil
    ) {
        self.participant = participant
        self.mineral = mineral
        self.site = site
        self.quantity = quantity
        self.asOfMillis = asOfMillis
        self.note = note
        self.supersedes = supersedes
        self.form = form
        self.basis = basis
        self.withheld = withheld
    }

    /// The quantity a withheld report stands in with.
    public static let withheldQuantity = Quantity(amount: try! Amount(canonical: "0"), unit: .tonne)

    /// The tonnes this report counts for in levels and totals: none when withheld.
    public var countedTonnes: Decimal? { withheld == nil ? quantity.tonnes : nil }
}

/// A participant's strategic stockpile target for one mineral.
public struct ReserveTarget: Sendable, Hashable {
    public var participant: ParticipantID
    public var mineral: MineralID
    public var quantity: Quantity
    /// The register's latest write as the author showed it (entry.proto, "Causality").
    public var supersedes: EntryID?

    public init(participant: ParticipantID, mineral: MineralID, quantity: Quantity, supersedes: EntryID? = nil) {
        self.participant = participant
        self.mineral = mineral
        self.quantity = quantity
        self.supersedes = supersedes
    }
}

/// A participant's annual consumption of one mineral (days of cover = stock ÷ (this ÷ 365)).
public struct ReserveConsumption: Sendable, Hashable {
    public var participant: ParticipantID
    public var mineral: MineralID
    /// Per year.
    public var quantity: Quantity
    /// The register's latest write as the author showed it (entry.proto, "Causality").
    public var supersedes: EntryID?

    public init(participant: ParticipantID, mineral: MineralID, quantity: Quantity, supersedes: EntryID? = nil) {
        self.participant = participant
        self.mineral = mineral
        self.quantity = quantity
        self.supersedes = supersedes
    }

    public var key: TargetKey { TargetKey(participant: participant, mineral: mineral) }
}

/// A new disruption alert. Any participant may raise one; it is that participant's to update and resolve.
public struct AlertRaise: Sendable, Hashable {
    public var mineral: MineralID
    public var severity: Severity
    public var category: AlertCategory
    public var region: String
    public var summary: String
    public var expiresAtMillis: UInt64?

    public init(mineral: MineralID, severity: Severity, category: AlertCategory, region: String = "", summary: String, expiresAtMillis: UInt64? = nil) {
        self.mineral = mineral
        self.severity = severity
        self.category = category
        self.region = region
        self.summary = summary
        self.expiresAtMillis = expiresAtMillis
    }
}

/// Changed fields of an alert; nil fields stay as they are.
public struct AlertUpdate: Sendable, Hashable {
    public var alertID: EntryID
    public var severity: Severity?
    public var category: AlertCategory?
    public var region: String?
    public var summary: String?
    public var expiresAtMillis: UInt64?
    /// The alert's latest update as the author showed it, or its raise (entry.proto, "Causality").
    public var supersedes: EntryID?

    public init(
        alertID: EntryID, severity: Severity? = nil, category: AlertCategory? = nil, region: String? = nil, summary: String? = nil,
        expiresAtMillis: UInt64? = nil, supersedes: EntryID? = nil
    ) {
        self.alertID = alertID
        self.severity = severity
        self.category = category
        self.region = region
        self.summary = summary
        self.expiresAtMillis = expiresAtMillis
        self.supersedes = supersedes
    }
}

/// A participant's acknowledgement that it has seen an alert.
public struct AlertAcknowledgement: Sendable, Hashable {
    public var alertID: EntryID
    public var participant: ParticipantID
    public var note: String

    public init(alertID: EntryID, participant: ParticipantID, note: String = "") {
        self.alertID = alertID
        self.participant = participant
        self.note = note
    }
}

/// The end of an alert; terminal.
public struct AlertResolution: Sendable, Hashable {
    public var alertID: EntryID
    public var note: String

    public init(alertID: EntryID, note: String = "") {
        self.alertID = alertID
        self.note = note
    }
}

/// What an entry does to the registry.
///
/// `unknown` is an operation kind newer than this version (identified by its field numbers): the
/// entry is valid, stored and relayed, but not folded. `malformed` is an operation this version
/// knows whose fields are not acceptable (a non-canonical quantity, a bad participant id): the
/// entry is kept as evidence and the fold reports it as a policy violation.
public enum EntryOperation: Sendable, Hashable {
    case reportReserve(ReserveReport)
    case setTarget(ReserveTarget)
    case raiseAlert(AlertRaise)
    case updateAlert(AlertUpdate)
    case acknowledgeAlert(AlertAcknowledgement)
    case resolveAlert(AlertResolution)
    case cutFeed(FeedCut)
    case setConsumption(ReserveConsumption)
    /// An operation kind newer than this node, named by its first field numbers (distinct, in
    /// order of appearance, at most `maximumUnknownFieldNumbers`).
    case unknown(fieldNumbers: [Int])
    case malformed(reason: String)

    public static let maximumUnknownFieldNumbers = 16

    /// The write this one supersedes in its register (reports, targets, alert updates).
    public var supersedes: EntryID? {
        switch self {
        case .reportReserve(let report): report.supersedes
        case .setTarget(let target): target.supersedes
        case .setConsumption(let consumption): consumption.supersedes
        case .updateAlert(let update): update.supersedes
        default: nil
        }
    }

    public var kind: String {
        switch self {
        case .reportReserve: "reportReserve"
        case .setTarget: "setTarget"
        case .raiseAlert: "raiseAlert"
        case .updateAlert: "updateAlert"
        case .acknowledgeAlert: "acknowledgeAlert"
        case .resolveAlert: "resolveAlert"
        case .cutFeed: "cutFeed"
        case .setConsumption: "setConsumption"
        case .unknown: "unknown"
        case .malformed: "malformed"
        }
    }
}
