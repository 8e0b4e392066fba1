import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

@Suite("Interactive and one-shot transactions", .timeLimit(.minutes(2)))
struct TransactionTests {
    @Test("commits are atomic, versioned and gap-free", arguments: StoreKind.allCases)
    func atomicCommit(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            let txn = try engine.beginTransaction()
            try engine.put(txnID: txn.txnID, agentID: "a", key: "k1", value: json("1"))
            try engine.put(txnID: txn.txnID, agentID: "b", key: "k2", value: json(#"{"x":[1,2]}"#))
            let first = try await engine.commit(txnID: txn.txnID)
            #expect(first.commitTS == 1)
            #expect(first.versions == [1, 1])
            let second = try await engine.put(agent: "a", key: "k1", json: "2")
            #expect(second.commitTS == 2)
            #expect(second.versions == [2])
            let record = try await engine.get(agentID: "a", key: "k1")
            #expect(record.value == json("2"))
            #expect(record.version == 2)
            #expect(record.commitTS == 2)
            #expect(try await engine.get(agentID: "b", key: "k2").value == json(#"{"x":[1,2]}"#))
            #expect(try await engine.head().commitTS == 2)
        }
    }

    @Test("an aborted transaction applies nothing and cannot be committed")
    func abortDiscards() async throws {
        try await withTestEngine { engine in
            let txn = try engine.beginTransaction()
            try engine.put(txnID: txn.txnID, agentID: "a", key: "k", value: json("1"))
            try engine.abort(txnID: txn.txnID)
            await #expect(throws: StatehouseError.transactionNotFound("transaction \(txn.txnID) was aborted")) {
                try await engine.commit(txnID: txn.txnID)
            }
            #expect(throws: StatehouseError.self) {
                try engine.put(txnID: txn.txnID, agentID: "a", key: "k", value: json("2"))
            }
            #expect(try await engine.get(agentID: "a", key: "k").exists == false)
            #expect(try await engine.head().commitTS == 0)
            #expect(engine.openTransactionCount == 0)
        }
    }

    @Test("reads inside a transaction see its own writes")
    func readYourWrites() async throws {
        try await withTestEngine { engine in
            try await engine.put(agent: "a", key: "k", json: "1")
            let txn = try engine.beginTransaction()
            #expect(try await engine.get(txnID: txn.txnID, agentID: "a", key: "k").value == json("1"))
            try engine.put(txnID: txn.txnID, agentID: "a", key: "k", value: json("5"))
            let staged = try await engine.get(txnID: txn.txnID, agentID: "a", key: "k")
            #expect(staged.value == json("5") && staged.exists && staged.version == 0)
            try engine.delete(txnID: txn.txnID, agentID: "a", key: "k")
            #expect(try await engine.get(txnID: txn.txnID, agentID: "a", key: "k").exists == false)
            // Committed state is untouched until commit.
            #expect(try await engine.get(agentID: "a", key: "k").value == json("1"))
        }
    }

    @Test("a read-set conflict prevents a lost update", arguments: StoreKind.allCases)
    func lostUpdatePrevented(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            try await engine.put(agent: "a", key: "counter", json: "0")
            let first = try engine.beginTransaction()
            let second = try engine.beginTransaction()
            let seenByFirst = try await engine.get(txnID: first.txnID, agentID: "a", key: "counter")
            let seenBySecond = try await engine.get(txnID: second.txnID, agentID: "a", key: "counter")
            #expect(seenByFirst.version == 1 && seenBySecond.version == 1)
            try engine.put(txnID: first.txnID, agentID: "a", key: "counter", value: json("1"))
            try engine.put(txnID: second.txnID, agentID: "a", key: "counter", value: json("1"))
            _ = try await engine.commit(txnID: first.txnID)
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "counter", expected: 1, actual: 2)) {
                try await engine.commit(txnID: second.txnID)
            }
            let final = try await engine.get(agentID: "a", key: "counter")
            #expect(final.version == 2)
            #expect(try await engine.head().commitTS == 2)
            // The failed transaction is finished: a retry reports the failure, not success.
            await #expect(throws: StatehouseError.self) { try await engine.commit(txnID: second.txnID) }
        }
    }

    @Test("a read of a missing key conflicts with its creation")
    func phantomKeyConflict() async throws {
        try await withTestEngine { engine in
            let txn = try engine.beginTransaction()
            #expect(try await engine.get(txnID: txn.txnID, agentID: "a", key: "new").exists == false)
            try engine.put(txnID: txn.txnID, agentID: "a", key: "other", value: json("1"))
            try await engine.put(agent: "a", key: "new", json: "1")
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "new", expected: nil, actual: 1)) {
                try await engine.commit(txnID: txn.txnID)
            }
            #expect(try await engine.get(agentID: "a", key: "other").exists == false)
        }
    }

    @Test("expected-version and must-not-exist conditions", arguments: StoreKind.allCases)
    func conditions(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            let v1 = try await engine.put(agent: "a", key: "k", json: #"{"n":1}"#, expecting: .absent).versions[0]
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "k", expected: nil, actual: 1)) {
                try await engine.put(agent: "a", key: "k", json: #"{"n":9}"#, expecting: .absent)
            }
            let v2 = try await engine.put(agent: "a", key: "k", json: #"{"n":2}"#, expecting: .version(v1)).versions[0]
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "k", expected: v1, actual: v2)) {
                try await engine.put(agent: "a", key: "k", json: #"{"n":3}"#, expecting: .version(v1))
            }
            #expect(try await engine.get(agentID: "a", key: "k").value == json(#"{"n":2}"#))
            // After a delete the key counts as absent again.
            _ = try await engine.commit(AtomicCommit(operations: [.delete(agentID: "a", key: "k")]))
            try await engine.put(agent: "a", key: "k", json: #"{"n":4}"#, expecting: .absent)
            #expect(try await engine.get(agentID: "a", key: "k").version == 4)
            #expect(try await engine.head().commitTS == 4)
        }
    }

    @Test("a failing condition on one key applies none of the transaction's writes")
    func conditionFailureIsAtomic() async throws {
        try await withTestEngine { engine in
            try await engine.put(agent: "a", key: "guard", json: "1")
            let commit = AtomicCommit(
                operations: [
                    .put(agentID: "a", key: "x", value: json("1")),
                    .put(agentID: "b", key: "y", value: json("2")),
                ],
                conditions: [.init(agentID: "a", key: "guard", expected: .version(7))]
            )
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "guard", expected: 7, actual: 1)) {
                try await engine.commit(commit)
            }
            #expect(try await engine.get(agentID: "a", key: "x").exists == false)
            #expect(try await engine.get(agentID: "b", key: "y").exists == false)
            #expect(try await engine.allEvents().count == 1)
        }
    }

    @Test("retrying a commit returns the original result and applies it once", arguments: StoreKind.allCases)
    func exactlyOnce(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            let txn = try engine.beginTransaction()
            try engine.put(txnID: txn.txnID, agentID: "a", key: "k", value: json("1"))
            async let firstAttempt = engine.commit(txnID: txn.txnID)
            async let concurrentRetry = engine.commit(txnID: txn.txnID)
            let (first, second) = try await (firstAttempt, concurrentRetry)
            #expect(first == second)
            let third = try await engine.commit(txnID: txn.txnID)
            #expect(third == first)

            let request = AtomicCommit(
                operations: [.put(agentID: "a", key: "once", value: json("1"))],
                idempotencyKey: "request-42"
            )
            let original = try await engine.commit(request)
            let retried = try await engine.commit(request)
            #expect(retried == original)
            var different = request
            different.operations = [.put(agentID: "a", key: "once", value: json("2"))]
            await #expect(throws: StatehouseError.self) { try await engine.commit(different) }
            #expect(try await engine.get(agentID: "a", key: "once").version == 1)
            #expect(try await engine.head().commitTS == 2)
        }
    }

    @Test("a commit can stage buffered writes: all or none, and a retry ignores them", arguments: StoreKind.allCases)
    func commitWithStagedOperations(_ kind: StoreKind) async throws {
        let configuration = EngineConfiguration.defaults { $0.limits.maxOperationsPerTransaction = 3 }
        try await withTestEngine(kind, configuration: configuration) { engine in
            let txn = try engine.beginTransaction()
            try engine.put(txnID: txn.txnID, agentID: "a", key: "early", value: json("0"))
            // Over the operation limit (1 staged + 3 more): nothing of the batch is staged, the transaction stays open.
            let tooMany: [WriteOperation] = (1...3).map { .put(agentID: "a", key: "k\($0)", value: json("\($0)")) }
            await #expect(throws: StatehouseError.self) {
                try await engine.commit(txnID: txn.txnID, staging: tooMany)
            }
            // A bad name in the batch is refused before anything is staged.
            await #expect(throws: StatehouseError.self) {
                try await engine.commit(txnID: txn.txnID, staging: [.put(agentID: "a", key: "", value: json("1"))])
            }
            let staged = try await engine.get(txnID: txn.txnID, agentID: "a", key: "k1")
            #expect(staged.exists == false)

            let batch: [WriteOperation] = [
                .put(agentID: "a", key: "k1", value: json("1")),
                .put(agentID: "a", key: "early", value: json("9")),
                .delete(agentID: "b", key: "gone"),
            ]
            let result = try await engine.commit(txnID: txn.txnID, staging: Array(batch.prefix(2)))
            #expect(result.versions == [1, 1])
            #expect(try await engine.get(agentID: "a", key: "early").value == json("9"))
            // A retry with a different batch returns the first result and applies nothing more.
            let retry = try await engine.commit(txnID: txn.txnID, staging: batch)
            #expect(retry == result)
            #expect(try await engine.get(agentID: "b", key: "gone").version == 0)
            #expect(try await engine.head().commitTS == 1)

            // Conditions sent with the commit: a mismatch applies nothing; a match commits.
            let guarded = try engine.beginTransaction()
            await #expect(throws: StatehouseError.self) {
                try await engine.commit(
                    txnID: guarded.txnID,
                    staging: [.put(agentID: "a", key: "k1", value: json("2"))],
                    conditions: [.init(agentID: "a", key: "k1", expected: .version(7))]
                )
            }
            #expect(try await engine.get(agentID: "a", key: "k1").version == 1)
            let matched = try engine.beginTransaction()
            let ok = try await engine.commit(
                txnID: matched.txnID,
                staging: [.put(agentID: "a", key: "k1", value: json("2"))],
                conditions: [
                    .init(agentID: "a", key: "k1", expected: .version(1)),
                    .init(agentID: "a", key: "never", expected: .absent),
                ]
            )
            #expect(ok.versions == [2])
        }
    }

    @Test("a commit retried after a restart returns the original result")
    func exactlyOnceAcrossRestart() async throws {
        try await withTemporaryDirectory { directory in
            let first = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            let engine = StatehouseEngine(backend: first, logger: testLogger)
            let (txnID, original) = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await engine.run() }
                defer { group.cancelAll() }
                let txn = try engine.beginTransaction()
                try engine.put(txnID: txn.txnID, agentID: "a", key: "k", value: json("1"))
                return (txn.txnID, try await engine.commit(txnID: txn.txnID))
            }
            let second = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: second) { (engine: StatehouseEngine) async throws in
                let retried = try await engine.commit(txnID: txnID)
                #expect(retried == original)
                let head = try await engine.head()
                #expect(head.commitTS == 1)
                await #expect(throws: StatehouseError.transactionNotFound("transaction nope not found")) {
                    try await engine.commit(txnID: "nope")
                }
            }
        }
    }

    @Test("transactions expire, fail with 'expired' and are reaped")
    func expiry() async throws {
        let clock = ManualClock()
        try await withTestEngine(clock: clock) { engine in
            let txn = try engine.beginTransaction(timeout: .seconds(5))
            try engine.put(txnID: txn.txnID, agentID: "a", key: "k", value: json("1"))
            clock.advance(by: .seconds(4))
            try engine.put(txnID: txn.txnID, agentID: "a", key: "k2", value: json("1"))
            clock.advance(by: .seconds(1))
            await #expect(
                throws: StatehouseError.transactionExpired("transaction \(txn.txnID) expired and was rolled back")
            ) {
                try await engine.commit(txnID: txn.txnID)
            }
            #expect(try await engine.head().commitTS == 0)

            let idle = try engine.beginTransaction(timeout: .seconds(1))
            try engine.put(txnID: idle.txnID, agentID: "a", key: "k", value: json("1"))
            #expect(engine.openTransactionCount == 1)
            clock.advance(by: .seconds(2))
            #expect(engine.reapExpiredTransactions() == [idle.txnID])
            #expect(engine.openTransactionCount == 0)
            await #expect(
                throws: StatehouseError.transactionExpired("transaction \(idle.txnID) expired and was rolled back")
            ) {
                try await engine.commit(txnID: idle.txnID)
            }
        }
    }

    @Test("transaction timeouts are bounded")
    func timeoutBounds() async throws {
        try await withTestEngine { engine in
            _ = try engine.beginTransaction(timeout: .seconds(600))
            #expect(throws: StatehouseError.self) { try engine.beginTransaction(timeout: .seconds(601)) }
            #expect(throws: StatehouseError.self) { try engine.beginTransaction(timeout: .zero) }
            _ = try engine.beginTransaction()
            #expect(engine.openTransactionCount == 2)
        }
    }

    @Test("open transactions are bounded and freed after commit or abort")
    func openTransactionLimit() async throws {
        var configuration = EngineConfiguration()
        configuration.limits.maxOpenTransactions = 3
        try await withTestEngine(configuration: configuration) { engine in
            let open = try (0..<3).map { _ in try engine.beginTransaction() }
            #expect(throws: StatehouseError.self) { try engine.beginTransaction() }
            try engine.abort(txnID: open[0].txnID)
            _ = try await engine.commit(txnID: open[1].txnID)
            _ = try engine.beginTransaction()
            _ = try engine.beginTransaction()
            #expect(engine.openTransactionCount == 3)
        }
    }

    @Test("a transaction spans many agents and one namespace; namespaces are isolated")
    func namespaces() async throws {
        try await withTestEngine { engine in
            let prod = try engine.beginTransaction(namespace: "prod")
            try engine.put(txnID: prod.txnID, agentID: "a", key: "k", value: json("1"))
            try engine.put(txnID: prod.txnID, agentID: "b", key: "k", value: json("2"))
            #expect(try await engine.commit(txnID: prod.txnID).commitTS == 1)
            #expect(try await engine.put(namespace: "staging", agent: "a", key: "k", json: "3").commitTS == 1)
            #expect(try await engine.get(namespace: "prod", agentID: "a", key: "k").value == json("1"))
            #expect(try await engine.get(namespace: "staging", agentID: "a", key: "k").value == json("3"))
            #expect(try await engine.get(namespace: "nowhere", agentID: "a", key: "k").exists == false)
            #expect(try await engine.head(namespace: "nowhere").commitTS == 0)
            #expect(try await engine.listNamespaces().items.map(\.namespace) == ["prod", "staging"])
        }
    }
}

@Suite("Transaction details", .timeLimit(.minutes(2)))
struct TransactionDetailTests {
    @Test("metadata set on an interactive transaction is stored with its event")
    func interactiveMetadata() async throws {
        try await withTestEngine { engine in
            let txn = try engine.beginTransaction()
            try engine.put(txnID: txn.txnID, agentID: "a", key: "k", value: json("1"))
            let metadata = CommitMetadata(actor: "agent-7", reason: "tool result", tags: ["tool": "search"])
            try engine.setMetadata(txnID: txn.txnID, metadata: metadata)
            let result = try await engine.commit(txnID: txn.txnID)
            let event = try #require(try await engine.allEvents().first)
            #expect(event.metadata == metadata)
            #expect(event.hash == result.hash)
        }
    }

    @Test("a transaction that only reads commits without writing an event, and still detects conflicts")
    func readOnlyTransactions() async throws {
        try await withTestEngine { engine in
            try await engine.put(agent: "a", key: "k", json: "1")
            let clean = try engine.beginTransaction()
            _ = try await engine.get(txnID: clean.txnID, agentID: "a", key: "k")
            let result = try await engine.commit(txnID: clean.txnID)
            #expect(result.commitTS == 1 && result.versions.isEmpty)
            #expect(try await engine.head().commitTS == 1)

            let stale = try engine.beginTransaction()
            _ = try await engine.get(txnID: stale.txnID, agentID: "a", key: "k")
            try await engine.put(agent: "a", key: "k", json: "2")
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "k", expected: 1, actual: 2)) {
                try await engine.commit(txnID: stale.txnID)
            }
        }
    }

    @Test("writes to a committed, aborted or unknown transaction fail with the precise reason")
    func writesAfterTheEnd() async throws {
        try await withTestEngine { engine in
            let committed = try engine.beginTransaction()
            _ = try await engine.commit(txnID: committed.txnID)
            #expect(throws: StatehouseError.transactionNotFound("transaction \(committed.txnID) is already committed"))
            {
                try engine.put(txnID: committed.txnID, agentID: "a", key: "k", value: json("1"))
            }
            #expect(throws: StatehouseError.transactionNotFound("transaction nope not found")) {
                try engine.delete(txnID: "nope", agentID: "a", key: "k")
            }
            #expect(throws: StatehouseError.transactionNotFound("transaction nope not found")) {
                try engine.abort(txnID: "nope")
            }
            #expect(try await engine.head().commitTS == 0)
        }
    }

    @Test("concurrent read-modify-write transactions on one key lose no update")
    func concurrentReadModifyWrite() async throws {
        try await withTestEngine(.file) { engine in
            try await engine.put(agent: "a", key: "counter", json: "0")
            let succeeded = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var wins = 0
                        for _ in 0..<25 {
                            let txn = try engine.beginTransaction()
                            let current = try await engine.get(txnID: txn.txnID, agentID: "a", key: "counter")
                            let next = Int(current.value!.text)! + 1
                            try engine.put(txnID: txn.txnID, agentID: "a", key: "counter", value: json("\(next)"))
                            do {
                                _ = try await engine.commit(txnID: txn.txnID)
                                wins += 1
                            } catch StatehouseError.conflict {
                                continue
                            }
                        }
                        return wins
                    }
                }
                return try await group.reduce(0, +)
            }
            // No lost update: the counter equals the number of successful increments.
            let counter = try await engine.get(agentID: "a", key: "counter")
            #expect(counter.value == json("\(succeeded)"))
            #expect(counter.version == Version(succeeded + 1))
            #expect(succeeded >= 1)
        }
    }
}
