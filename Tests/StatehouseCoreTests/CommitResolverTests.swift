import Foundation
import Synchronization
import Testing

@testable import StatehouseCore

/// A stored state for the resolver, as a backend's write transaction would present it.
struct FakeStore: CommitStateReader {
    var heads: [String: LogHead] = [:]
    var versions: [String: KeyVersionState] = [:]
    var committed: [String: CommitResult] = [:]

    func head(namespace: String) throws -> LogHead { self.heads[namespace] ?? .empty(namespace) }
    func latestVersion(namespace: String, agentID: String, key: String) throws -> KeyVersionState? {
        self.versions["\(namespace)/\(agentID)/\(key)"]
    }
    var lastCommits: [String: CommitTS] = [:]
    func lastCommitTS(namespace: String, agentID: String) throws -> CommitTS {
        self.lastCommits["\(namespace)/\(agentID)"] ?? 0
    }
    func committedResult(txnID: String) throws -> CommitResult? { self.committed[txnID] }
    func idempotentCommit(namespace: String, idempotencyKey: String) throws -> (digest: [UInt8], result: CommitResult)?
    {
        nil
    }
}

@Suite("Commit resolver")
struct CommitResolverTests {
    static func put(_ key: String, _ value: String = "1") -> WriteOperation {
        .put(agentID: "a", key: key, value: try! JSONValue(validating: value))
    }

    @Test("transactions of one batch see each other's writes; a conflicting one fails alone")
    func batchSemantics() throws {
        let batch = [
            CommitRequest(
                namespace: "n", txnID: "t1", operations: [Self.put("k")],
                conditions: [.init(agentID: "a", key: "k", requirement: .expected(.absent))]),
            CommitRequest(
                namespace: "n", txnID: "t2", operations: [Self.put("k")],
                conditions: [.init(agentID: "a", key: "k", requirement: .expected(.absent))]),
            CommitRequest(
                namespace: "n", txnID: "t3", operations: [Self.put("k")],
                conditions: [.init(agentID: "a", key: "k", requirement: .expected(.version(1)))]),
            CommitRequest(namespace: "m", txnID: "t4", operations: [Self.put("k")]),
            CommitRequest(namespace: "n", txnID: "t1", operations: [Self.put("k")]),
        ]
        let resolution = try CommitResolver.resolve(batch, reader: FakeStore(), now: 100)
        let commitTSs = resolution.results.map { try? $0.get().commitTS }
        #expect(commitTSs == [1, nil, 2, 1, 1])
        #expect(resolution.results[1] == .failure(.conflict(agentID: "a", key: "k", expected: nil, actual: 1)))
        #expect(try resolution.results[2].get().versions == [2])
        #expect(resolution.events.map(\.txnID) == ["t1", "t3", "t4"])
        #expect(resolution.eventRequestIndices == [0, 2, 3])
        #expect(resolution.events[1].prevHash == resolution.events[0].hash)
        #expect(resolution.heads["n"]?.commitTS == 2 && resolution.heads["m"]?.commitTS == 1)
    }

    @Test(
        "a scope condition fails when its agent (or namespace) was written after its commit_ts, in storage or earlier in the batch"
    )
    func scopeConditions() throws {
        var store = FakeStore()
        store.heads["n"] = LogHead(namespace: "n", commitTS: 4, hash: HashChain.genesisHash, committedAt: 1)
        store.lastCommits["n/a"] = 3
        let batch = [
            CommitRequest(
                namespace: "n", txnID: "t1", operations: [], scopeConditions: [.init(agentID: "a", unchangedSince: 3)]),
            CommitRequest(
                namespace: "n", txnID: "t2", operations: [], scopeConditions: [.init(agentID: "a", unchangedSince: 2)]),
            CommitRequest(
                namespace: "n", txnID: "t3", operations: [], scopeConditions: [.init(agentID: nil, unchangedSince: 4)]),
            CommitRequest(namespace: "n", txnID: "t4", operations: [Self.put("k")]),
            CommitRequest(
                namespace: "n", txnID: "t5", operations: [], scopeConditions: [.init(agentID: "a", unchangedSince: 4)]),
            CommitRequest(
                namespace: "n", txnID: "t6", operations: [], scopeConditions: [.init(agentID: nil, unchangedSince: 4)]),
            CommitRequest(
                namespace: "n", txnID: "t7", operations: [], scopeConditions: [.init(agentID: "b", unchangedSince: 0)]),
        ]
        let resolution = try CommitResolver.resolve(batch, reader: store, now: 10)
        let ok = resolution.results.map { (try? $0.get()) != nil }
        #expect(ok == [true, false, true, true, false, false, true])
        #expect(resolution.results[1] == .failure(.conflict(agentID: "a", key: "", expected: 2, actual: 3)))
        #expect(resolution.results[5] == .failure(.conflict(agentID: "", key: "", expected: 4, actual: 5)))
        #expect(
            "\(StatehouseError.conflict(agentID: "a", key: "", expected: 2, actual: 3))"
                == "conflict on agent 'a': written at commit_ts 3, after the state read at commit_ts 2; re-read and retry"
        )
    }

    @Test("a transaction id that already committed returns its stored result and writes nothing")
    func exactlyOnce() throws {
        let stored = CommitResult(namespace: "n", txnID: "t1", commitTS: 7, committedAt: 1, versions: [3], hash: .zero)
        var store = FakeStore()
        store.committed["t1"] = stored
        let resolution = try CommitResolver.resolve(
            [CommitRequest(namespace: "n", txnID: "t1", operations: [Self.put("k")])],
            reader: store,
            now: 5
        )
        #expect(resolution.results == [.success(stored)])
        #expect(resolution.events.isEmpty)
    }

    @Test("committed_at never goes below the previous commit's")
    func committedAtMonotonic() throws {
        var store = FakeStore()
        store.heads["n"] = LogHead(namespace: "n", commitTS: 4, hash: HashChain.genesisHash, committedAt: 1_000)
        let resolution = try CommitResolver.resolve(
            [CommitRequest(namespace: "n", txnID: "t", operations: [Self.put("k")])],
            reader: store,
            now: 10
        )
        #expect(resolution.events[0].committedAt == 1_000)
        #expect(resolution.events[0].commitTS == 5)
    }
}

@Suite("Transaction table")
struct TransactionTableTests {
    @Test("staging replaces a key's earlier write and counts bytes; deadlines expire")
    func stateMachine() throws {
        var limits = EngineLimits()
        limits.maxTransactionBytes = 10
        var state = TransactionTable.State(limits: limits, finishedMemory: 2)
        try state.begin(id: "t", namespace: "n", owner: nil, timeout: .seconds(1), now: 0)
        try state.stage(.put(agentID: "a", key: "k", value: try JSONValue(validating: "1234")), in: "t", now: 1)
        try state.stage(.put(agentID: "a", key: "k", value: try JSONValue(validating: "12345678")), in: "t", now: 2)
        #expect(throws: StatehouseError.self) {
            try state.stage(
                .put(agentID: "a", key: "k", value: try JSONValue(validating: "123456789")), in: "t", now: 3)
        }
        #expect(state.open["t"]?.operations.count == 1)
        #expect(throws: StatehouseError.transactionExpired("transaction t expired and was rolled back")) {
            try state.stage(.delete(agentID: "a", key: "x"), in: "t", now: 1_000_000_000)
        }
        #expect(state.open.isEmpty)
    }

    @Test("finished transactions are remembered within a bound")
    func finishedMemory() throws {
        var state = TransactionTable.State(limits: EngineLimits(), finishedMemory: 2)
        for id in ["a", "b", "c"] {
            try state.begin(id: id, namespace: "n", owner: nil, timeout: .seconds(1), now: 0)
            try state.abort(id, now: 0)
        }
        #expect(state.finished.count == 2)
        #expect(state.notOpenError("a") == .transactionNotFound("transaction a not found"))
        #expect(state.notOpenError("c") == .transactionNotFound("transaction c was aborted"))
    }
}

@Suite("Cursors and encodings")
struct EncodingTests {
    @Test("base64url round-trips and refuses non-canonical text", arguments: [0, 1, 2, 3, 4, 5, 17, 64])
    func base64(_ count: Int) throws {
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
        let text = Base64URL.encode(bytes)
        #expect(Base64URL.decode(text) == bytes)
        #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
    }

    @Test("cursors are bound to their query and kind")
    func cursors() throws {
        let cursor = PageCursor.encodeString(kind: .keys, query: ["n", "a"], position: "k7")
        #expect(try PageCursor.decodeString(cursor, kind: .keys, query: ["n", "a"]) == "k7")
        #expect(throws: StatehouseError.self) { try PageCursor.decodeString(cursor, kind: .scan, query: ["n", "a"]) }
        #expect(throws: StatehouseError.self) { try PageCursor.decodeString(cursor, kind: .keys, query: ["n", "b"]) }
        #expect(throws: StatehouseError.self) {
            try PageCursor.decodeString(cursor + "A", kind: .keys, query: ["n", "a"])
        }
    }

    @Test("metadata encodes canonically (tags sorted) and decodes back")
    func metadata() throws {
        let metadata = CommitMetadata(actor: "x", reason: nil, tags: ["b": "2", "a": "1", "é": ""])
        var first: [UInt8] = []
        CanonicalEncoding.appendMetadata(metadata, to: &first)
        var second: [UInt8] = []
        CanonicalEncoding.appendMetadata(CommitMetadata(actor: "x", tags: ["é": "", "a": "1", "b": "2"]), to: &second)
        #expect(first == second)
        #expect(CanonicalEncoding.decodeMetadata(first) == metadata)
        #expect(CanonicalEncoding.decodeMetadata(Array(first.dropLast())) == nil)
    }

    @Test("event hashes round-trip through their 32 bytes")
    func eventHash() throws {
        let bytes = (0..<32).map { UInt8($0 * 7 + 1) }
        let hash = try #require(EventHash(bytes: bytes))
        #expect(hash.bytes == bytes)
        #expect(hash.hex == HashChain.hex(bytes))
        #expect(EventHash(bytes: bytes.dropLast()) == nil)
        #expect(EventHash.zero.bytes == [UInt8](repeating: 0, count: 32))
        #expect(bytes.withUnsafeBytes { EventHash(unsafeBytes: $0.baseAddress!) } == hash)
    }

    @Test("transaction ids are time-ordered UUIDs")
    func transactionIDs() {
        let early = TransactionID.make(wallMicroseconds: 1_000_000_000)
        let late = TransactionID.make(wallMicroseconds: 2_000_000_000)
        #expect(early < late)
        #expect(early.count == 36 && Array(early)[14] == "7")
        // Ids made in the same millisecond from several threads at once (the random words come from one pool, refilled
        // 512 words at a time): all well-formed, no two alike, and their random bits not all the same.
        let ids = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let made = (0..<2_000).map { _ in TransactionID.make(wallMicroseconds: 3_000_000_000) }
            ids.withLock { $0 += made }
        }
        let all = ids.withLock { $0 }
        #expect(all.allSatisfy(TransactionID.isWellFormed))
        #expect(Set(all).count == all.count)
        #expect(Set(all.map { $0.suffix(12) }).count == all.count)
    }
}
