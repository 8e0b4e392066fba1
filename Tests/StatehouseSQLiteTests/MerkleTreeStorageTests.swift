import Foundation
import StatehouseCore
import StatehouseLedger
import StatehouseSQLite
import StatehouseTesting
import Testing

/// The tree the writer stores matches one computed from the log, its proofs verify, it survives restarts, and the
/// migration builds the same tree for a database written before it existed.
@Suite("Merkle tree in the store", .timeLimit(.minutes(2)))
struct MerkleTreeStorageTests {
    /// Commits `count` events of 1 to 3 writes (some deletes) to `namespace`.
    static func commit(
        _ engine: StatehouseEngine, count: Int, namespace: String = "default", from start: Int = 0
    )
        async throws
    {
        for index in start..<start + count {
            var operations: [WriteOperation] = (0...(index % 3)).map {
                .put(agentID: "agent-\(index % 4)", key: "k\((index + $0) % 7)", value: json("{\"n\":\(index)}"))
            }
            if index % 5 == 4 { operations[0] = .delete(agentID: "agent-\(index % 4)", key: "k\(index % 7)") }
            _ = try await engine.commit(
                AtomicCommit(
                    namespace: namespace, operations: operations,
                    metadata: index % 2 == 0
                        ? CommitMetadata(actor: "tester", tags: ["i": "\(index)"]) : CommitMetadata()
                ))
        }
    }

    /// Checks the stored tree against leaves computed from the log: every root, sampled inclusion proofs and
    /// consistency proofs.
    static func checkTree(_ engine: StatehouseEngine, namespace: String = "default") async throws {
        let events = try await engine.allEvents(namespace: namespace)
        let leaves = events.map(LeafEncoding.leafHash)
        let head = try await engine.treeHead(namespace: namespace)
        #expect(head.treeSize == UInt64(events.count))
        #expect(head.rootHash == MerkleTree.root(leafHashes: leaves))
        for size in stride(from: 1, through: leaves.count, by: max(1, leaves.count / 9)) {
            let root = MerkleTree.root(leafHashes: leaves.prefix(size))
            #expect(try await engine.treeHead(namespace: namespace, size: UInt64(size)).rootHash == root)
            for commitTS in Set([1, size, (size + 1) / 2, max(1, size - 1)]) {
                let proof = try await engine.inclusionProof(
                    namespace: namespace, commitTS: CommitTS(commitTS), treeSize: UInt64(size))
                #expect(
                    MerkleVerification.verifyInclusion(
                        leafIndex: UInt64(commitTS - 1), treeSize: UInt64(size), leafHash: leaves[commitTS - 1],
                        proof: proof.hashes, root: root), "inclusion of \(commitTS) in \(size)")
            }
            let consistency = try await engine.consistencyProof(namespace: namespace, oldSize: UInt64(size))
            #expect(consistency.newSize == head.treeSize)
            #expect(
                MerkleVerification.verifyConsistency(
                    oldSize: UInt64(size), newSize: head.treeSize, oldRoot: root, newRoot: head.rootHash,
                    proof: consistency.hashes), "consistency \(size) -> \(head.treeSize)")
        }
    }

    @Test("the stored tree matches the log's leaves, and its proofs verify", arguments: StoreKind.allCases)
    func treeMatchesLog(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            #expect(
                try await engine.treeHead()
                    == TreeHead(namespace: "default", treeSize: 0, rootHash: MerkleTree.emptyRoot))
            try await Self.commit(engine, count: 37)
            try await Self.commit(engine, count: 5, namespace: "other")
            // Concurrent committers: leaves of one group commit and of two namespaces interleaved in one batch.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        try await Self.commit(
                            engine, count: 12, namespace: worker % 2 == 0 ? "default" : "other", from: 100 * worker)
                    }
                }
                try await group.waitForAll()
            }
            try await Self.checkTree(engine)
            try await Self.checkTree(engine, namespace: "other")
        }
    }

    @Test("after a restart the tree goes on from where it was")
    func treeAcrossRestarts() async throws {
        try await withTemporaryDirectory { directory in
            var roots: [TreeHead] = []
            for round in 0..<3 {
                let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
                try await runEngine(backend: backend) { engine in
                    // The head read back after a restart is the one recorded before it.
                    if let last = roots.last { #expect(try await engine.treeHead() == last) }
                    try await Self.commit(engine, count: 11 + round, from: 20 * round)
                    try await Self.checkTree(engine)
                    roots.append(try await engine.treeHead())
                }
            }
            #expect(roots.map(\.treeSize) == [11, 23, 36])
        }
    }

    @Test("the migration builds the same tree for a database written before the tree existed")
    func migrationBuildsTree() async throws {
        try await withTemporaryDirectory { directory in
            var before: TreeHead?
            var proofs: [InclusionProof] = []
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: backend) { engine in
                try await Self.commit(engine, count: 45)
                try await Self.commit(engine, count: 3, namespace: "second")
                before = try await engine.treeHead()
                for commitTS in [1, 17, 45] as [CommitTS] {
                    proofs.append(try await engine.inclusionProof(commitTS: commitTS))
                }
            }
            // Turn the file back into schema version 1: no tree column, no event index, no search, no expiry columns, no
            // record of migrations 2+.
            try tamper(
                directory: directory,
                undoMigration5
                    + "ALTER TABLE events DROP COLUMN merkle_nodes; DROP TABLE agent_events; DROP TABLE search_text; "
                    + "DROP TABLE search_docs; "
                    + "DELETE FROM schema_migrations WHERE version >= 2")
            let reopened = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: reopened) { engine in
                #expect(try await engine.treeHead() == before)
                for proof in proofs {
                    #expect(try await engine.inclusionProof(commitTS: proof.commitTS) == proof)
                }
                try await Self.commit(engine, count: 6, from: 45)
                try await Self.checkTree(engine)
                try await Self.checkTree(engine, namespace: "second")
            }
        }
    }

    @Test("proof requests outside the tree are refused with the reason, and change nothing")
    func badRequests() async throws {
        try await withTestEngine { engine in
            try await Self.commit(engine, count: 6)
            let head = try await engine.treeHead()
            func expectError(_ body: () async throws -> Void, _ matches: (StatehouseError) -> Bool) async {
                do {
                    try await body()
                    Issue.record("expected an error")
                } catch let error as StatehouseError {
                    #expect(matches(error), "\(error)")
                } catch {
                    Issue.record("unexpected \(error)")
                }
            }
            func invalid(_ text: String) -> (StatehouseError) -> Bool {
                { if case .invalidArgument(let message) = $0 { message.contains(text) } else { false } }
            }
            await expectError({ _ = try await engine.inclusionProof(commitTS: 0) }, invalid("commit_ts 0 is not in"))
            await expectError({ _ = try await engine.inclusionProof(commitTS: 7) }, invalid("commit_ts 7 is not in"))
            await expectError(
                { _ = try await engine.inclusionProof(commitTS: 5, treeSize: 4) }, invalid("commit_ts 5 is not in"))
            await expectError(
                { _ = try await engine.inclusionProof(commitTS: 1, treeSize: 7) }, invalid("tree size 7 is beyond"))
            await expectError({ _ = try await engine.treeHead(size: 7) }, invalid("tree size 7 is beyond"))
            await expectError(
                { _ = try await engine.consistencyProof(oldSize: 5, newSize: 4) }, invalid("larger than the new"))
            await expectError({ _ = try await engine.consistencyProof(oldSize: 7) }, invalid("larger than the new"))
            await expectError(
                { _ = try await engine.consistencyProof(oldSize: 1, newSize: 9) }, invalid("new tree size 9 is beyond"))
            await expectError(
                { _ = try await engine.inclusionProof(namespace: "nobody", commitTS: 1) },
                { if case .notFound(let message) = $0 { message.contains("'nobody' has no commits") } else { false } })
            await expectError(
                { _ = try await engine.treeHead(namespace: "bad name!") },
                { if case .invalidArgument = $0 { true } else { false } })
            #expect(try await engine.treeHead() == head)
            #expect(try await engine.consistencyProof(oldSize: 0).hashes.isEmpty)
            #expect(try await engine.consistencyProof(oldSize: 6).hashes.isEmpty)
        }
    }
}

@Suite("Merkle tree damage", .timeLimit(.minutes(2)))
struct MerkleTreeDamageTests {
    @Test("an edited tree node is named by verify; a namespace whose tree cannot be read refuses commits, others go on")
    func damagedTree() async throws {
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: backend) { engine in
                try await MerkleTreeStorageTests.commit(engine, count: 20)
                try await MerkleTreeStorageTests.commit(engine, count: 3, namespace: "other")
                #expect(try await engine.verify().isValid)
            }
            // The stored leaf of commit_ts 11 replaced: the chain is intact, the tree is not.
            try tamper(
                directory: directory, "UPDATE events SET merkle_nodes = zeroblob(32) WHERE commit_ts = 11 AND ns_id = 1"
            )
            var reopened = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: reopened) { (engine: StatehouseEngine) async throws in
                let report = try await engine.verify()
                #expect(report.firstBadCommitTS == 11)
                #expect(
                    report.reason?.contains("Merkle tree nodes stored with the event") == true, "\(report.reason ?? "")"
                )
                #expect(try await engine.verify(namespace: "other").isValid)
            }
            // The tree's right edge unreadable (the last event's nodes gone): no commits to that namespace.
            try tamper(directory: directory, "UPDATE events SET merkle_nodes = NULL WHERE commit_ts = 20 AND ns_id = 1")
            reopened = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: reopened) { (engine: StatehouseEngine) async throws in
                await #expect(throws: StatehouseError.self) {
                    try await engine.put(agent: "a", key: "k", json: "1")
                }
                #expect(try await engine.get(agentID: "agent-1", key: "k1").version > 0)
                #expect(try await engine.put(namespace: "other", agent: "a", key: "k", json: "1").commitTS == 4)
                #expect(try await engine.head().commitTS == 20)
            }
        }
    }
}
