import CSQLite
import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

/// Runs SQL directly against a stopped store's database file, as an attacker or a broken disk would.
func tamper(directory: String, _ sql: String) throws {
    var db: OpaquePointer?
    guard sqlite3_open(directory + "/statehouse.db", &db) == SQLITE_OK else {
        throw StatehouseError.internalError("open")
    }
    defer { sqlite3_close(db) }
    var message: UnsafeMutablePointer<CChar>?
    guard sqlite3_exec(db, sql, nil, nil, &message) == SQLITE_OK else {
        let text = message.map { String(cString: $0) } ?? "?"
        sqlite3_free(message)
        throw StatehouseError.internalError(text)
    }
    #expect(sqlite3_changes(db) > 0, "tampering SQL changed nothing: \(sql)")
}

@Suite("Log, hash chain and verification", .timeLimit(.minutes(2)))
struct LogAndVerifyTests {
    @Test(
        "the log carries every field and filters by agent, key prefix, commit_ts and time",
        arguments: StoreKind.allCases)
    func logFilters(_ kind: StoreKind) async throws {
        let clock = ManualClock(wall: 10_000_000)
        try await withTestEngine(kind, clock: clock) { engine in
            let metadata = CommitMetadata(actor: "planner", reason: "initial plan", tags: ["run": "7", "env": "test"])
            let first = try await engine.commit(
                AtomicCommit(
                    operations: [
                        .put(agentID: "planner", key: "plan/1", value: json(#"{"step":1}"#)),
                        .put(agentID: "worker", key: "task/1", value: json("\"queued\"")),
                    ],
                    metadata: metadata
                ))
            clock.advance(by: .seconds(10))
            _ = try await engine.commit(AtomicCommit(operations: [.delete(agentID: "planner", key: "plan/1")]))
            clock.advance(by: .seconds(10))
            try await engine.put(agent: "worker", key: "memory/x", json: "1")

            let events = try await engine.allEvents()
            #expect(events.map(\.commitTS) == [1, 2, 3])
            #expect(events[0].txnID == first.txnID)
            #expect(events[0].metadata == metadata)
            #expect(events[0].committedAt == 10_000_000)
            #expect(events[0].prevHash == HashChain.genesisHash)
            #expect(events[1].prevHash == events[0].hash)
            #expect(events[0].hash == first.hash)
            #expect(
                events[0].operations == [
                    AppliedOperation(
                        agentID: "planner", key: "plan/1", kind: .put, value: json(#"{"step":1}"#), version: 1),
                    AppliedOperation(
                        agentID: "worker", key: "task/1", kind: .put, value: json("\"queued\""), version: 1),
                ])
            #expect(
                events[1].operations == [
                    AppliedOperation(agentID: "planner", key: "plan/1", kind: .delete, value: nil, version: 2)
                ])

            let plannerPage = try await engine.readLog(LogFilter(agentID: "planner"))
            #expect(plannerPage.nextCursor == nil)  // a short page is the last one
            let firstPage = try await engine.readLog(LogFilter(), limit: 2)
            #expect(firstPage.items.map(\.commitTS) == [1, 2])
            let secondPage = try await engine.readLog(LogFilter(), limit: 2, cursor: firstPage.nextCursor)
            #expect(secondPage.items.map(\.commitTS) == [3] && secondPage.nextCursor == nil)
            let planner = plannerPage.items
            #expect(planner.map(\.commitTS) == [1, 2])
            #expect(planner[0].operations.map(\.key) == ["plan/1"])
            let worker = try await engine.readLog(LogFilter(agentID: "worker", keyPrefix: "memory/")).items
            #expect(worker.map(\.commitTS) == [3])
            #expect(try await engine.readLog(LogFilter(keyPrefix: "task/")).items.map(\.commitTS) == [1])
            #expect(
                try await engine.readLog(LogFilter(fromCommitTS: 2, toCommitTS: 3)).items.map(\.commitTS) == [2, 3])
            #expect(try await engine.readLog(LogFilter(since: 10_000_001)).items.map(\.commitTS) == [2, 3])
            #expect(
                try await engine.readLog(LogFilter(since: 20_000_000, until: 20_000_000)).items.map(\.commitTS) == [2])
            #expect(try await engine.readLog(LogFilter(until: 9_999_999)).items.isEmpty)
            #expect(try await engine.readLog(LogFilter(namespace: "empty")).items.isEmpty)
        }
    }

    @Test("the hash chain follows the documented canonical encoding")
    func documentedHash() async throws {
        try await withTestEngine(clock: ManualClock(wall: 1_700_000_000_000_000)) { engine in
            let result = try await engine.put(agent: "a", key: "k", json: "1")
            let content = handEncodedFirstPut(txnID: result.txnID, committedAt: 1_700_000_000_000_000)
            let expected = try sha256(content)
            #expect(result.hash.bytes == expected)
        }
    }

    @Test("verify passes on an untouched log", arguments: StoreKind.allCases)
    func verifiesCleanLog(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            // A namespace without commits has nothing to verify: saying "ok" would let a mistyped name pass.
            await #expect(
                throws: StatehouseError.notFound("namespace 'default' has no commits: there is nothing to verify")
            ) {
                try await engine.verify()
            }
            for index in 0..<25 { try await engine.put(agent: "a", key: "k\(index % 4)", json: "\(index)") }
            let report = try await engine.verify()
            #expect(report.isValid && report.eventsChecked == 25 && report.head.commitTS == 25)
            let partial = try await engine.verify(from: 10, to: 12)
            #expect(partial.isValid && partial.eventsChecked == 3)
        }
    }

    @Test(
        "verify names the first commit_ts whose stored bytes were changed",
        arguments: [
            ("a value byte", "UPDATE versions SET value = CAST('\"x\"' AS BLOB) WHERE commit_ts = 4", CommitTS(4)),
            ("a key", "UPDATE versions SET key = 'k9' WHERE commit_ts = 3", CommitTS(3)),
            ("a version", "UPDATE versions SET version = version + 10 WHERE commit_ts = 6", CommitTS(6)),
            ("a tombstone flag", "UPDATE versions SET deleted = 1, value = NULL WHERE commit_ts = 2", CommitTS(2)),
            ("committed_at", "UPDATE events SET committed_at = committed_at + 1 WHERE commit_ts = 5", CommitTS(5)),
            ("a txn id", "UPDATE events SET txn_id = 'forged' WHERE commit_ts = 7", CommitTS(7)),
            ("a stored hash", "UPDATE events SET hash = zeroblob(32) WHERE commit_ts = 8", CommitTS(8)),
            ("a truncated hash", "UPDATE events SET prev_hash = X'00' WHERE commit_ts = 6", CommitTS(6)),
            ("a removed event", "DELETE FROM events WHERE commit_ts = 5", CommitTS(5)),
            ("the last event", "DELETE FROM events WHERE commit_ts = 10", CommitTS(10)),
            ("metadata", "UPDATE events SET metadata = X'00' WHERE commit_ts = 9", CommitTS(9)),
            (
                "two swapped events",
                "UPDATE events SET commit_ts = 0 WHERE commit_ts = 3; UPDATE events SET commit_ts = 3 WHERE commit_ts = 4; "
                    + "UPDATE events SET commit_ts = 4 WHERE commit_ts = 0",
                CommitTS(3)
            ),
        ]
    )
    func tamperDetected(_ what: String, _ sql: String, _ firstBad: CommitTS) async throws {
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: backend) { engine in
                for index in 1...10 {
                    _ = try await engine.commit(
                        AtomicCommit(
                            operations: [.put(agentID: "a", key: "k\(index % 3)", value: json("\(index)"))],
                            metadata: CommitMetadata(actor: "tester")
                        ))
                }
                #expect(try await engine.verify().isValid)
            }
            try tamper(directory: directory, sql)
            let reopened = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: reopened) { (engine: StatehouseEngine) async throws in
                let report = try await engine.verify()
                #expect(report.firstBadCommitTS == firstBad, "\(what): \(report.reason ?? "verified")")
                #expect(report.reason != nil)
            }
        }
    }

    @Test(
        "a page read as two halves at once equals the same events read in pages too small to split",
        arguments: StoreKind.allCases)
    func splitPages(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            try await Self.commitOneWriteEvents(engine, count: 2_300, valueBytes: 40)
            let (split, splitPages) = try await Self.readLog(engine, pageSize: 1_000)
            let (whole, _) = try await Self.readLog(engine, pageSize: 100)
            #expect(splitPages == [1_000, 1_000, 300])
            #expect(split == whole)
            #expect(split.map(\.commitTS) == Array(1...2_300))
            // A bounded range, and pages where the log ends in the second half and already in the first.
            let ranged = try await engine.readLog(LogFilter(fromCommitTS: 101, toCommitTS: 1_200), limit: 1_000)
            #expect(ranged.items == Array(whole[100..<1_100]) && ranged.nextCursor != nil)
            let endInSecond = try await engine.readLog(LogFilter(fromCommitTS: 1_701), limit: 1_000)
            #expect(endInSecond.items == Array(whole[1_700...]) && endInSecond.nextCursor == nil)
            let endInFirst = try await engine.readLog(LogFilter(fromCommitTS: 2_001), limit: 1_000)
            #expect(endInFirst.items == Array(whole[2_000...]) && endInFirst.nextCursor == nil)
        }
    }

    @Test(
        "a split page keeps the byte bound wherever it falls: in the second half or already in the first",
        arguments: [12 << 10, 20 << 10])
    func splitPagesByteBound(valueBytes: Int) async throws {
        try await withTestEngine { engine in
            try await Self.commitOneWriteEvents(engine, count: 1_100, valueBytes: valueBytes)
            let (split, splitPages) = try await Self.readLog(engine, pageSize: 1_000)
            let (whole, _) = try await Self.readLog(engine, pageSize: 100)
            #expect(split == whole)
            // The page ends with the event whose value reaches 8 MiB (EventQuery.maxBytes).
            let perPage = (8 << 20 + valueBytes - 1) / valueBytes
            #expect(splitPages.first == perPage)
            #expect(splitPages.reduce(0, +) == 1_100)
        }
    }

    private static func commitOneWriteEvents(_ engine: StatehouseEngine, count: Int, valueBytes: Int) async throws {
        let value = try JSONValue(validating: "\"" + String(repeating: "v", count: valueBytes - 2) + "\"")
        for start in stride(from: 0, to: count, by: 100) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in start..<min(start + 100, count) {
                    group.addTask {
                        _ = try await engine.commit(
                            AtomicCommit(operations: [.put(agentID: "a\(index % 7)", key: "k\(index)", value: value)]))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// The whole log in pages of `pageSize`, and how many events each page held.
    private static func readLog(_ engine: StatehouseEngine, pageSize: Int) async throws -> ([Event], [Int]) {
        var events: [Event] = []
        var sizes: [Int] = []
        var cursor: String?
        repeat {
            let page = try await engine.readLog(LogFilter(), limit: pageSize, cursor: cursor)
            events += page.items
            sizes.append(page.items.count)
            cursor = page.nextCursor
        } while cursor != nil
        return (events, sizes)
    }
}
