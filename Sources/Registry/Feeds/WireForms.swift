import Foundation
import MineralWire

extension NodeID {
    /// The node as the `.proto` files write it (`NodeRef`).
    public var wire: Mineralsync_V1_NodeRef {
        var ref = Mineralsync_V1_NodeRef()
        ref.participant = participant.rawValue
        ref.name = name
        ref.segment = segment
        return ref
    }

    public init(wire ref: Mineralsync_V1_NodeRef) throws(RegistryValueError) {
        try self.init(participant: ref.participant, name: ref.name, segment: ref.segment)
    }
}

extension SignedEntry {
    /// The entry as the `.proto` files carry it: its bytes, exactly as signed.
    public var wire: Mineralsync_V1_SignedEntry {
        var wire = Mineralsync_V1_SignedEntry()
        wire.body = Data(body)
        wire.signature = Data(signature)
        return wire
    }

    public init(wire: Mineralsync_V1_SignedEntry) {
        self.init(body: [UInt8](wire.body), signature: [UInt8](wire.signature))
    }
}

extension VersionVector {
    /// The vector as the `.proto` files write it, its feeds in node order.
    public var wire: Mineralsync_V1_VersionVector {
        var wire = Mineralsync_V1_VersionVector()
        wire.heads = heads.sorted { $0.key < $1.key }.map { node, seq in
            var head = Mineralsync_V1_FeedHead()
            head.node = node.wire
            head.seq = seq
            return head
        }
        return wire
    }
}
