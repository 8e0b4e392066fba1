import StatehouseCore
import StatehouseModel
import Testing

@testable import StatehousePostgres

/// The daemon's cache of what it committed (no database needed): which batches it may decide, and its key budget.
@Suite("PostgreSQL commit cache")
struct PostgresCommitCacheTests {
    static func cache(_ namespace: String, keys: Range<Int>) -> PostgresCommitCache {
        var cache = PostgresCommitCache(namespaceID: 1, head: .empty(namespace))
        for index in keys {
            cache.note(
                PostgresCommitCache.Key(agentID: "a", key: "k\(index)"),
                StoredVersionState(version: 1, deleted: false, expiresAt: nil))
        }
        return cache
    }

    /// A cache of keys "k0", "k1", … holding as many as fit in `limit` bytes.
    static func cache(_ namespace: String, bytesAtMost limit: Int) -> PostgresCommitCache {
        var cache = PostgresCommitCache(namespaceID: 1, head: .empty(namespace))
        var index = 0
        while true {
            let key = PostgresCommitCache.Key(agentID: "a", key: "k\(index)")
            let cost = key.agentID.utf8.count + key.key.utf8.count + PostgresCommitCache.entryOverheadBytes
            guard cache.bytes + cost <= limit else { return cache }
            cache.note(key, StoredVersionState(version: 1, deleted: false, expiresAt: nil))
            index += 1
        }
    }

    static func put(_ key: String, namespace: String = "n") -> CommitRequest {
        CommitRequest(
            namespace: namespace, txnID: "t",
            operations: [.put(agentID: "a", key: key, value: JSONValue(trusted: Array("1".utf8)))])
    }

    @Test("only batches of known keys in its namespace, with nothing the database must answer, are decided from it")
    func canDecide() {
        let cache = Self.cache("n", keys: 0..<2)
        #expect(cache.canDecide([Self.put("k0"), Self.put("k1")], indexState: false))
        #expect(!cache.canDecide([Self.put("k0"), Self.put("k2")], indexState: false))
        // Unknown keys are read first (each once); a batch the cache can never decide has no list at all.
        #expect(
            cache.unknownKeys([Self.put("k2"), Self.put("k0"), Self.put("k2")], indexState: false)
                == [PostgresCommitCache.Key(agentID: "a", key: "k2")])
        #expect(cache.unknownKeys([Self.put("k2")], indexState: true) == nil)
        #expect(!cache.canDecide([Self.put("k0", namespace: "other")], indexState: false))
        #expect(!cache.canDecide([Self.put("k0")], indexState: true))
        #expect(!cache.canDecide([], indexState: false))
        var keyed = Self.put("k0")
        keyed.idempotencyKey = "once"
        #expect(!cache.canDecide([keyed], indexState: false))
        var described = Self.put("k0")
        described.metadata = CommitMetadata(actor: "someone")
        #expect(!cache.canDecide([described], indexState: false))
        var scoped = Self.put("k0")
        scoped.scopeConditions = [ScopeCondition(agentID: "a", unchangedSince: 0)]
        #expect(!cache.canDecide([scoped], indexState: false))
        var conditioned = Self.put("k0")
        conditioned.conditions = [KeyCondition(agentID: "a", key: "k9", requirement: .expected(.absent))]
        #expect(!cache.canDecide([conditioned], indexState: false))
        let event = CommitRequest(
            namespace: "n", txnID: "t",
            operations: [
                .put(agentID: ReservedNames.eventsAgent, key: "k0", value: JSONValue(trusted: Array("1".utf8)))
            ])
        #expect(!cache.canDecide([event], indexState: false))
    }

    @Test("a cached put past its expiry reads as deleted")
    func expiry() {
        let stored = StoredVersionState(version: 3, deleted: false, expiresAt: 1_000)
        #expect(stored.state(now: 999) == KeyVersionState(version: 3, deleted: false))
        #expect(stored.state(now: 1_000) == KeyVersionState(version: 3, deleted: true))
    }

    @Test("past the memory budget, other namespaces go first, then the namespace's own keys")
    func budget() {
        let half = Self.cache("a", bytesAtMost: PostgresCommitCaches.maximumBytes / 2)
        var caches = PostgresCommitCaches()
        caches.update("a") { $0 = half }
        caches.update("b") { $0 = half }
        #expect(caches["a"]?.latest.count == half.latest.count)
        #expect(caches["b"]?.latest.count == half.latest.count)
        // Both fill the budget to within a key each: 1,000 more keys are past it.
        caches.update("c") { $0 = Self.cache("c", keys: 0..<1000) }
        #expect(caches["c"]?.latest.count == 1000)
        #expect([caches["a"], caches["b"]].compactMap { $0 }.count == 1)
        // Long names count for what they take: fewer of them fit.
        var long = PostgresCommitCache(namespaceID: 1, head: .empty("c"))
        let name = String(repeating: "x", count: 1024)
        for index in 0..<(PostgresCommitCaches.maximumBytes / 1024 + 1) {
            long.note(PostgresCommitCache.Key(agentID: "a", key: name + "\(index)"), nil)
        }
        #expect(long.bytes > PostgresCommitCaches.maximumBytes)
        caches.update("c") { $0 = long }
        #expect(caches["a"] == nil && caches["b"] == nil)
        #expect(caches["c"]?.latest.isEmpty == true)
        caches.update("d") { $0 = Self.cache("d", keys: 0..<5) }
        caches.forget("c")
        #expect(caches["c"] == nil)
        #expect(caches["d"]?.latest.count == 5)
    }
}
