import StatehouseCore
import StatehouseModel

/// What this daemon knows of a namespace at the head its own last commit made: the head and the latest version of
/// every key its batches wrote or read there. A batch that only asks about those keys is decided from memory and
/// stored with one statement that moves the head only if it is still that head (``PostgresCommitStatements/
/// StoreBatchIfHead``), outside a transaction: one round trip instead of five (BEGIN, lock the heads, read the latest
/// versions, store, COMMIT). Keys it does not know yet are read first, with the head, in one statement
/// (``PostgresCommitStatements/LatestVersionsAtHead``): two round trips.
///
/// Why it stays exact: a key's versions change only by commits, and every commit moves the namespace's head. While the
/// head in the database is the cached one, no other daemon (and no import) committed since, so the cached versions are
/// the database's. The statement checks that under the head row's lock; when another commit moved it, nothing is
/// stored, the cache is dropped and the batch takes the locking path, which fills the cache again.
struct PostgresCommitCache: Sendable {
    struct Key: Hashable, Sendable {
        var agentID: String
        var key: String
    }

    var namespaceID: Int64
    var head: LogHead
    /// The latest version of each key known here; `nil` for a key that has none. Changed through ``note(_:_:)``,
    /// which keeps ``bytes``.
    private(set) var latest: [Key: StoredVersionState?] = [:]
    /// What ``latest`` holds, about: each key's agent and name in UTF-8 plus ``entryOverheadBytes``.
    private(set) var bytes = 0

    /// A dictionary entry's own memory beside its two strings (two string headers, the version, the hash table slot).
    static let entryOverheadBytes = 96

    init(namespaceID: Int64, head: LogHead) {
        self.namespaceID = namespaceID
        self.head = head
    }

    /// Sets a key's latest version (`nil`: the key has none).
    mutating func note(_ key: Key, _ state: StoredVersionState?) {
        if self.latest.updateValue(state, forKey: key) == nil {
            self.bytes += key.agentID.utf8.count + key.key.utf8.count + Self.entryOverheadBytes
        }
    }

    /// Forgets every key (the head stays).
    mutating func forgetKeys() {
        self.latest = [:]
        self.bytes = 0
    }

    /// The keys `batch` asks about that this cache does not know (empty: it can decide the batch alone), or `nil`
    /// when the batch cannot be decided from a cache at all: another namespace, or something the resolver would ask
    /// the database about (an agent's last commit, an idempotency key) or that writes search documents in another
    /// statement (agent events, commit metadata, indexed state).
    func unknownKeys(_ batch: [CommitRequest], indexState: Bool) -> [Key]? {
        guard !indexState, !batch.isEmpty else { return nil }
        var unknown: [Key] = []
        var seen: Set<Key> = []
        for request in batch {
            guard request.namespace == self.head.namespace, request.scopeConditions.isEmpty,
                request.idempotencyKey == nil, request.metadata.isEmpty
            else { return nil }
            for operation in request.operations {
                guard operation.agentID != ReservedNames.eventsAgent else { return nil }
                let key = Key(agentID: operation.agentID, key: operation.key)
                if self.latest[key] == nil, seen.insert(key).inserted { unknown.append(key) }
            }
            for condition in request.conditions {
                let key = Key(agentID: condition.agentID, key: condition.key)
                if self.latest[key] == nil, seen.insert(key).inserted { unknown.append(key) }
            }
        }
        return unknown
    }

    /// Whether `batch` can be decided from this cache alone.
    func canDecide(_ batch: [CommitRequest], indexState: Bool) -> Bool {
        self.unknownKeys(batch, indexState: indexState)?.isEmpty == true
    }

    /// Moves the cache to `head`, which `events` (stored on top of its head) made.
    mutating func advance(by events: [Event], to head: LogHead) {
        self.head = head
        self.record(events)
    }

    /// Notes the versions `events` wrote.
    mutating func record(_ events: [Event]) {
        for event in events {
            for operation in event.operations {
                self.note(
                    Key(agentID: operation.agentID, key: operation.key),
                    StoredVersionState(
                        version: operation.version, deleted: operation.kind == .delete, expiresAt: operation.expiresAt))
            }
        }
    }
}

/// This daemon's ``PostgresCommitCache`` of each namespace, within one memory budget for all of them: past it, the
/// other namespaces' caches go first, then the namespace's own keys (it starts over from its next batch's). The cache
/// saves round trips; it is not meant to hold every key of a large store.
struct PostgresCommitCaches: Sendable {
    /// 32 MiB of keys: about 250,000 keys of 30 bytes, or 28,000 of the longest names the default limits allow.
    static let maximumBytes = 32 << 20

    /// Batches of a namespace that go straight to the lock after its cache missed (another daemon had moved the
    /// head): where daemons share a namespace, trying the cache first would cost most batches a wasted statement,
    /// often after waiting on another daemon's lock. One batch in `batchesAfterMiss + 1` tries again.
    static let batchesAfterMiss = 32

    private var namespaces: [String: PostgresCommitCache] = [:]
    private var bytes = 0
    /// Namespaces whose cache missed, with the batches left before one tries it again.
    private var paused: [String: Int] = [:]

    subscript(namespace: String) -> PostgresCommitCache? { self.namespaces[namespace] }

    /// Changes the namespace's cache in place (a copy of a cache would copy every key it holds), then keeps the budget.
    mutating func update(_ namespace: String, _ change: (inout PostgresCommitCache?) -> Void) {
        let before = self.namespaces[namespace]?.bytes ?? 0
        change(&self.namespaces[namespace])
        self.bytes += (self.namespaces[namespace]?.bytes ?? 0) - before
        guard self.bytes > Self.maximumBytes else { return }
        for name in self.namespaces.keys where name != namespace {
            self.bytes -= self.namespaces.removeValue(forKey: name)?.bytes ?? 0
            if self.bytes <= Self.maximumBytes { return }
        }
        self.namespaces[namespace]?.forgetKeys()
        self.bytes = 0
    }

    mutating func forget(_ namespace: String) {
        self.bytes -= self.namespaces.removeValue(forKey: namespace)?.bytes ?? 0
    }

    /// Drops the namespace's cache after another commit moved its head, and pauses it for ``batchesAfterMiss``.
    mutating func missed(_ namespace: String) {
        self.forget(namespace)
        // Many namespaces missing once each must not grow this without bound: they simply try again.
        if self.paused.count >= 1 << 14 { self.paused.removeAll() }
        self.paused[namespace] = Self.batchesAfterMiss
    }

    /// Whether the next batch of `namespace` may be decided from the cache; counts a paused namespace's batches down.
    mutating func mayTry(_ namespace: String) -> Bool {
        guard let left = self.paused[namespace] else { return true }
        self.paused[namespace] = left > 1 ? left - 1 : nil
        return false
    }
}

/// A key's latest version as stored. Expiry is applied when a batch asks, since a cached put can expire meanwhile.
struct StoredVersionState: Sendable, Hashable {
    var version: Version
    var deleted: Bool
    var expiresAt: Microseconds?

    /// What conditions see at `now`: a put whose expiry has passed counts as deleted, as in the SQLite writer.
    func state(now: Microseconds) -> KeyVersionState {
        KeyVersionState(version: self.version, deleted: self.deleted || (self.expiresAt.map { $0 <= now } ?? false))
    }
}

/// ``CommitResolver``'s questions answered from a ``PostgresCommitCache``.
///
/// An earlier commit of a transaction id is answered "none": the unique index on transaction ids fails the storing
/// statement for a retry of a stored transaction, and the batch then takes the locking path, which returns the first
/// result.
struct CachedCommitState: CommitStateReader {
    let cache: PostgresCommitCache
    let now: Microseconds

    private static func unasked(_ what: String) -> StatehouseError {
        .internalError("internal storage error: a cached commit asked for \(what)")
    }

    func head(namespace: String) throws -> LogHead {
        guard namespace == self.cache.head.namespace else { throw Self.unasked("another namespace's head") }
        return self.cache.head
    }

    func latestVersion(namespace: String, agentID: String, key: String) throws -> KeyVersionState? {
        guard namespace == self.cache.head.namespace,
            let entry = self.cache.latest[PostgresCommitCache.Key(agentID: agentID, key: key)]
        else { throw Self.unasked("a key it does not know") }
        return entry?.state(now: self.now)
    }

    func lastCommitTS(namespace: String, agentID: String) throws -> CommitTS {
        throw Self.unasked("an agent's last commit")
    }

    func committedResult(txnID: String) throws -> CommitResult? { nil }

    func idempotentCommit(namespace: String, idempotencyKey: String) throws -> (digest: [UInt8], result: CommitResult)?
    {
        throw Self.unasked("an idempotency key")
    }
}
