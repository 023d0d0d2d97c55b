import Foundation
import MineralWire
import Registry
import SwiftProtobuf

/// Protocol Buffers encoding of `SyncMessage`, with every field checked on the way in.
public enum SyncMessageCodec {
    /// No feed will ever hold this many entries; a vector claiming more is a lie or a bug.
    public static let maximumSequence: UInt64 = 1 << 40

    public static func encode(_ message: SyncMessage) throws -> [UInt8] {
        var out = Mineralsync_V1_SyncMessage()
        switch message {
        case .hello(let hello):
            var wire = Mineralsync_V1_Hello()
            wire.protocolVersion = hello.protocolVersion
            wire.node = hello.node.wire
            wire.vector = hello.vector.wire
            wire.headIds = hello.headIDs.sorted { $0.key < $1.key }.map { node, id in
                var head = Mineralsync_V1_FeedHeadID()
                head.node = node.wire
                head.id = Data(id.bytes)
                return head
            }
            wire.features = hello.features.sorted()
            out.kind = .hello(wire)
        case .entries(let entries):
            var wire = Mineralsync_V1_EntryBatch()
            wire.entries = entries.map(\.wire)
            out.kind = .entries(wire)
        case .certificates(let certificates):
            var wire = Mineralsync_V1_OriginCertificates()
            wire.certificates = certificates.map { certificate in
                var origin = Mineralsync_V1_OriginCertificate()
                origin.node = certificate.node.wire
                origin.chain = certificate.chain.map { Data($0) }
                return origin
            }
            out.kind = .certificates(wire)
        case .vector(let heads):
            var wire = Mineralsync_V1_Vector()
            wire.vector = heads.wire
            out.kind = .vector(wire)
        case .ping(let nonce):
            var wire = Mineralsync_V1_Ping()
            wire.nonce = nonce
            out.kind = .ping(wire)
        case .pong(let nonce, let wallMillis):
            var wire = Mineralsync_V1_Pong()
            wire.nonce = nonce
            wire.wallMillis = wallMillis
            out.kind = .pong(wire)
        case .goodbye(let reason, let detail):
            var wire = Mineralsync_V1_Goodbye()
            wire.reason = Mineralsync_V1_Goodbye.Reason(rawValue: reason.rawValue) ?? .unspecified
            wire.detail = bounded(detail, bytes: SyncLimits.standard.detailLength)
            out.kind = .goodbye(wire)
        case .revocations(let crls):
            var wire = Mineralsync_V1_RevocationLists()
            wire.crls = crls.map { Data($0) }
            out.kind = .revocations(wire)
        case .statements(let statements):
            var wire = Mineralsync_V1_ViewStatements()
            wire.statements = statements.map(\.wire)
            out.kind = .statements(wire)
        case .checkpointRequest:
            out.kind = .checkpointRequest(Mineralsync_V1_CheckpointRequest())
        case .checkpointPart(let part):
            var wire = Mineralsync_V1_CheckpointPart()
            wire.total = part.total
            wire.offset = part.offset
            wire.data = Data(part.data)
            out.kind = .checkpointPart(wire)
        }
        return try out.serializedBytes()
    }

    /// Decodes one received message, refusing anything beyond `limits` before it is copied.
    public static func decode(_ bytes: some Collection<UInt8>, limits: SyncLimits = .standard) throws(SyncProtocolError) -> SyncMessage {
        let scanned =
            bytes.withContiguousStorageIfAvailable { buffer in
                Result { () throws(SyncProtocolError) in try decode(UnsafeRawBufferPointer(buffer), limits: limits) }
            }
            ?? Array(bytes).withUnsafeBytes { buffer in
                Result { () throws(SyncProtocolError) in try decode(buffer, limits: limits) }
            }
        return try scanned.get()
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, limits: SyncLimits) throws(SyncProtocolError) -> SyncMessage {
        guard !bytes.isEmpty else { throw .emptyMessage }
        if case .entries(let entries) = try SyncWireScan.scan(bytes, limits: limits) { return .entries(entries) }
        let wire: Mineralsync_V1_SyncMessage
        do {
            wire = try Mineralsync_V1_SyncMessage(serializedBytes: Array(bytes))
        } catch {
            throw .undecodableMessage(String(describing: error))
        }
        switch wire.kind {
        case .hello(let hello):
            guard hello.hasNode else { throw .invalidNode("hello names no node") }
            let heads = try vector(hello.vector)
            var ids: [NodeID: EntryID] = [:]
            for head in hello.headIds {
                let feed = try node(head.node)
                guard heads[feed] > 0 else { throw .impossibleVector("head id for \(feed), which the vector does not hold") }
                guard ids[feed] == nil else { throw .impossibleVector("two head ids for \(feed)") }
                guard let id = EntryID(bytes: head.id) else { throw .impossibleVector("head id for \(feed) is \(head.id.count) bytes, not 32") }
                ids[feed] = id
            }
            guard hello.features.count <= 64, hello.features.allSatisfy({ $0.utf8.count <= 64 }) else {
                throw .limitExceeded("more than 64 features, or a feature of more than 64 bytes")
            }
            return .hello(
                SyncHello(
                    protocolVersion: hello.protocolVersion, node: try node(hello.node), vector: heads, headIDs: ids,
                    features: Set(hello.features)))
        case .entries(let batch):
            return .entries(batch.entries.map(SignedEntry.init(wire:)))  // read by the scan
        case .certificates(let wire):
            return .certificates(
                try wire.certificates.map { certificate throws(SyncProtocolError) in
                    guard !certificate.chain.isEmpty else {
                        throw .invalidCertificate("empty chain for \(certificate.node.participant)/\(certificate.node.name)")
                    }
                    return OriginCertificate(node: try node(certificate.node), chain: certificate.chain.map { [UInt8]($0) })
                })
        case .vector(let wire):
            return .vector(try vector(wire.vector))
        case .ping(let ping):
            return .ping(ping.nonce)
        case .pong(let pong):
            return .pong(pong.nonce, wallMillis: pong.wallMillis)
        case .goodbye(let goodbye):
            return .goodbye(GoodbyeReason(rawValue: goodbye.reason.rawValue) ?? .unspecified, detail: goodbye.detail)
        case .revocations(let wire):
            return .revocations(wire.crls.map { [UInt8]($0) })
        case .statements(let wire):
            guard wire.statements.count <= limits.statementsPerMessage else {
                throw .limitExceeded("\(wire.statements.count) statements, more than \(limits.statementsPerMessage)")
            }
            return .statements(
                try wire.statements.map { statement throws(SyncProtocolError) in
                    do throws(SignedStatement.Problem) { return try SignedStatement(wire: statement) } catch { throw .invalidStatement(error.description) }
                })
        case .checkpointRequest:
            return .checkpointRequest
        case .checkpointPart(let wire):
            guard wire.data.count <= CheckpointPart.maximumSize else {
                throw .limitExceeded("a checkpoint part of \(wire.data.count) bytes; the limit is \(CheckpointPart.maximumSize)")
            }
            guard wire.offset <= wire.total, UInt64(wire.data.count) <= wire.total - wire.offset, wire.total > 0 || wire.data.isEmpty else {
                throw .undecodableMessage("a checkpoint part of \(wire.data.count) bytes at \(wire.offset) of \(wire.total)")
            }
            return .checkpointPart(CheckpointPart(total: wire.total, offset: wire.offset, data: [UInt8](wire.data)))
        case nil:
            throw .emptyMessage
        }
    }

    /// `text` cut (at a character boundary, marked with "…") to what every receiver accepts.
    static func bounded(_ text: String, bytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var kept = ""
        var size = 0
        for scalar in text.unicodeScalars {
            let length = String(scalar).utf8.count
            guard size + length <= limit - 3 else { break }
            kept.unicodeScalars.append(scalar)
            size += length
        }
        return kept + "…"
    }

    static func node(_ ref: Mineralsync_V1_NodeRef) throws(SyncProtocolError) -> NodeID {
        do {
            return try NodeID(wire: ref)
        } catch {
            throw .invalidNode(error.description)
        }
    }

    static func vector(_ wire: Mineralsync_V1_VersionVector) throws(SyncProtocolError) -> VersionVector {
        var heads: [NodeID: UInt64] = [:]
        for head in wire.heads {
            let node = try node(head.node)
            guard heads[node] == nil else { throw .impossibleVector("\(node) appears twice") }
            guard head.seq <= maximumSequence else { throw .impossibleVector("\(node) at seq \(head.seq)") }
            heads[node] = head.seq
        }
        return VersionVector(heads)
    }
}
