import StatehouseClient
import StatehouseCore
import StatehouseTesting
import Testing

@Suite("Swift client: verified reads", .timeLimit(.minutes(2)))
struct VerifiedReadTests {
    @Test("a verified read returns what a plain read returns, for puts, deletes, old versions and missing keys")
    func verifiedEqualsPlain() async throws {
        try await withInProcessClient { client in
            _ = try await client.commit(
                AtomicCommit(operations: [
                    .put(agentID: "a", key: "k1", value: json(#"{"n":1}"#)),
                    .put(agentID: "a", key: "k2", value: json("2")),
                ]))
            _ = try await client.commit(
                AtomicCommit(
                    operations: [.put(agentID: "a", key: "k1", value: json(#"{"n":2}"#))],
                    metadata: CommitMetadata(actor: "swift", reason: "test", tags: ["b": "2", "a": "1"])))
            _ = try await client.commit(AtomicCommit(operations: [.delete(agentID: "a", key: "k2")]))
            for key in ["k1", "k2", "never"] {
                let plain = try await client.get(agentID: "a", key: key)
                #expect(try await client.get(agentID: "a", key: key, verified: true) == plain)
            }
            let old = try await client.get(agentID: "a", key: "k1", at: .commit(1), verified: true)
            #expect(old.version == 1 && old.value == json(#"{"n":1}"#))
            let head = try await client.treeHead()
            #expect(try await client.ledgerKey().verify(head) && head.head.treeSize == 3)
            let proof = try await client.consistencyProof(oldSize: 1)
            let first = try await client.treeHead(size: 1)
            #expect(
                MerkleVerification.verifyConsistency(
                    oldSize: 1, newSize: 3, oldRoot: first.head.rootHash, newRoot: head.head.rootHash,
                    proof: proof.hashes))
        }
    }

    @Test("a client that trusts another key refuses the daemon's heads")
    func otherKeyRefused() async throws {
        try await withInProcessClient { client in
            _ = try await client.commit(AtomicCommit(operations: [.put(agentID: "a", key: "k", value: json("1"))]))
            client.trust(ledgerKey: TreeHeadSigner().publicKey)
            await #expect {
                _ = try await client.get(agentID: "a", key: "k", verified: true)
            } throws: { error in
                guard case StatehouseError.dataCorruption(_, let reason) = error else { return false }
                return reason.contains("signature does not verify with the trusted key")
            }
        }
    }
}
