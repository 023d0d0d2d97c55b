import OpenSSLCrypto
import Registry
import SyncProtocol
import TestSupport
import Testing

/// The sync protocol end to end over the pure pieces: sessions, ledger, views.
@Suite struct ProtocolConvergenceTests {
    let alliance = TestAlliance.standard

    func alliance(_ names: [String]) -> (SimulatedNetwork, [SimulatedNode]) {
        let network = SimulatedNetwork()
        let nodes = names.map { SimulatedNode($0, alliance: alliance, network: network) }
        nodes.forEach(network.add)
        return (network, nodes)
    }

    @Test func meshOfThreeConvergesOnEveryEntry() throws {
        let (network, nodes) = alliance(["EU/eu-1", "US/us-1", "JP/jp-1"])
        // Some history before anyone connects, then the mesh, then live writes.
        for (index, node) in nodes.enumerated() {
            for step in 0..<15 { try node.write(Ops.report(node.id.participant, "gallium", "\(index * 100 + step)"), at: UInt64(step)) }
        }
        nodes[0].connect(nodes[1])
        nodes[1].connect(nodes[2])
        nodes[0].connect(nodes[2])
        network.runUntilQuiet()
        try nodes[1].write(Ops.raise("tungsten", "mine outage"), at: 100)
        try nodes[2].write(Ops.target("JP", "gallium", "900"), at: 101)
        network.runUntilQuiet()
        let digests = Set(nodes.map(\.registry.views.digest))
        #expect(digests.count == 1)
        #expect(nodes.allSatisfy { $0.registry.views.entryCount == 47 })
        #expect(nodes.allSatisfy { $0.rejected.isEmpty })
    }

    @Test func lineTopologyRelaysAndTheFarEndVerifiesTheOrigin() throws {
        let (network, nodes) = alliance(["EU/eu-1", "US/us-1", "JP/jp-1"])
        let (eu, us, jp) = (nodes[0], nodes[1], nodes[2])
        eu.connect(us)
        us.connect(jp)  // EU and JP never talk
        network.runUntilQuiet()
        for step in 0..<30 { try eu.write(Ops.report("EU", "graphite", "\(step)"), at: UInt64(step)) }
        network.runUntilQuiet()
        #expect(jp.vector[eu.id] == 30)
        #expect(jp.knownKeys[eu.id] != nil)  // learned from the relayed certificate
        #expect(jp.registry.views.digest == eu.registry.views.digest)
        #expect(jp.rejected.isEmpty)
    }

    @Test func aRelayThatAltersAByteIsCaughtWithItsReason() throws {
        let (network, nodes) = alliance(["EU/eu-1", "US/us-1", "JP/jp-1"])
        let (eu, us, jp) = (nodes[0], nodes[1], nodes[2])
        eu.connect(us)
        us.connect(jp)
        network.runUntilQuiet()
        network.tamper = { from, to, message in
            guard from == us.id, to == jp.id, case .entries(let entries) = message else { return message }
            return .entries(
                entries.map { entry in
                    var body = entry.body
                    body[body.count - 3] ^= 0x01  // inside the operation: still decodes, no longer signed
                    return SignedEntry(body: body, signature: entry.signature)
                })
        }
        for step in 0..<5 { try eu.write(Ops.report("EU", "graphite", "\(step)"), at: UInt64(step)) }
        network.runUntilQuiet()
        #expect(us.vector[eu.id] == 5)
        #expect(jp.vector[eu.id] == 0)
        #expect(!jp.rejected.isEmpty)
        #expect(
            jp.rejected.allSatisfy {
                $0.reason == .badSignature
                    || {
                        if case .malformed = $0.reason { return true }
                        return false
                    }($0)
            })
        // An honest path repairs it: once the relay stops tampering, anti-entropy delivers
        // (what went unconfirmed for a whole interval is sent again at the next).
        network.tamper = nil
        network.antiEntropy()
        network.runUntilQuiet()
        network.antiEntropy()
        network.runUntilQuiet()
        #expect(jp.vector[eu.id] == 5)
        #expect(jp.registry.views.digest == eu.registry.views.digest)
    }

    @Test func twinsSigningEqualLengthFeedsUnderOneIdentityAreCaughtByTheHelloHeadIDs() throws {
        let (network, nodes) = alliance(["EU/eu-1", "US/us-1"])
        let (twinA, us) = (nodes[0], nodes[1])
        let twinB = SimulatedNode("EU/eu-1", alliance: alliance, network: network)
        for step in 0..<3 {
            try twinA.write(Ops.report("EU", "gallium", "\(step)"), at: UInt64(step))
            try twinB.write(Ops.report("EU", "gallium", "\(900 + step)"), at: UInt64(step))
        }
        twinA.connect(us)
        network.runUntilQuiet()
        #expect(us.vector[twinA.id] == 3)

        // The other twin connects: same vector, so only the head ids can tell.
        network.add(twinB)
        us.sessions[twinA.id] = nil
        twinB.connect(us)
        network.runUntilQuiet()
        #expect(us.registry.ledger.forks.map(\.origin) == [twinA.id])
        #expect(us.registry.ledger.forks.first?.kind == .sameSequence)
        #expect(twinB.registry.ledger.forks.map(\.origin) == [twinA.id], "the twin learns someone else signs as it")
    }

    @Test func aNodeRestoredFromAnOldBackupLearnsItsOwnFeedBackAndNeverForks() throws {
        let (network, nodes) = alliance(["EU/eu-1", "US/us-1"])
        let (eu, us) = (nodes[0], nodes[1])
        eu.connect(us)
        for step in 0..<10 { try eu.write(Ops.report("EU", "gallium", "\(step)"), at: UInt64(step)) }
        network.runUntilQuiet()
        #expect(us.vector[eu.id] == 10)

        // EU's disk is restored from a backup holding only its first 4 entries.
        let restored = SimulatedNode("EU/eu-1", alliance: alliance, network: network)
        let backup = (1...4).map { eu.store[eu.id]![$0]! }
        for entry in backup { try restored.registry.replay(entry) }
        for entry in backup {
            restored.store[eu.id, default: [:]][entry.seq] = entry
            restored.author.catchUp(to: entry)
        }
        network.add(restored)
        us.sessions[eu.id] = nil
        restored.connect(us)
        network.runUntilQuiet()
        #expect(restored.ownFeedBehind == 10)
        #expect(us.provedHeads == [10], "US proves its claim with the entry at EU's head")
        #expect(restored.vector[eu.id] == 10)
        #expect(restored.author.nextSeq == 11)
        try restored.write(Ops.report("EU", "gallium", "999"), at: 50)
        network.runUntilQuiet()
        #expect(us.vector[eu.id] == 11)
        #expect(us.registry.ledger.forks.isEmpty)
        #expect(us.registry.views.digest == restored.registry.views.digest)
    }

    @Test func randomTopologiesAndWriteOrdersConverge() throws {
        for seed in 0..<20 {
            var random = SplitMix64(seed: UInt64(seed))
            let names = ["EU/eu-1", "EU/eu-2", "US/us-1", "US/us-2", "JP/jp-1"]
            let (network, nodes) = alliance(names)
            // A random spanning tree plus a few extra links: connected, often not a mesh.
            for index in 1..<nodes.count { nodes[index].connect(nodes[Int(random.next() % UInt64(index))]) }
            for _ in 0..<2 {
                let a = Int(random.next() % 5)
                let b = Int(random.next() % 5)
                if a != b && nodes[a].sessions[nodes[b].id] == nil { nodes[a].connect(nodes[b]) }
            }
            for step in 0..<40 {
                let node = nodes[Int(random.next() % 5)]
                try node.write(Ops.report(node.id.participant, ["gallium", "graphite"][Int(random.next() % 2)], "\(step)"), at: random.next() % 30)
                if random.next() % 4 == 0 { network.runUntilQuiet() }
            }
            network.runUntilQuiet()
            #expect(Set(nodes.map(\.registry.views.digest)).count == 1, "seed \(seed)")
            #expect(nodes.allSatisfy { $0.rejected.isEmpty && $0.registry.ledger.pendingCount == 0 }, "seed \(seed)")
        }
    }
}
