import Foundation
import OpenSSLCrypto
import Registry
import TestSupport
import Testing

/// The pure side of convergence proofs: statements signed and checked, compared only at equal
/// vectors, agreement recorded per participant, divergence named with both digests, and a
/// checkpoint once a node of every participant signed the same vector and digest.
@Suite struct ConvergenceTrackerTests {
    static let alliance = TestAlliance.standard
    static let signer = SHA256.hash(Array("a certificate".utf8))

    static func statement(_ node: String, _ vector: VersionVector, _ digest: SHA256Digest, at millis: UInt64) throws -> SignedStatement {
        let id = alliance.node(node)
        return try SignedStatement.signing(
            ViewStatement(node: id, vector: vector, digest: digest, signedAtMillis: millis),
            key: alliance.nodes[id]!, signer: signer)
    }

    static let v1 = VersionVector([alliance.node("EU/eu-1"): 3, alliance.node("US/us-1"): 2])
    static let v2 = VersionVector([alliance.node("EU/eu-1"): 4, alliance.node("US/us-1"): 2])
    static let d1 = SHA256.hash(Array("views 1".utf8)), d2 = SHA256.hash(Array("views 2".utf8))

    @Test func aStatementRoundTripsAndOnlyItsNodesKeyVerifiesIt() throws {
        let signed = try Self.statement("EU/eu-1", Self.v1, Self.d1, at: 7)
        let read = try SignedStatement(wire: signed.wire)
        #expect(read == signed)
        #expect(read.statement.vector == Self.v1 && read.statement.digest == Self.d1)
        #expect(read.isSigned(by: Self.alliance.nodes[Self.alliance.node("EU/eu-1")]!.publicKey))
        #expect(!read.isSigned(by: Self.alliance.nodes[Self.alliance.node("US/us-1")]!.publicKey))
        // A statement's signature is not an entry's: the same bytes signed as an entry body do not verify.
        var wire = signed.wire
        wire.signature = Data(try Self.alliance.nodes[Self.alliance.node("EU/eu-1")]!.sign(SignedEntry.signedMessage(body: signed.bytes)))
        #expect(!(try SignedStatement(wire: wire)).isSigned(by: Self.alliance.nodes[Self.alliance.node("EU/eu-1")]!.publicKey))
    }

    @Test func oversizedOrMalformedStatementsAreRefusedBeforeDecoding() throws {
        var wire = try Self.statement("EU/eu-1", Self.v1, Self.d1, at: 7).wire
        wire.signature = Data(repeating: 1, count: 257)
        #expect(throws: SignedStatement.Problem.self) { try SignedStatement(wire: wire) }
        wire = try Self.statement("EU/eu-1", Self.v1, Self.d1, at: 7).wire
        wire.signer = Data(repeating: 1, count: 31)
        #expect(throws: SignedStatement.Problem.self) { try SignedStatement(wire: wire) }
        wire = try Self.statement("EU/eu-1", Self.v1, Self.d1, at: 7).wire
        wire.statement = Data([0xFF, 0xFF, 0xFF])
        #expect(throws: SignedStatement.Problem.self) { try SignedStatement(wire: wire) }
    }

    @Test func statementsCompareOnlyAtTheSameVector() throws {
        var tracker = ConvergenceTracker(node: Self.alliance.node("EU/eu-1"), quorum: ["EU", "US", "JP"])
        // At another vector than ours, and never signed by us: kept, compared later.
        #expect(tracker.receive(try Self.statement("US/us-1", Self.v2, Self.d2, at: 1), current: Self.v1, digest: { Self.d1 }) == .kept)
        // Our statement at that vector with the same digest: agreement with US.
        let outcomes = tracker.recordOwn(try Self.statement("EU/eu-1", Self.v2, Self.d2, at: 2))
        guard case .agreed(let agreement)? = outcomes.first else {
            Issue.record("\(outcomes)")
            return
        }
        #expect(agreement.node == Self.alliance.node("US/us-1") && agreement.vector == Self.v2)
        #expect(tracker.agreements["US"]?.vector == Self.v2)
        // The same statement again, or an older one: nothing new.
        #expect(tracker.receive(try Self.statement("US/us-1", Self.v2, Self.d2, at: 1), current: Self.v2, digest: { Self.d2 }) == .known)
        // At our current vector with another digest: a divergence naming both digests.
        let outcome = tracker.receive(try Self.statement("US/us-2", Self.v1, Self.d2, at: 3), current: Self.v1, digest: { Self.d1 })
        guard case .diverged(let divergence) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(divergence.ours == Self.d1 && divergence.theirs == Self.d2 && divergence.node == Self.alliance.node("US/us-2"))
        #expect(divergence.description.contains(Self.d1.hex) && divergence.description.contains(Self.d2.hex))
        // A statement at a vector we signed earlier compares with what we signed then.
        _ = tracker.recordOwn(try Self.statement("EU/eu-1", Self.v1, Self.d1, at: 4))
        let jp = tracker.receive(try Self.statement("JP/jp-1", Self.v2, Self.d2, at: 5), current: Self.v1, digest: { Self.d1 })
        guard case .agreed(let withJP) = jp else {
            Issue.record("\(jp)")
            return
        }
        #expect(withJP.node == Self.alliance.node("JP/jp-1") && withJP.vector == Self.v2 && withJP.signedAtMillis == 5)
    }

    @Test func aCheckpointNeedsANodeOfEveryParticipantAtTheSameVectorAndDigest() throws {
        var tracker = ConvergenceTracker(node: Self.alliance.node("EU/eu-1"), quorum: ["EU", "US", "JP"])
        _ = tracker.recordOwn(try Self.statement("EU/eu-1", Self.v1, Self.d1, at: 1))
        _ = tracker.receive(try Self.statement("US/us-1", Self.v1, Self.d1, at: 1), current: Self.v1, digest: { Self.d1 })
        #expect(tracker.checkpoint == nil, "JP has not signed")
        // JP signs another digest: no checkpoint.
        _ = tracker.receive(try Self.statement("JP/jp-1", Self.v1, Self.d2, at: 1), current: Self.v1, digest: { Self.d1 })
        #expect(tracker.checkpoint == nil)
        // JP's next statement agrees.
        _ = tracker.receive(try Self.statement("JP/jp-1", Self.v1, Self.d1, at: 2), current: Self.v1, digest: { Self.d1 })
        let checkpoint = try #require(tracker.checkpoint)
        #expect(checkpoint.vector == Self.v1 && checkpoint.digest == Self.d1)
        #expect(checkpoint.statements.map(\.statement.node.participant) == ["EU", "JP", "US"])
        #expect(checkpoint.statements.allSatisfy { $0.statement.vector == Self.v1 && $0.statement.digest == Self.d1 })
    }
}
