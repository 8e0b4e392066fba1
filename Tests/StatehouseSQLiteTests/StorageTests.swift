import CSQLite
import Foundation
import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

@Suite("SQLite storage: files, locking, migrations", .timeLimit(.minutes(2)))
struct StorageTests {
    /// Reads one integer with a raw connection (the store must be closed or in WAL mode).
    static func scalar(_ directory: String, _ sql: String) throws -> Int64 {
        var db: OpaquePointer?
        guard sqlite3_open(directory + "/statehouse.db", &db) == SQLITE_OK else {
            throw StatehouseError.internalError("open")
        }
        defer { sqlite3_close(db) }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw StatehouseError.internalError(String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else { throw StatehouseError.internalError("no row") }
        return sqlite3_column_int64(statement, 0)
    }

    static func openError(_ configuration: SQLiteConfiguration) async -> StatehouseError? {
        do {
            let backend = try await SQLiteBackend.open(configuration: configuration, logger: testLogger)
            await backend.close()
            return nil
        } catch let error as StatehouseError {
            return error
        } catch {
            return .internalError("\(error)")
        }
    }

    @Test("state, heads and the chain survive a restart, and commit_ts continues gap-free")
    func persistence() async throws {
        try await withTemporaryDirectory { directory in
            let first = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: first) { engine in
                for index in 1...5 { try await engine.put(agent: "a", key: "k", json: "\(index)") }
                try await engine.put(namespace: "other", agent: "a", key: "k", json: "1")
            }
            let second = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: second) { (engine: StatehouseEngine) async throws in
                #expect(try await engine.get(agentID: "a", key: "k").value == json("5"))
                #expect(try await engine.put(agent: "a", key: "k", json: "6").commitTS == 6)
                #expect(try await engine.put(namespace: "other", agent: "a", key: "k", json: "2").commitTS == 2)
                #expect(try await engine.verify().isValid)
                #expect(try await engine.verify(namespace: "other").isValid)
            }
        }
    }

    @Test("a second opener of a data directory fails with a clear message")
    func directoryLock() async throws {
        try await withTemporaryDirectory { directory in
            let first = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            let error = await Self.openError(.directory(directory))
            #expect(
                error
                    == .unavailable(
                        "data directory \(directory) is locked by another Statehouse process (pid \(getpid()))"
                    ))
            await first.close()
            #expect(await Self.openError(.directory(directory)) == nil)
        }
    }

    @Test("migrations are recorded in the database and applied once; WAL mode is on")
    func migrations() async throws {
        try await withTemporaryDirectory { directory in
            for _ in 0..<2 {
                let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
                await backend.close()
            }
            #expect(try Self.scalar(directory, "SELECT COUNT(*) FROM schema_migrations") == 6)
            #expect(try Self.scalar(directory, "SELECT MAX(version) FROM schema_migrations") == 6)
            #expect(try Self.scalar(directory, "SELECT journal_mode = 'wal' FROM pragma_journal_mode") == 1)
        }
    }

    @Test("a database from a newer build is refused")
    func newerSchemaRefused() async throws {
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            await backend.close()
            try tamper(directory: directory, "INSERT INTO schema_migrations(version, applied_at) VALUES (99, 0)")
            let error = await Self.openError(.directory(directory))
            #expect(
                error
                    == .unavailable(
                        "the database has schema version 99, newer than this build supports (6); upgrade Statehouse"
                    ))
        }
    }

    @Test("a file that is not a database is refused at open")
    func corruptFileRefused() async throws {
        try await withTemporaryDirectory { directory in
            let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 * 31) })
            try garbage.write(to: URL(fileURLWithPath: directory + "/statehouse.db"))
            let error = await Self.openError(.directory(directory))
            #expect(
                error
                    == .unavailable(
                        "the database file in the data directory is corrupt or not a Statehouse database; "
                            + "restore it from a backup (docs/operations.md, \"Recovery\")"
                    ))
            // The lock was released: a later open (after repair) is not blocked by the failed one.
            try FileManager.default.removeItem(atPath: directory + "/statehouse.db")
            #expect(await Self.openError(.directory(directory)) == nil)
        }
    }

    @Test(
        "a database with damaged pages is refused at open, unless the startup check is off; reads then fail as data loss"
    )
    func damagedPagesRefused() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: store) { engine in
                for batch in 0..<30 {
                    let operations: [WriteOperation] = (0..<20).map { index in
                        .put(
                            agentID: "a", key: "k\(batch * 20 + index)",
                            value: json("\"\(String(repeating: "x", count: 2000))\""))
                    }
                    _ = try await engine.commit(AtomicCommit(operations: operations))
                }
            }
            // Overwrite three pages in the middle of the file, as a failing disk or a stray write would.
            let path = directory + "/statehouse.db"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let start = bytes.count * 6 / 10
            for offset in stride(from: start, to: start + 3 * 4096, by: 7) { bytes[offset] ^= 0x5A }
            try bytes.write(to: URL(fileURLWithPath: path))

            let error = await Self.openError(.directory(directory))
            guard case .unavailable(let message) = error else {
                Issue.record("expected a refusal, got \(String(describing: error))")
                return
            }
            #expect(message.contains("corrupt") && message.contains("Recovery"))

            var unchecked = SQLiteConfiguration.directory(directory)
            unchecked.checkOnOpen = false
            let opened = try await SQLiteBackend.open(configuration: unchecked, logger: testLogger)
            try await runEngine(backend: opened) { engine in
                // Never wrong data: a read either returns what was written or fails as corruption (DATA_LOSS).
                var failures = 0
                for index in 0..<600 {
                    do {
                        let record = try await engine.get(agentID: "a", key: "k\(index)")
                        #expect(record.value?.utf8.count == 2002, "k\(index) read wrong: \(record.version)")
                    } catch StatehouseError.dataCorruption {
                        failures += 1
                    }
                }
                #expect(failures > 0)
            }
        }
    }

    @Test("a data directory that cannot be created is refused")
    func uncreatableDirectory() async throws {
        try await withTemporaryDirectory { directory in
            try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
            let error = await Self.openError(.directory(directory + "/file/sub"))
            // The cause is named: the level that could not be made, and why.
            #expect(error == .unavailable("cannot create data directory \(directory)/file/sub: Not a directory"))
        }
    }

    @Test("in-memory stores are private to their backend")
    func memoryStoresAreIndependent() async throws {
        try await withTestEngine(.memory) { first in
            try await first.put(agent: "a", key: "k", json: "1")
            try await withTestEngine(.memory) { (second: StatehouseEngine) async throws in
                #expect(try await second.get(agentID: "a", key: "k").exists == false)
            }
        }
    }

    @Test("each value is stored once, in the versions table")
    func valueStoredOnce() async throws {
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            let marker = String(repeating: "q", count: 5000)
            try await runEngine(backend: backend) { engine in
                try await engine.put(agent: "a", key: "k", json: "\"\(marker)\"")
            }
            #expect(
                try Self.scalar(directory, "SELECT COUNT(*) FROM versions WHERE instr(value, '\(marker)') > 0") == 1)
            #expect(
                try Self.scalar(directory, "SELECT COUNT(*) FROM events WHERE instr(metadata, '\(marker)') > 0") == 0)
        }
    }
}

@Suite("SQLite write-ahead log", .timeLimit(.minutes(2)))
struct WriteAheadLogTests {
    @Test("the WAL stays bounded while reads never stop (no checkpoint starvation)")
    func walBoundedUnderConstantReads() async throws {
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: backend) { (engine: StatehouseEngine) async throws in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Readers that overlap all the time: some reader snapshot is always open, as under real load.
                    for reader in 0..<4 {
                        group.addTask {
                            var round = 0
                            while !Task.isCancelled && round < 1_000_000 {
                                do {
                                    _ = try await engine.scan(agentID: "agent-\(reader)", prefix: "key/", limit: 50)
                                } catch is CancellationError {
                                    break  // the group was cancelled mid-read: the read was interrupted
                                }
                                round += 1
                            }
                        }
                    }
                    for index in 0..<3000 {
                        let value = "\"\(String(repeating: "v", count: 200))\(index)\""
                        try await engine.put(agent: "agent-\(index % 4)", key: "key/\(index % 500)", json: value)
                    }
                    group.cancelAll()  // stops the readers
                    try await group.waitForAll()
                }
                let size =
                    (try FileManager.default.attributesOfItem(atPath: directory + "/statehouse.db-wal")[.size]
                        as? Int) ?? 0
                // Without forced restarts the WAL takes every frame of the run (tens of MiB); SQLite's automatic
                // checkpoint alone cannot reuse it while some reader always holds a snapshot.
                #expect(size < 24 << 20, "WAL is \(size >> 20) MiB")
            }
        }
    }

    @Test("checkpoints keep the WAL bounded while the store runs")
    func walIsCheckpointed() async throws {
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: backend) { (engine: StatehouseEngine) async throws in
                // About 3 WAL frames per commit: 1,500 commits pass SQLite's automatic checkpoint (1,000 frames)
                // several times over. Reads in between keep reader snapshots coming and going, as in production.
                for index in 0..<1500 {
                    try await engine.put(agent: "agent-\(index % 50)", key: "key/\(index % 300)", json: "\(index)")
                    if index % 100 == 0 { _ = try await engine.get(agentID: "agent-0", key: "key/0") }
                }
                let attributes = { (name: String) throws -> Int in
                    (try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? 0
                }
                // Pages reached the database file while the store was open, so the WAL was reset and reused.
                #expect(try attributes("statehouse.db") > 100_000)
                #expect(try attributes("statehouse.db-wal") < 8 << 20)
            }
        }
    }
}
