import Foundation
import StatehouseCore
import StatehouseLedger
import StatehouseModel
import Testing

@testable import StatehousePostgres

/// The PostgreSQL backend's write path against a real server, with one and with several "daemons" (backends) over one
/// database.
@Suite("PostgreSQL backend: commits", .timeLimit(.minutes(2)))
struct PostgresBackendTests {
    /// Runs `body` with `count` backends over one fresh database, as that many daemons would be.
    func withBackends(_ count: Int, _ body: ([PostgresBackend]) async throws -> Void) async throws {
        try await TestDatabase.withFresh { settings in
            var backends: [PostgresBackend] = []
            for _ in 0..<count {
                backends.append(try await PostgresBackend(settings: settings, logger: TestDatabase.logger))
            }
            do {
                try await body(backends)
            } catch {
                for backend in backends { await backend.close() }
                throw error
            }
            for backend in backends { await backend.close() }
        }
    }

    static func put(
        _ agentID: String, _ key: String, _ value: String, namespace: String = "default",
        txnID: String = UUID().uuidString,
        expect requirement: KeyCondition.Requirement? = nil, retry: Bool = false
    ) -> CommitRequest {
        CommitRequest(
            namespace: namespace, txnID: txnID,
            operations: [.put(agentID: agentID, key: key, value: JSONValue(trusted: Array(value.utf8)))],
            conditions: requirement.map { [KeyCondition(agentID: agentID, key: key, requirement: $0)] } ?? [],
            mayBeRetry: retry)
    }

    /// Checks the namespace's whole log: consecutive commit_ts from 1, each event linked to and hashing like the chain
    /// says, and the stored tree's nodes giving the root of the events' leaves.
    static func checkLog(_ backend: PostgresBackend, namespace: String = "default") async throws -> [Event] {
        let head = try await backend.head(namespace: namespace)
        let events = try await backend.events(
            EventQuery(namespace: namespace, fromCommitTS: 1, toCommitTS: max(head.commitTS, 1), limit: 100_000))
        #expect(events.map(\.commitTS) == Array(1...head.commitTS).map { $0 })
        var previous = HashChain.genesisHash
        for event in events {
            #expect(event.prevHash == previous)
            #expect(
                event.hash
                    == HashChain.hash(
                        prevHash: previous, commitTS: event.commitTS, namespace: namespace, txnID: event.txnID,
                        committedAt: event.committedAt, metadata: event.metadata, operations: event.operations))
            previous = event.hash
        }
        #expect(head.hash == previous)
        let tree = try await backend.treeHead(namespace: namespace, size: nil)
        #expect(tree.treeSize == head.commitTS)
        #expect(tree.rootHash == MerkleTree.root(leafHashes: events.map(LeafEncoding.leafHash)))
        if head.commitTS > 2 {
            let prefix = try await backend.treeHead(namespace: namespace, size: head.commitTS - 1)
            #expect(prefix.rootHash == MerkleTree.root(leafHashes: events.dropLast().map(LeafEncoding.leafHash)))
        }
        return events
    }

    @Test("commits decide versions, conditions and exactly-once like SQLite, and store a chain that verifies")
    func oneDaemon() async throws {
        try await self.withBackends(1) { backends in
            let backend = backends[0]
            let first = try await backend.commit(
                [
                    Self.put("a", "k", "1"), Self.put("a", "k", "2", expect: .expected(.version(1))),
                    Self.put("a", "k", "3", expect: .expected(.version(1))),
                    Self.put("b", "x", "\"new\"", expect: .expected(.absent)),
                ], now: 1_000)
            #expect(first.results.map { (try? $0.get())?.commitTS } == [1, 2, nil, 3])
            guard case .failure(.conflict(_, _, _, let actual)) = first.results[2] else {
                Issue.record("a stale expected version must conflict")
                return
            }
            #expect(actual == 2)
            // A retried transaction id returns the first result and writes nothing.
            let retried = try await backend.commit(
                [Self.put("a", "k", "9", txnID: first.events[0].txnID, retry: true)], now: 2_000)
            #expect(try retried.results[0].get() == (try first.results[0].get()))
            #expect(retried.events.isEmpty)
            // An idempotency key with the same content returns the first result; other content is refused.
            var keyed = Self.put("a", "i", "1")
            keyed.idempotencyKey = "once"
            keyed.requestDigest = [1, 2, 3]
            let once = try await backend.commit([keyed], now: 3_000)
            var again = keyed
            again.txnID = UUID().uuidString
            let twice = try await backend.commit([again], now: 4_000)
            #expect(try twice.results[0].get() == (try once.results[0].get()))
            again.requestDigest = [9]
            guard case .failure(.invalidArgument) = try await backend.commit([again], now: 5_000).results[0] else {
                Issue.record("an idempotency key reused for other content must be refused")
                return
            }
            for index in 0..<40 {
                _ = try await backend.commit([Self.put("c", "k\(index % 6)", "\(index)")], now: 6_000 + Int64(index))
            }
            let events = try await Self.checkLog(backend)
            #expect(events.count == 44)
            #expect(try await backend.committedResult(txnID: first.events[0].txnID) == (try first.results[0].get()))
            #expect(try await backend.namespaces(after: nil, limit: 10).map(\.commitTS) == [44])
        }
    }

    @Test("a daemon's next versions and conditions follow its own commits and another daemon's, expiry included")
    func versionsAcrossDaemons() async throws {
        try await self.withBackends(2) { backends in
            let (a, b) = (backends[0], backends[1])
            var expiring = Self.put("a", "ttl", "1")
            expiring.operations = [
                .put(agentID: "a", key: "ttl", value: JSONValue(trusted: Array("1".utf8)), expiresAt: 1_500)
            ]
            _ = try await a.commit([expiring, Self.put("a", "k", "1")], now: 1_000)
            // a's own commits: the versions it wrote decide the next ones and the conditions.
            let early = try await a.commit([Self.put("a", "ttl", "2", expect: .expected(.absent))], now: 1_200)
            guard case .failure(.conflict) = early.results[0] else {
                Issue.record("a key that has not expired yet exists")
                return
            }
            let late = try await a.commit(
                [Self.put("a", "ttl", "3", expect: .expected(.absent)), Self.put("a", "k", "2")], now: 2_000)
            #expect(late.events.flatMap(\.operations).map(\.version) == [2, 2])
            // b commits in between: a's next batch decides from b's versions.
            _ = try await b.commit([Self.put("a", "k", "3"), Self.put("a", "new", "1")], now: 3_000)
            let after = try await a.commit(
                [
                    Self.put("a", "k", "4", expect: .expected(.version(3))),
                    Self.put("a", "new", "2", expect: .expected(.version(1))),
                ], now: 4_000)
            #expect(after.events.flatMap(\.operations).map(\.version) == [4, 2])
            let stale = try await a.commit([Self.put("a", "k", "5", expect: .expected(.version(3)))], now: 5_000)
            guard case .failure(.conflict(_, _, _, let actual)) = stale.results[0] else {
                Issue.record("a condition on a version a's own commit replaced must conflict")
                return
            }
            #expect(actual == 4)
            for backend in backends { _ = try await Self.checkLog(backend) }
        }
    }

    @Test(
        "a batch decided from a daemon's cache takes one statement; another daemon, a retry, a conflict take the lock"
    )
    func cachedCommits() async throws {
        try await self.withBackends(2) { backends in
            let (a, b) = (backends[0], backends[1])
            func version(_ resolution: BatchResolution) -> Version? {
                (try? resolution.results[0].get())?.versions.first
            }
            #expect(version(try await a.commit([Self.put("a", "k", "1")], now: 1_000)) == 1)
            #expect(a.batchesCommittedFromCache == 0)
            // The first commit read k under the lock: the next one is decided from memory.
            #expect(version(try await a.commit([Self.put("a", "k", "2")], now: 2_000)) == 2)
            #expect(a.batchesCommittedFromCache == 1)
            #expect(version(try await b.commit([Self.put("a", "k", "3")], now: 3_000)) == 3)
            // a's cache says 2: the condition fails there, so the batch is decided again under the lock, from b's 3.
            let expecting = try await a.commit([Self.put("a", "k", "4", expect: .expected(.version(3)))], now: 4_000)
            #expect(version(expecting) == 4)
            #expect(a.batchesCommittedFromCache == 1)
            let fifth = try await a.commit([Self.put("a", "k", "5")], now: 5_000)
            #expect(version(fifth) == 5)
            #expect(a.batchesCommittedFromCache == 2)
            // b's cache is at its own commit's head, which a moved: its statement stores nothing, the lock decides,
            // and b's next batches there go straight to the lock for a while.
            #expect(version(try await b.commit([Self.put("a", "k", "6")], now: 6_000)) == 6)
            #expect(b.batchesCommittedFromCache == 0)
            let paused = PostgresCommitCaches.batchesAfterMiss
            for index in 0..<paused {
                let expected = Version(7 + index)
                #expect(version(try await b.commit([Self.put("a", "k", "\(expected)")], now: 7_000)) == expected)
            }
            #expect(b.batchesCommittedFromCache == 0)
            let next = Version(7 + paused)
            #expect(version(try await b.commit([Self.put("a", "k", "\(next)")], now: 8_000)) == next)
            #expect(b.batchesCommittedFromCache == 1)
            // A retry of a stored transaction: the cache cannot know it, the unique index on transaction ids fails the
            // statement, and the lock returns the first result without storing anything.
            let last = try await b.commit([Self.put("a", "k", "\(next + 1)")], now: 9_000)
            #expect(b.batchesCommittedFromCache == 2)
            let retried = try await b.commit(
                [Self.put("a", "k", "0", txnID: last.events[0].txnID, retry: true)], now: 10_000)
            #expect(try retried.results[0].get() == (try last.results[0].get()))
            #expect(retried.events.isEmpty)
            #expect(b.batchesCommittedFromCache == 2)
            // The cache still holds after the retry: the next batch is decided from it.
            #expect(version(try await b.commit([Self.put("a", "k", "x")], now: 11_000)) == next + 2)
            #expect(b.batchesCommittedFromCache == 3)
            let events = try await Self.checkLog(a)
            #expect(events.flatMap(\.operations).map(\.version) == Array(1...(next + 2)))
        }
    }

    @Test("a key the cache does not know is read with the head; another daemon's commit in between makes it a miss")
    func unknownKeys() async throws {
        try await self.withBackends(2) { backends in
            let (a, b) = (backends[0], backends[1])
            _ = try await a.commit([Self.put("a", "k", "1")], now: 1_000)
            // a's cache knows k; "fresh" is read with the head, which is still a's: the batch is decided from memory.
            let fresh = try await a.commit(
                [Self.put("a", "fresh", "1", expect: .expected(.absent)), Self.put("a", "k", "2")], now: 2_000)
            #expect(fresh.events.flatMap(\.operations).map(\.version) == [1, 2])
            #expect(a.batchesCommittedFromCache == 1)
            // A key only a condition names is read too.
            var conditioned = Self.put("a", "k", "3")
            conditioned.conditions = [KeyCondition(agentID: "a", key: "never", requirement: .expected(.absent))]
            #expect(try await a.commit([conditioned], now: 3_000).events.flatMap(\.operations).map(\.version) == [3])
            #expect(a.batchesCommittedFromCache == 2)
            // b moves the head: a's read of a key it does not know finds another head, and the lock decides.
            _ = try await b.commit([Self.put("a", "other", "1")], now: 4_000)
            let new = try await a.commit([Self.put("a", "other", "2", expect: .expected(.version(1)))], now: 5_000)
            #expect((try? new.results[0].get())?.versions == [2])
            #expect(a.batchesCommittedFromCache == 2)
            _ = try await Self.checkLog(a)
        }
    }

    @Test("a condition that holds against a stale cache still conflicts, decided under the lock")
    func staleCondition() async throws {
        try await self.withBackends(2) { backends in
            let (a, b) = (backends[0], backends[1])
            _ = try await a.commit([Self.put("a", "k", "1")], now: 1_000)
            _ = try await b.commit([Self.put("a", "k", "2")], now: 2_000)
            // a's cache says version 1, the database 2: the statement stores nothing and the lock finds the conflict.
            let stale = try await a.commit([Self.put("a", "k", "3", expect: .expected(.version(1)))], now: 3_000)
            guard case .failure(.conflict(_, _, _, let actual)) = stale.results[0] else {
                Issue.record("a condition on a version another daemon replaced must conflict")
                return
            }
            #expect(actual == 2)
            #expect(stale.events.isEmpty)
            #expect(a.batchesCommittedFromCache == 0)
            #expect(try await Self.checkLog(a).count == 2)
        }
    }

    @Test("three daemons committing to one namespace at once keep commit_ts gap-free, versions in order and one chain")
    func threeDaemons() async throws {
        try await self.withBackends(3) { backends in
            let perDaemon = 30
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, backend) in backends.enumerated() {
                    group.addTask {
                        for step in 0..<perDaemon {
                            let result = try await backend.commit(
                                [Self.put("shared", "counter", "\(index * 1000 + step)")], now: 1)
                            _ = try result.results[0].get()
                        }
                    }
                }
                try await group.waitForAll()
            }
            for backend in backends {
                let events = try await Self.checkLog(backend)
                #expect(events.count == 3 * perDaemon)
                #expect(events.flatMap(\.operations).map(\.version) == Array(1...UInt64(3 * perDaemon)))
            }
            // A retry that lands on another daemon returns the first result.
            let request = Self.put("shared", "other", "1", retry: true)
            let first = try await backends[0].commit([request], now: 2)
            let retried = try await backends[2].commit([request], now: 3)
            #expect(try retried.results[0].get() == (try first.results[0].get()))
            // A condition read on one daemon conflicts with a write made through another.
            _ = try await backends[1].commit([Self.put("shared", "counter", "x")], now: 4)
            let stale = try await backends[0].commit(
                [Self.put("shared", "counter", "y", expect: .expected(.version(UInt64(3 * perDaemon))))], now: 5)
            guard case .failure(.conflict) = stale.results[0] else {
                Issue.record("a write through another daemon must make the stale condition conflict")
                return
            }
            _ = try await Self.checkLog(backends[0])
        }
    }

    @Test("a database that cannot be reached fails the start with UNAVAILABLE once the request timeout passed")
    func unreachable() async throws {
        // Port 1 on loopback: nothing listens, every connection attempt is refused and the pool keeps retrying.
        let settings = try PostgresConnectionSettings(
            url: "postgres://statehouse@127.0.0.1:1/nowhere?sslmode=disable", environment: [:])
        let started = ContinuousClock.now
        await #expect {
            _ = try await PostgresBackend(settings: settings, requestTimeout: .seconds(1), logger: TestDatabase.logger)
        } throws: { error in
            guard case .unavailable(let message) = error as? StatehouseError else { return false }
            return message.contains("did not answer within 1 s while opening the store")
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("an import appends after the head it expects, and is refused once another daemon moved it")
    func append() async throws {
        try await self.withBackends(2) { backends in
            for index in 0..<5 { _ = try await backends[0].commit([Self.put("a", "k", "\(index)")], now: 10) }
            let source = try await Self.checkLog(backends[0])
            var previous = HashChain.genesisHash
            var copied: [Event] = []
            for event in source {
                var copy = event
                copy.namespace = "copy"
                copy.txnID = UUID().uuidString
                copy.prevHash = previous
                copy.hash = HashChain.hash(
                    prevHash: previous, commitTS: copy.commitTS, namespace: "copy", txnID: copy.txnID,
                    committedAt: copy.committedAt, metadata: copy.metadata, operations: copy.operations)
                previous = copy.hash
                copied.append(copy)
            }
            // The first part with the tree's growth computed by the caller (as an import does), the rest without.
            var frontier = MerkleFrontier()
            let nodes = copied.prefix(3).map { frontier.appendNodeHashes(leafHash: LeafEncoding.leafHash($0)) }
            try await backends[1].append(
                Array(copied.prefix(3)), tree: AppendedTree(nodeHashes: nodes, frontier: frontier),
                after: .empty("copy"))
            let middle = try await backends[0].head(namespace: "copy")
            #expect(middle.commitTS == 3)
            // A tree that does not grow the stored one by these events is refused, and nothing is stored.
            await #expect(throws: StatehouseError.self) {
                try await backends[0].append(
                    Array(copied.dropFirst(3)), tree: AppendedTree(nodeHashes: [[], []], frontier: frontier),
                    after: middle)
            }
            #expect(try await backends[0].head(namespace: "copy") == middle)
            try await backends[0].append(Array(copied.dropFirst(3)), after: middle)
            _ = try await Self.checkLog(backends[1], namespace: "copy")
            await #expect(throws: StatehouseError.self) {
                try await backends[1].append(Array(copied.dropFirst(3)), after: middle)
            }
            // Commits go on after the import, on either daemon, with the tree the import left.
            _ = try await backends[1].commit([Self.put("a", "k", "after", namespace: "copy")], now: 20)
            #expect(try await Self.checkLog(backends[0], namespace: "copy").count == 6)
        }
    }
}
