import Foundation
import MineralWire
import OpenSSLCrypto
import SwiftProtobuf

/// Why a views snapshot (views.proto) was not taken. Whoever holds one that fails folds the
/// entries instead.
public enum ViewsSnapshotError: Error, Sendable, Equatable, CustomStringConvertible {
    case undecodable(String)
    case unsupportedVersion(UInt32)
    /// An entry that does not decode, lies beyond the snapshot's vector, or fails the check
    /// the reader asked for (its signature, for a snapshot from a peer).
    case invalidEntry(String)
    case invalidRegister(String)
    /// The views the snapshot holds are not those its digest names: damaged, or made up.
    case digestMismatch(claimed: SHA256Digest, computed: SHA256Digest)

    public var description: String {
        switch self {
        case .undecodable(let reason): "the views snapshot does not decode: \(reason)"
        case .unsupportedVersion(let version): "the views snapshot has version \(version); this node reads version 1"
        case .invalidEntry(let reason): "the views snapshot holds an entry it cannot: \(reason)"
        case .invalidRegister(let reason): "the views snapshot holds a register it cannot: \(reason)"
        case .digestMismatch(let claimed, let computed):
            "the views snapshot names digest \(claimed.hex) but holds views with digest \(computed.hex)"
        }
    }
}

extension RegistryViews {
    /// These views as a `ViewsSnapshot` (views.proto), the same bytes for the same views on
    /// every node. The views keep alerts' operations, not their entries: `alertEntries` are the
    /// entries about alerts the caller read from the store; those beyond `folded` are left out.
    public func snapshot(alertEntries: [Entry]) -> [UInt8] {
        var message = Mineralsync_V1_ViewsSnapshot()
        message.version = 1
        message.vector = folded.wire
        message.digest = Data(digest.bytes)
        message.reserves = reserveRegisters.sorted { $0.key < $1.key }.map { Self.wire($0.value) }
        message.targets = targetRegisters.sorted { $0.key < $1.key }.map { Self.wire($0.value) }
        message.consumption = consumptionRegisters.sorted { $0.key < $1.key }.map { Self.wire($0.value) }
        var entries = aside
        for entry in alertEntries where entry.seq <= folded[entry.origin] && entries[entry.id] == nil {
            entries[entry.id] = entry
        }
        message.entries = entries.sorted { $0.key < $1.key }.map { $0.value.signed.wire }
        message.folded = UInt64(entryCount)
        // Encoding a message built here cannot fail.
        return (try? message.serializedBytes()) ?? []
    }

    /// The views a `ViewsSnapshot` holds, when they are the views its digest names. `check`
    /// accepts or refuses each entry (a snapshot from a peer: its signature), after the
    /// snapshot's own checks: it decodes, it is within the snapshot's vector, and register
    /// writes keep the policy. `alongside`: entries about alerts to fold with those the
    /// snapshot holds (a node's own snapshot leaves them out: they are in its store); those
    /// beyond the snapshot's vector are left out.
    public init(
        snapshot bytes: [UInt8], policy: EntryPolicy = EntryPolicy(), alongside: [Entry] = [],
        check: (Entry) -> Bool = { _ in true }
    ) throws(ViewsSnapshotError) {
        let message: Mineralsync_V1_ViewsSnapshot
        do { message = try Mineralsync_V1_ViewsSnapshot(serializedBytes: bytes) } catch { throw .undecodable("\(error)") }
        guard message.version == 1 else { throw .unsupportedVersion(message.version) }
        self.init(policy: policy)
        var vector = VersionVector()
        for head in message.vector.heads {
            let node = try Self.node(head.node)
            guard vector[node] == 0, head.seq > 0 else { throw .undecodable("the vector names \(node) twice, or at seq 0") }
            vector[node] = head.seq
        }
        folded = vector
        func entry(_ wire: Mineralsync_V1_SignedEntry) throws(ViewsSnapshotError) -> Entry {
            let entry: Entry
            do { entry = try EntryCodec.decode(SignedEntry(wire: wire)) } catch {
                throw .invalidEntry("\(error)")
            }
            guard entry.seq <= vector[entry.origin] else { throw .invalidEntry("\(entry) lies beyond the snapshot's vector") }
            guard check(entry) else { throw .invalidEntry("\(entry) fails its check") }
            return entry
        }
        for state in message.reserves {
            let (key, register): (ReserveKey, Register<ReserveRecord>) = try Self.register(state, policy: policy, entry: entry) { operation in
                if case .reportReserve(let report) = operation { report.key } else { nil }
            }
            guard reserveRegisters.updateValue(register, forKey: key) == nil else { throw .invalidRegister("a reserve register appears twice") }
        }
        for state in message.targets {
            let (key, register): (TargetKey, Register<TargetRecord>) = try Self.register(state, policy: policy, entry: entry) { operation in
                if case .setTarget(let target) = operation { TargetKey(participant: target.participant, mineral: target.mineral) } else { nil }
            }
            guard targetRegisters.updateValue(register, forKey: key) == nil else { throw .invalidRegister("a target register appears twice") }
        }
        for state in message.consumption {
            let (key, register): (TargetKey, Register<ConsumptionRecord>) = try Self.register(state, policy: policy, entry: entry) { operation in
                if case .setConsumption(let consumption) = operation { consumption.key } else { nil }
            }
            guard consumptionRegisters.updateValue(register, forKey: key) == nil else { throw .invalidRegister("a consumption register appears twice") }
        }
        var landed: Set<EntryID> = []
        for wire in message.entries {
            let folded = try entry(wire)
            guard landed.insert(folded.id).inserted else { throw .invalidEntry("\(folded) appears twice") }
            switch folded.operation {
            case .reportReserve, .setTarget, .setConsumption:
                guard policy.violation(of: folded.operation, by: folded.origin) != nil else {
                    throw .invalidEntry("\(folded) writes a register: it belongs to the register's state")
                }
            default: break
            }
            land(folded)
        }
        for entry in alongside where entry.seq <= vector[entry.origin] && landed.insert(entry.id).inserted {
            guard entry.subject?.hasPrefix(Entry.alertSubjectStart) == true else { throw .invalidEntry("\(entry) is not about an alert") }
            land(entry)
        }
        // Every feed is folded from its first entry: the count is the vector's total.
        guard message.folded == vector.total else {
            throw .undecodable("it counts \(message.folded) entries folded, its vector \(vector.total)")
        }
        entryCount = Int(clamping: message.folded)
        let computed = digest
        guard let claimed = SHA256Digest(bytes: message.digest), claimed == computed else {
            throw .digestMismatch(claimed: SHA256Digest(bytes: message.digest) ?? .zero, computed: computed)
        }
    }

    /// A register's state: its writes decoded and checked (`entry`), each of them a write of one
    /// register (`key` of its operation, nil for any other operation) that the policy allows.
    private static func register<Record, Key: Hashable>(
        _ state: Mineralsync_V1_RegisterState, policy: EntryPolicy,
        entry: (Mineralsync_V1_SignedEntry) throws(ViewsSnapshotError) -> Entry,
        key: (EntryOperation) -> Key?
    ) throws(ViewsSnapshotError) -> (Key, Register<Record>) {
        var heads: [Entry] = []
        for wire in state.heads { heads.append(try entry(wire)) }
        let unlinked = state.hasGreatestUnlinked ? try entry(state.greatestUnlinked) : nil
        guard unlinked?.supersedes == nil else { throw .invalidRegister("the greatest write without supersedes names one") }
        guard !heads.isEmpty, Set(heads.map(\.id)).count == heads.count else { throw .invalidRegister("a register without heads, or with one twice") }
        let writes = heads + (unlinked.map { [$0] } ?? [])
        guard let register = key(heads[0].operation),
            writes.allSatisfy({ key($0.operation) == register && policy.violation(of: $0.operation, by: $0.origin) == nil })
        else {
            throw .invalidRegister("a register's writes are not writes of one register that the policy allows")
        }
        var awaited: Set<EntryID> = []
        for id in state.awaited {
            guard let id = SHA256Digest(bytes: id) else { throw .invalidRegister("an awaited id is not 32 bytes") }
            awaited.insert(id)
        }
        var chains: [Register<Record>.FeedChain] = []
        for wire in state.chains {
            guard let chain = SHA256Digest(bytes: wire.chain), wire.writes > 0 else {
                throw .invalidRegister("a feed chain is not 32 bytes, or counts no write")
            }
            chains.append(.init(feed: try node(wire.feed), chain: chain, count: Int(clamping: wire.writes)))
        }
        guard Set(chains.map(\.feed)).count == chains.count, writes.allSatisfy({ write in chains.contains { $0.feed == write.origin } }) else {
            throw .invalidRegister("a register's feed chains name a feed twice, or miss a head's feed")
        }
        return (register, Register(heads: heads, greatestUnlinked: unlinked, awaited: awaited, chains: chains))
    }

    private static func wire<Record>(_ register: Register<Record>) -> Mineralsync_V1_RegisterState {
        var state = Mineralsync_V1_RegisterState()
        state.heads = register.heads.map { $0.signed.wire }
        if let unlinked = register.greatestUnlinked { state.greatestUnlinked = unlinked.signed.wire }
        state.awaited = register.awaitedIDs.sorted().map { Data($0.bytes) }
        state.chains = register.chains.map { chain in
            var wire = Mineralsync_V1_FeedChain()
            wire.feed = chain.feed.wire
            wire.writes = UInt64(chain.count)
            wire.chain = Data(chain.chain.bytes)
            return wire
        }
        return state
    }

    static func node(_ ref: Mineralsync_V1_NodeRef) throws(ViewsSnapshotError) -> NodeID {
        do { return try NodeID(wire: ref) } catch {
            throw .undecodable("a node reference: \(error)")
        }
    }
}
