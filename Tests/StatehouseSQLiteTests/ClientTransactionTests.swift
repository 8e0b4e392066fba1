import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

/// Transactions a client began itself (its id, its buffered writes, its reads as conditions) commit in one call.
@Suite("Transactions begun by the client", .timeLimit(.minutes(2)))
struct ClientTransactionTests {
    func newID() -> String { TransactionID.make(wallMicroseconds: SystemClock().wallMicroseconds()) }

    @Test(
        "a client transaction commits once under its own id; a retry returns the first result",
        arguments: StoreKind.allCases)
    func exactlyOnce(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            try await engine.put(agent: "a", key: "read", json: "1")
            let id = self.newID()
            let commit = AtomicCommit(
                operations: [.put(agentID: "a", key: "k", value: json("2")), .delete(agentID: "a", key: "read")],
                conditions: [.init(agentID: "a", key: "read", expected: .version(1))],
                metadata: CommitMetadata(actor: "client")
            )
            let first = try await engine.commit(clientTransactionID: id, commit)
            #expect(first.txnID == id && first.commitTS == 2 && first.versions == [1, 2])
            // The retry's condition no longer holds and its content differs: it still returns the first result.
            var retry = commit
            retry.operations = [.put(agentID: "a", key: "k", value: json("3"))]
            #expect(try await engine.commit(clientTransactionID: id, retry) == first)
            #expect(try await engine.head().commitTS == 2)
            #expect(try await engine.get(agentID: "a", key: "k").value == json("2"))
            #expect(try await engine.readLog(LogFilter()).items.last?.metadata.actor == "client")
        }
    }

    @Test("a read that changed before the commit is a conflict, and nothing is applied")
    func conflict() async throws {
        try await withTestEngine { engine in
            try await engine.put(agent: "a", key: "read", json: "1")
            try await engine.put(agent: "a", key: "read", json: "2")  // the client read version 1
            let commit = AtomicCommit(
                operations: [.put(agentID: "a", key: "k", value: json("1"))],
                conditions: [.init(agentID: "a", key: "read", expected: .version(1))]
            )
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "read", expected: 1, actual: 2)) {
                try await engine.commit(clientTransactionID: self.newID(), commit)
            }
            #expect(try await engine.get(agentID: "a", key: "k").exists == false)
            #expect(try await engine.head().commitTS == 2)
        }
    }

    @Test("ids that are not the client's own version 7 UUIDs are refused, and change nothing")
    func badIDs() async throws {
        try await withTestEngine { engine in
            let commit = AtomicCommit(operations: [.put(agentID: "a", key: "k", value: json("1"))])
            let malformed = StatehouseError.invalidArgument(
                "a transaction begun by the client needs a version 7 UUID as its id (lowercase, 36 characters)"
            )
            for id in ["", "not-a-uuid", self.newID().uppercased(), "01a2447d-3f45-47aa-936b-ece817f07f66"] {
                await #expect(throws: malformed) { try await engine.commit(clientTransactionID: id, commit) }
            }
            let begun = try engine.beginTransaction()
            await #expect(
                throws: StatehouseError.invalidArgument(
                    "transaction \(begun.txnID) was begun on the daemon; commit it as such"
                )
            ) {
                try await engine.commit(clientTransactionID: begun.txnID, commit)
            }
            let id = self.newID()
            _ = try await engine.commit(clientTransactionID: id, commit)
            var elsewhere = commit
            elsewhere.namespace = "other"
            await #expect(
                throws: StatehouseError.invalidArgument("transaction id \(id) was already used in another namespace")
            ) {
                try await engine.commit(clientTransactionID: id, elsewhere)
            }
            #expect(try await engine.head(namespace: "other").commitTS == 0)
            #expect(try await engine.head().commitTS == 1)
        }
    }
}
