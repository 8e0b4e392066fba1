import Foundation
import PostgresNIO
import StatehouseCore
import StatehouseLedger
import StatehouseModel
import StatehousePostgres
import StatehouseSQLite
import Testing

/// Retention and expiry on PostgreSQL, compared with what the SQLite backend returns for the same commits.
@Suite("PostgreSQL backend: retention and expiry", .timeLimit(.minutes(2)))
struct PostgresRetentionTests {
    /// Runs `body` with a PostgreSQL backend over a fresh database, an in-memory SQLite backend, and a client of the
    /// PostgreSQL database for what the backends have no method for.
    func withStores(_ body: (PostgresBackend, SQLiteBackend, PostgresClient) async throws -> Void) async throws {
        try await TestDatabase.withFresh { settings in
            let postgres = try await PostgresBackend(settings: settings, logger: TestDatabase.logger)
            let sqlite = try await SQLiteBackend.open(configuration: .inMemory(), logger: TestDatabase.logger)
            do {
                try await TestDatabase.withClient(settings.clientConfiguration()) { client in
                    try await body(postgres, sqlite, client)
                }
            } catch {
                await postgres.close()
                await sqlite.close()
                throw error
            }
            await postgres.close()
            await sqlite.close()
        }
    }

    static let digestA = String(repeating: "ab", count: 32)
    static let digestB = String(repeating: "0123456789abcdef", count: 4)

    static func value(_ text: String) -> JSONValue { JSONValue(trusted: Array(text.utf8)) }

    static func put(_ agentID: String, _ key: String, _ value: String, expiresAt: Microseconds? = nil) -> WriteOperation
    {
        .put(agentID: agentID, key: key, value: Self.value(value), expiresAt: expiresAt)
    }

    static func request(_ operations: [WriteOperation], namespace: String = "default") -> CommitRequest {
        CommitRequest(namespace: namespace, txnID: UUID().uuidString, operations: operations, mayBeRetry: false)
    }

    /// Puts with and without expiries, a delete, a second namespace, and a key with many versions.
    static func commits() -> [(now: Microseconds, request: CommitRequest)] {
        var commits: [(now: Microseconds, request: CommitRequest)] = [
            (
                1_000,
                Self.request([
                    Self.put("a", "k1", "\"\(Self.digestA)\"", expiresAt: 5_000), Self.put("a", "k2", "\"x\""),
                    Self.put("b", "k", "{\"sha256\":\"\(Self.digestB)\"}"),
                ])
            ),
            (
                2_000,
                Self.request([Self.put("a", "k1", "2", expiresAt: 3_000), Self.put("a", "k0", "0", expiresAt: 2_500)])
            ),
            (
                3_000,
                Self.request([.delete(agentID: "a", key: "k2"), Self.put("a", "k3", "[1,2,3]", expiresAt: 10_000)])
            ),
            (
                4_000,
                Self.request([
                    Self.put("a", "k1", "3"), Self.put("a", "k6", "6", expiresAt: 7_000),
                    Self.put("a", "k5", "5", expiresAt: 7_000),
                ])
            ),
            (4_500, Self.request([Self.put("c", "z", "true", expiresAt: 6_000)], namespace: "other")),
        ]
        for index in 1...5 {
            commits.append((5_000 + Int64(index), Self.request([Self.put("a", "k4", "\(index)")])))
        }
        return commits
    }

    func commitToBoth(_ postgres: PostgresBackend, _ sqlite: SQLiteBackend) async throws {
        for (now, request) in Self.commits() {
            let stored = try await postgres.commit([request], now: now)
            let expected = try await sqlite.commit([request], now: now)
            let result = try stored.results[0].get()
            #expect(result.versions == (try expected.results[0].get()).versions)
        }
    }

    static func withoutPosition(_ summary: VersionSummary) -> VersionSummary {
        var summary = summary
        summary.position = 0
        return summary
    }

    static func withoutPosition(_ expired: ExpiredValue) -> ExpiredValue {
        var expired = expired
        expired.version.position = 0
        return expired
    }

    /// Every page of `limit` expired values `read` returns after a cursor, following the backend's own cursors
    /// (`PostgresBackend` is not a `StorageBackend` until every method exists).
    static func allExpiredValues(
        limit: Int, _ read: (ExpiredValue.Cursor?, Int) async throws -> [ExpiredValue]
    ) async throws -> [ExpiredValue] {
        var found: [ExpiredValue] = []
        var after: ExpiredValue.Cursor?
        for _ in 0..<100 {
            let page = try await read(after, limit)
            found += page
            guard page.count == limit, let last = page.last else { break }
            after = last.cursor
        }
        return found
    }

    @Test("version summaries page in (key, version) order like SQLite's, with positions in commit order")
    func versionSummaries() async throws {
        try await self.withStores { postgres, sqlite, _ in
            try await self.commitToBoth(postgres, sqlite)
            let all = try await postgres.versionSummaries(namespace: "default", agentID: "a", afterKey: nil, limit: 100)
            let expected = try await sqlite.versionSummaries(
                namespace: "default", agentID: "a", afterKey: nil, limit: 100)
            #expect(all.count == 14)
            #expect(all.map(Self.withoutPosition) == expected.map(Self.withoutPosition))
            #expect(
                all.map(\.key) == ["k0", "k1", "k1", "k1", "k2", "k2", "k3", "k4", "k4", "k4", "k4", "k4", "k5", "k6"])
            // Positions: distinct, and in the order the versions were written (SQLite's row ids are).
            #expect(Set(all.map(\.position)).count == all.count)
            let byPosition = all.sorted { $0.position < $1.position }.map { "\($0.key)@\($0.version)" }
            #expect(byPosition == expected.sorted { $0.position < $1.position }.map { "\($0.key)@\($0.version)" })
            #expect(all.first { $0.key == "k6" }!.position < all.first { $0.key == "k5" }!.position)
            // Pages cut inside a key, and the next one starts after the last whole key.
            for (afterKey, limit) in [(nil, 4), ("k1", 4), ("k3", 3), ("k6", 4), ("k0", 1)] as [(String?, Int)] {
                let page = try await postgres.versionSummaries(
                    namespace: "default", agentID: "a", afterKey: afterKey, limit: limit)
                let expectedPage = try await sqlite.versionSummaries(
                    namespace: "default", agentID: "a", afterKey: afterKey, limit: limit)
                #expect(page.map(Self.withoutPosition) == expectedPage.map(Self.withoutPosition))
            }
            #expect(
                try await postgres.versionSummaries(namespace: "default", agentID: "a", afterKey: "k3", limit: 3).map {
                    "\($0.key)@\($0.version)"
                } == ["k4@1", "k4@2", "k4@3"])
            #expect(
                try await postgres.versionSummaries(namespace: "none", agentID: "a", afterKey: nil, limit: 10).isEmpty)
            let other = try await postgres.versionSummaries(namespace: "other", agentID: "c", afterKey: nil, limit: 10)
            #expect(other.map(\.expiresAt) == [6_000])
        }
    }

    @Test("expired keys and expired values come soonest first, ties in commit order, and page by cursor like SQLite's")
    func expiry() async throws {
        try await self.withStores { postgres, sqlite, _ in
            try await self.commitToBoth(postgres, sqlite)
            let keys = try await postgres.expiredKeys(expiredAfter: .min, now: 10_000, limit: 100)
            #expect(
                keys.map { "\($0.namespace)/\($0.agentID)/\($0.key)" } == [
                    "default/a/k0", "other/c/z", "default/a/k6", "default/a/k5", "default/a/k3",
                ])
            #expect(keys == (try await sqlite.expiredKeys(expiredAfter: .min, now: 10_000, limit: 100)))
            let window = try await postgres.expiredKeys(expiredAfter: 2_500, now: 7_000, limit: 2)
            #expect(window.map(\.key) == ["z", "k6"])
            #expect(window == (try await sqlite.expiredKeys(expiredAfter: 2_500, now: 7_000, limit: 2)))
            #expect(try await postgres.expiredKeys(expiredAfter: .min, now: 2_499, limit: 10).isEmpty)

            let values = try await postgres.expiredValues(namespace: "default", now: 10_000, after: nil, limit: 100)
            #expect(
                values.map { "\($0.version.key)@\($0.version.version)>\($0.nextCommitTS)" } == [
                    "k0@1>0", "k1@2>4", "k1@1>2", "k6@1>0", "k5@1>0", "k3@1>0",
                ])
            let expected = try await sqlite.expiredValues(namespace: "default", now: 10_000, after: nil, limit: 100)
            #expect(values.map(Self.withoutPosition) == expected.map(Self.withoutPosition))
            for limit in [1, 2, 4] {
                let paged = try await Self.allExpiredValues(limit: limit) {
                    try await postgres.expiredValues(namespace: "default", now: 10_000, after: $0, limit: $1)
                }
                #expect(paged == values)
                let sqlitePaged = try await Self.allExpiredValues(limit: limit) {
                    try await sqlite.expiredValues(namespace: "default", now: 10_000, after: $0, limit: $1)
                }
                #expect(paged.map(Self.withoutPosition) == sqlitePaged.map(Self.withoutPosition))
            }
            // A cursor inside a tie (k6 and k5 expire together) resumes after it.
            let afterK6 = try await postgres.expiredValues(
                namespace: "default", now: 10_000, after: values[3].cursor, limit: 10)
            #expect(afterK6.map(\.version.key) == ["k5", "k3"])
            #expect(
                try await postgres.expiredValues(namespace: "default", now: 4_999, after: nil, limit: 10).map(
                    \.version.key) == ["k0", "k1"])
            #expect(try await postgres.expiredValues(namespace: "none", now: 10_000, after: nil, limit: 10).isEmpty)
        }
    }

    @Test("removing values keeps their digests in the log and the tree, drops their documents, and counts like SQLite")
    func removeValues() async throws {
        try await self.withStores { postgres, sqlite, client in
            try await self.commitToBoth(postgres, sqlite)
            #expect(try await postgres.referencedDigests(namespace: "default") == [Self.digestA, Self.digestB])
            #expect(
                try await postgres.referencedDigests(namespace: "default")
                    == (try await sqlite.referencedDigests(namespace: "default")))
            let bytesBefore = try await postgres.storedValueBytes(namespace: "default")
            #expect(bytesBefore == (try await sqlite.storedValueBytes(namespace: "default")))
            #expect(bytesBefore > 0)
            // Full-text documents of state values (kind 1) of k1 versions 1 and 3, and an event document (kind 2).
            try await client.query(
                """
                INSERT INTO statehouse_search_docs(ns_id, kind, agent_id, key, version, commit_ts, at, body)
                SELECT n.id, d.kind, 'a', 'k1', d.version, d.commit_ts, 0, d.body
                FROM statehouse_namespaces AS n,
                     (VALUES (1::smallint, 1::bigint, 1::bigint, 'retention-first'),
                             (1, 3, 4, 'retention-third'), (2, 1, 1, 'retention-event'))
                         AS d(kind, version, commit_ts, body)
                WHERE n.name = 'default'
                """, logger: TestDatabase.logger)

            let versions = [
                KeyVersion(key: "k1", version: 2), KeyVersion(key: "k1", version: 1),
                KeyVersion(key: "k2", version: 2), KeyVersion(key: "k2", version: 1),
                KeyVersion(key: "k9", version: 1),
            ]
            let removed = try await postgres.removeValues(namespace: "default", agentID: "a", versions: versions)
            #expect(removed == RemovedValues(count: 3, bytes: 66 + 1 + 3))
            #expect(removed == (try await sqlite.removeValues(namespace: "default", agentID: "a", versions: versions)))
            let again = try await postgres.removeValues(namespace: "default", agentID: "a", versions: versions)
            #expect(again == RemovedValues())
            #expect(again == (try await sqlite.removeValues(namespace: "default", agentID: "a", versions: versions)))
            #expect(
                try await postgres.removeValues(namespace: "none", agentID: "a", versions: versions) == RemovedValues())

            // The log: the operations as SQLite returns them, each removed put with its value's digest instead.
            let head = try await postgres.head(namespace: "default")
            let query = EventQuery(namespace: "default", fromCommitTS: 1, toCommitTS: head.commitTS, limit: 100)
            let events = try await postgres.events(query)
            #expect(events.map(\.operations) == (try await sqlite.events(query)).map(\.operations))
            let first = events[0].operations[0]
            #expect(first.key == "k1" && first.value == nil)
            #expect(first.removedValueDigest == LeafEncoding.valueDigest(Self.value("\"\(Self.digestA)\"")))
            #expect(events[0].operations[1].removedValueDigest == LeafEncoding.valueDigest(Self.value("\"x\"")))
            #expect(events[0].operations[2].value != nil && events[0].operations[2].removedValueDigest == nil)
            #expect(events[2].operations[0].kind == .delete && events[2].operations[0].removedValueDigest == nil)
            let tree = try await postgres.treeHead(namespace: "default", size: nil)
            #expect(tree.rootHash == MerkleTree.root(leafHashes: events.map(LeafEncoding.leafHash)))

            let summaries = try await postgres.versionSummaries(
                namespace: "default", agentID: "a", afterKey: nil, limit: 100)
            #expect(summaries.filter(\.valueRemoved).map { "\($0.key)@\($0.version)" } == ["k1@1", "k1@2", "k2@1"])
            #expect(
                summaries.map(Self.withoutPosition)
                    == (try await sqlite.versionSummaries(namespace: "default", agentID: "a", afterKey: nil, limit: 100))
                    .map(Self.withoutPosition))
            let bytesAfter = try await postgres.storedValueBytes(namespace: "default")
            #expect(bytesAfter == bytesBefore - removed.bytes)
            #expect(bytesAfter == (try await sqlite.storedValueBytes(namespace: "default")))
            #expect(try await postgres.referencedDigests(namespace: "default") == [Self.digestB])
            let expired = try await postgres.expiredValues(namespace: "default", now: 10_000, after: nil, limit: 100)
            #expect(expired.map(\.version.key) == ["k0", "k6", "k5", "k3"])

            var documents: [String] = []
            for try await (kind, version) in try await client.query(
                """
                SELECT kind, version FROM statehouse_search_docs
                WHERE agent_id = 'a' AND key = 'k1' AND body LIKE 'retention-%' ORDER BY kind, version
                """, logger: TestDatabase.logger
            ).decode((Int16, Int64).self) {
                documents.append("\(kind):\(version)")
            }
            #expect(documents == ["1:3", "2:1"])
        }
    }

    @Test("a removal waits for the namespace's row lock, as a commit does")
    func removalLocksTheNamespace() async throws {
        try await self.withStores { postgres, _, client in
            _ = try await postgres.commit([Self.request([Self.put("a", "k", "1")])], now: 1)
            _ = try await postgres.commit([Self.request([Self.put("a", "k", "2")])], now: 2)
            try await withThrowingTaskGroup(of: (RemovedValues, ContinuousClock.Instant).self) { group in
                let released = try await client.withTransaction(logger: TestDatabase.logger) { connection in
                    try await connection.query(
                        "SELECT id FROM statehouse_namespaces WHERE name = 'default' FOR UPDATE",
                        logger: TestDatabase.logger)
                    group.addTask {
                        let removed = try await postgres.removeValues(
                            namespace: "default", agentID: "a", versions: [KeyVersion(key: "k", version: 1)])
                        return (removed, ContinuousClock.now)
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    return ContinuousClock.now
                }
                let (removed, finished) = try await group.next()!
                #expect(removed.count == 1)
                #expect(finished > released)
            }
        }
    }

    @Test("the database's size is measured, VACUUM runs outside a transaction, and backup is refused naming the tools")
    func maintenance() async throws {
        try await self.withStores { postgres, sqlite, client in
            try await self.commitToBoth(postgres, sqlite)
            #expect(try await postgres.storeFileBytes() > 0)
            try await postgres.vacuum()
            var vacuumed = false
            for try await found in try await client.query(
                "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'statehouse_versions'",
                logger: TestDatabase.logger
            ).decode(Bool.self) {
                vacuumed = found
            }
            #expect(vacuumed)
            #expect(try await postgres.storedValueBytes(namespace: "none") == 0)
            #expect(try await postgres.referencedDigests(namespace: "none").isEmpty)

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
            do {
                _ = try await postgres.backup(toDirectory: directory)
                Issue.record("a PostgreSQL store must refuse a backup through the daemon")
            } catch StatehouseError.failedPrecondition(let message) {
                #expect(message.contains("pg_dump"))
                #expect(message.contains("pg_basebackup"))
                #expect(message.contains("docs/operations.md"))
            }
            #expect(!FileManager.default.fileExists(atPath: directory))
        }
    }
}
