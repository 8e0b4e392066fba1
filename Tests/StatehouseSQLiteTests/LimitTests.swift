import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

/// Every limit of docs/architecture.md at its boundary: the limit passes, one more fails and changes nothing.
@Suite("Limits at the boundary", .timeLimit(.minutes(2)))
struct LimitTests {
    static func string(_ count: Int, _ character: Character = "x") -> String {
        String(repeating: character, count: count)
    }

    /// A JSON string value of exactly `bytes` bytes.
    static func jsonString(bytes: Int) -> JSONValue { json("\"" + Self.string(bytes - 2) + "\"") }

    /// Runs `body`, which must fail with invalidArgument, and checks the store did not change.
    static func expectRejected(
        _ engine: StatehouseEngine,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async throws {
        let before = try await engine.head()
        let eventsBefore = try await engine.allEvents()
        do {
            try await body()
            Issue.record("expected invalidArgument", sourceLocation: sourceLocation)
        } catch let error as StatehouseError {
            guard case .invalidArgument(let message) = error else {
                Issue.record("expected invalidArgument, got \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(!message.isEmpty, sourceLocation: sourceLocation)
        }
        #expect(try await engine.head() == before, sourceLocation: sourceLocation)
        #expect(try await engine.allEvents() == eventsBefore, sourceLocation: sourceLocation)
    }

    @Test("value: 1 MiB passes, 1 MiB + 1 byte fails")
    func valueSize() async throws {
        try await withTestEngine { engine in
            let limit = 1 << 20
            _ = try await engine.commit(
                AtomicCommit(operations: [.put(agentID: "a", key: "k", value: Self.jsonString(bytes: limit))]))
            try await Self.expectRejected(engine) {
                _ = try await engine.commit(
                    AtomicCommit(operations: [.put(agentID: "a", key: "k", value: Self.jsonString(bytes: limit + 1))])
                )
            }
            let txn = try engine.beginTransaction()
            try await Self.expectRejected(engine) {
                try engine.put(txnID: txn.txnID, agentID: "a", key: "k", value: Self.jsonString(bytes: limit + 1))
            }
            #expect(try await engine.get(agentID: "a", key: "k").value?.utf8.count == limit)
        }
    }

    @Test("key: 1024 bytes pass, 1025 fail; agent_id: 256 pass, 257 fail; namespace: 128 pass, 129 fail")
    func nameLengths() async throws {
        try await withTestEngine { engine in
            try await engine.put(agent: "a", key: Self.string(1024), json: "1")
            try await engine.put(agent: "a", key: Self.string(1022) + "é", json: "1")  // 1024 bytes, 1023 characters
            try await Self.expectRejected(engine) {
                try await engine.put(agent: "a", key: Self.string(1025), json: "1")
            }
            try await Self.expectRejected(engine) {
                try await engine.put(agent: "a", key: Self.string(1023) + "é", json: "1")
            }
            try await engine.put(agent: Self.string(256), key: "k", json: "1")
            try await Self.expectRejected(engine) { try await engine.put(agent: Self.string(257), key: "k", json: "1") }
            let namespace = Self.string(128, "n")
            try await engine.put(namespace: namespace, agent: "a", key: "k", json: "1")
            await #expect(throws: StatehouseError.self) {
                try await engine.put(namespace: Self.string(129, "n"), agent: "a", key: "k", json: "1")
            }
            #expect(try await engine.head(namespace: namespace).commitTS == 1)
        }
    }

    @Test(
        "names must be non-empty, without control characters; namespaces use [A-Za-z0-9._-]",
        arguments: [
            ("default", "", "k"), ("default", "a", ""), ("default", "a\u{0}b", "k"), ("default", "a", "k\u{1F}"),
            ("default", "a", "k\u{7F}"), ("default", "a\n", "k"), ("", "a", "k"), ("pro d", "a", "k"),
            ("prod/x", "a", "k"), ("prød", "a", "k"),
        ]
    )
    func badNames(_ namespace: String, _ agent: String, _ key: String) async throws {
        try await withTestEngine { engine in
            try await Self.expectRejected(engine) {
                try await engine.put(namespace: namespace, agent: agent, key: key, json: "1")
            }
            await #expect(throws: StatehouseError.self) {
                _ = try await engine.get(namespace: namespace, agentID: agent, key: key)
            }
        }
    }

    @Test("operations: 10,000 pass, 10,001 fail (one-shot and interactive)")
    func operationCount() async throws {
        try await withTestEngine { engine in
            let limit = 10_000
            let operations = (0..<limit).map { WriteOperation.put(agentID: "a", key: "k\($0)", value: json("1")) }
            #expect(try await engine.commit(AtomicCommit(operations: operations)).versions.count == limit)
            try await Self.expectRejected(engine) {
                _ = try await engine.commit(
                    AtomicCommit(operations: operations + [.put(agentID: "a", key: "extra", value: json("1"))])
                )
            }
            // The longest timeout: this is about the operation limit, and on a loaded machine (PostgreSQL, a debug
            // build, every suite at once) the 10,000-write commits before this one have taken over 30 s.
            let txn = try engine.beginTransaction(timeout: .seconds(600))
            for index in 0..<limit {
                try engine.put(txnID: txn.txnID, agentID: "b", key: "k\(index)", value: json("1"))
            }
            try engine.put(txnID: txn.txnID, agentID: "b", key: "k0", value: json("2"))  // replacing is not a new op
            try await Self.expectRejected(engine) {
                try engine.put(txnID: txn.txnID, agentID: "b", key: "extra", value: json("1"))
            }
            #expect(try await engine.commit(txnID: txn.txnID).versions.count == limit)
        }
    }

    @Test("transaction bytes: 16 MiB pass, 16 MiB + 1 fail")
    func transactionBytes() async throws {
        try await withTestEngine { engine in
            // 16 operations of agent "a" (1 byte) + key "kNN" (3 bytes) + value: exactly 16 MiB in all.
            let valueBytes = (1 << 20) - 4
            let operations = (10..<26).map {
                WriteOperation.put(agentID: "a", key: "k\($0)", value: Self.jsonString(bytes: valueBytes))
            }
            _ = try await engine.commit(AtomicCommit(operations: operations))
            var over = operations
            over[0].value = Self.jsonString(bytes: valueBytes + 1)
            try await Self.expectRejected(engine) { _ = try await engine.commit(AtomicCommit(operations: over)) }
        }
    }

    @Test("open transactions: 10,000 pass, 10,001 fail with resourceExhausted")
    func openTransactions() async throws {
        try await withTestEngine { engine in
            let open = try (0..<10_000).map { _ in try engine.beginTransaction() }
            #expect(
                throws: StatehouseError.resourceExhausted(
                    "too many open transactions (limit 10000); commit or abort some"
                )
            ) { try engine.beginTransaction() }
            for txn in open.prefix(10) { try engine.abort(txnID: txn.txnID) }
            _ = try engine.beginTransaction()
            #expect(engine.openTransactionCount == 9_991)
        }
    }

    @Test("JSON nesting: 512 levels pass, 513 fail")
    func jsonDepth() async throws {
        #expect(throws: Never.self) { try JSONValue(validating: Self.string(512, "[") + Self.string(512, "]")) }
        #expect(throws: StatehouseError.self) {
            try JSONValue(validating: Self.string(513, "[") + Self.string(513, "]"))
        }
    }

    @Test("watchers: 10,000 pass, 10,001 fail, and slots are freed")
    func watcherLimit() async throws {
        try await withTestEngine { engine in
            var subscriptions: [WatchSubscription] = []
            for _ in 0..<10_000 { subscriptions.append(try await engine.watch(from: 1)) }
            await #expect(throws: StatehouseError.self) { _ = try await engine.watch(from: 1) }
            subscriptions.removeLast(100)
            #expect(engine.watcherCount == 9_900)
            _ = try await engine.watch(from: 1)
            subscriptions.removeAll()
            #expect(engine.watcherCount == 0)
        }
    }

    @Test("duplicate keys, version 0 and bad metadata are refused")
    func malformedCommits() async throws {
        try await withTestEngine { engine in
            try await Self.expectRejected(engine) {
                _ = try await engine.commit(
                    AtomicCommit(operations: [
                        .put(agentID: "a", key: "k", value: json("1")), .delete(agentID: "a", key: "k"),
                    ]))
            }
            try await Self.expectRejected(engine) {
                try await engine.put(agent: "a", key: "k", json: "1", expecting: .version(0))
            }
            try await Self.expectRejected(engine) {
                _ = try await engine.commit(
                    AtomicCommit(
                        operations: [.put(agentID: "a", key: "k", value: json("1"))],
                        metadata: CommitMetadata(tags: ["": "x"])
                    ))
            }
            try await Self.expectRejected(engine) {
                _ = try await engine.commit(
                    AtomicCommit(
                        operations: [.put(agentID: "a", key: "k", value: json("1"))],
                        idempotencyKey: ""
                    ))
            }
            try await Self.expectRejected(engine) {
                _ = try await engine.readLog(LogFilter(fromCommitTS: 5, toCommitTS: 2))
            }
            await #expect(throws: StatehouseError.self) { _ = try await engine.listKeys(agentID: "a", limit: 0) }
            await #expect(throws: StatehouseError.self) { _ = try await engine.listKeys(agentID: "a", limit: 10_001) }
        }
    }
}
