/// A transaction on its way into the log, with everything the writer needs to decide and apply it.
public struct CommitRequest: Sendable, Hashable {
    public var namespace: String
    /// Globally unique; a second commit with the same id returns the first commit's result (exactly-once).
    public var txnID: String
    /// The writes, at most one per (agent_id, key).
    public var operations: [WriteOperation]
    /// Conditions on key versions: expected versions and the read set of an interactive transaction.
    public var conditions: [KeyCondition]
    /// Conditions on whole agents or the namespace (restore, fork, agent delete).
    public var scopeConditions: [ScopeCondition]
    /// The commit time to record instead of the clock's (an imported log keeps its times); still never below the
    /// namespace's previous commit.
    public var committedAt: Microseconds?
    /// A client-chosen key that makes a one-shot commit safe to retry.
    public var idempotencyKey: String?
    /// A digest of the request's content, so a reused idempotency key with different content is refused.
    public var requestDigest: [UInt8]
    public var metadata: CommitMetadata
    /// Whether `txnID` may have been committed before (an interactive transaction's commit can be a retry). A
    /// one-shot commit's id is new, so the writer skips the exactly-once lookup for it.
    public var mayBeRetry: Bool

    public init(
        namespace: String,
        txnID: String,
        operations: [WriteOperation],
        conditions: [KeyCondition] = [],
        scopeConditions: [ScopeCondition] = [],
        idempotencyKey: String? = nil,
        requestDigest: [UInt8] = [],
        metadata: CommitMetadata = CommitMetadata(),
        mayBeRetry: Bool = true
    ) {
        self.namespace = namespace
        self.txnID = txnID
        self.operations = operations
        self.conditions = conditions
        self.scopeConditions = scopeConditions
        self.committedAt = nil
        self.idempotencyKey = idempotencyKey
        self.requestDigest = requestDigest
        self.metadata = metadata
        self.mayBeRetry = mayBeRetry
    }
}

/// Which version of a key a storage read returns. Time-based reads are resolved to a commit_ts by the engine.
///
/// A read at ``commit(_:)`` beyond the namespace's head throws ``StatehouseModel/StatehouseError/invalidArgument(_:)``
/// naming the head (that state does not exist yet), checked in the same snapshot as the read.
public enum StoragePoint: Sendable, Hashable {
    case latest
    case version(Version)
    case commit(CommitTS)
}

/// A range of a namespace's log, optionally filtered.
public struct EventQuery: Sendable, Hashable {
    public var namespace: String
    /// First commit_ts to return (inclusive).
    public var fromCommitTS: CommitTS
    /// Last commit_ts to return (inclusive).
    public var toCommitTS: CommitTS
    /// Only operations of this agent, and only events that have one.
    public var agentID: String?
    /// Only operations whose key starts with this prefix, and only events that have one.
    public var keyPrefix: String?
    /// Most events to return.
    public var limit: Int
    /// A soft bound on the bytes of values returned; at least one event is always returned.
    public var maxBytes: Int

    public init(
        namespace: String,
        fromCommitTS: CommitTS,
        toCommitTS: CommitTS,
        agentID: String? = nil,
        keyPrefix: String? = nil,
        limit: Int,
        maxBytes: Int = 8 << 20
    ) {
        self.namespace = namespace
        self.fromCommitTS = fromCommitTS
        self.toCommitTS = toCommitTS
        self.agentID = agentID
        self.keyPrefix = keyPrefix
        self.limit = limit
        self.maxBytes = maxBytes
    }

    /// Whether any operation can match: the filter keeps an operation when it matches agent and prefix.
    package func keeps(_ operation: AppliedOperation) -> Bool {
        if let agentID = self.agentID, operation.agentID != agentID { return false }
        if let keyPrefix = self.keyPrefix, !operation.key.utf8.starts(with: keyPrefix.utf8) { return false }
        return true
    }
}

/// Where committed state lives: SQLite by default, PostgreSQL for scale-out.
///
/// A backend stores what the ``CommitPipeline`` decided and answers reads. It never decides commit order or
/// conflicts itself: inside its write transaction it calls ``CommitResolver`` with a ``CommitStateReader`` over
/// its own uncommitted view, so every backend applies exactly the same rules. Reads must not wait for the writer.
public protocol StorageBackend: Sendable {
    /// Applies a batch of transactions in one durable storage transaction and returns when it is durable.
    ///
    /// - Throws: a ``StatehouseModel/StatehouseError`` when the storage transaction as a whole failed; nothing was
    ///   applied.
    func commit(_ batch: [CommitRequest], now: Microseconds) async throws -> BatchResolution

    /// Stores consecutive events of one namespace that were decided and checked by the caller (an import,
    /// ``LogImport``) in one durable storage transaction: each carries its commit_ts, versions, time and hashes, and the
    /// first follows `head`. The rows equal those ``commit(_:now:)`` stores for the same events.
    ///
    /// `tree`, when given, is the Merkle tree's growth over the events, computed by the caller on its own thread, so
    /// that the storage's writer, which every commit waits for, does not hash (an import: about a fifth of the
    /// writer's time per event). `nil` makes the storage compute it.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` when the namespace's head
    ///   is no longer `head` (it was written meanwhile); nothing was applied.
    func append(_ events: [Event], tree: AppendedTree?, after head: LogHead) async throws

    /// The result of an earlier commit of `txnID`, if it committed.
    func committedResult(txnID: String) async throws -> CommitResult?

    /// The end of a namespace's log; ``StatehouseModel/LogHead/empty(_:)`` when it has no commits.
    func head(namespace: String) async throws -> LogHead

    /// Namespaces with at least one commit, sorted by name, after `after`.
    func namespaces(after: String?, limit: Int) async throws -> [LogHead]

    /// One key at one point in history.
    func get(namespace: String, agentID: String, key: String, at point: StoragePoint) async throws -> StateRecord

    /// Many keys at one point (``StoragePoint/latest`` or ``StoragePoint/commit(_:)``), from one snapshot.
    func get(namespace: String, keys: [KeyAddress], at point: StoragePoint) async throws -> [StateRecord]

    /// Keys of an agent in byte order, latest state only.
    func listKeys(
        namespace: String,
        agentID: String,
        prefix: String,
        after: String?,
        includeDeleted: Bool,
        limit: Int
    ) async throws -> [KeyEntry]

    /// Live keys with values of an agent in byte order, at the latest state or as of a commit_ts.
    func scan(
        namespace: String,
        agentID: String,
        prefix: String,
        after: String?,
        atCommit: CommitTS?,
        limit: Int
    ) async throws -> [StateRecord]

    /// Versions of one key, newest first, with versions below `beforeVersion` when given.
    func history(
        namespace: String,
        agentID: String,
        key: String,
        beforeVersion: Version?,
        limit: Int
    ) async throws -> [StateRecord]

    /// Agents that have written at least one key in the namespace, sorted, after `after`; the reserved agents
    /// (``StatehouseModel/ReservedNames``) only when `includeReserved`.
    func listAgents(namespace: String, after: String?, limit: Int, includeReserved: Bool) async throws -> [String]

    /// What each agent's keys say (live keys, versions, first and last write), from one snapshot; an agent with no
    /// key gets zeros.
    func agentKeyStats(namespace: String, agentIDs: [String]) async throws -> [AgentKeyStats]

    /// Recorded agent events (puts under `@events`) matching `filter`, in the order they were recorded, after the
    /// position `after` (each row's `sequence`, opaque and increasing).
    func agentEvents(
        namespace: String, filter: AgentEventFilter, after: Int64?, limit: Int
    ) async throws -> [(sequence: Int64, record: StateRecord)]

    /// Full-text search in a namespace, best first: `limit` hits after skipping `offset`.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a query the full-text parser refuses,
    ///   naming its reason.
    func search(namespace: String, _ query: SearchQuery, offset: Int, limit: Int) async throws -> [SearchHit]

    /// The metadata of the commits with these commit_ts values (empty metadata for one that has none or does not
    /// exist), in order.
    func commitMetadata(namespace: String, commitTSs: [CommitTS]) async throws -> [CommitMetadata]

    /// Writes a consistent copy of the store into `directory` (created; it must not exist or be empty) while commits
    /// and reads go on, so that a daemon started on it serves the state as of the copy's snapshot.
    func backup(toDirectory directory: String) async throws -> BackupReport

    /// Committed events in commit_ts order: `query.limit` of them, or fewer only when the range has no more
    /// matching events or the values returned reached `query.maxBytes`.
    func events(_ query: EventQuery) async throws -> [Event]

    /// The last commit_ts whose committed_at is at or before `time`; 0 if none.
    func commitTS(namespace: String, atOrBefore time: Microseconds) async throws -> CommitTS

    /// The namespace's Merkle tree over its first `size` events (the whole log when `nil`), from one snapshot.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` when `size` is beyond the end of the log.
    func treeHead(namespace: String, size: UInt64?) async throws -> TreeHead

    /// The stored tree nodes that appending each event completed (the leaf hash, then each parent it closed), for
    /// the events `from…to` in commit_ts order; `verify` compares them with nodes recomputed from the events.
    /// An event whose nodes are missing or unreadable has an empty list.
    func completedTreeNodes(namespace: String, from: CommitTS, to: CommitTS) async throws -> [[EventHash]]

    /// The frontier of the namespace's tree of `size` events: its perfect subtrees' roots, largest first.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` when `size` is beyond the end of the log.
    func treePrefix(namespace: String, size: UInt64) async throws -> [EventHash]

    /// A read with its proof material, all from one snapshot: the record, the tree head of the whole log, the event
    /// that wrote the record's version (`nil` when the key was never written) with its inclusion proof in that tree,
    /// and the consistency proof from `knownTreeSize` when given.
    ///
    /// - Throws: what ``get(namespace:agentID:key:at:)`` throws; ``StatehouseModel/StatehouseError/invalidArgument(_:)``
    ///   when `knownTreeSize` is beyond the log.
    func verifiedRead(
        namespace: String, agentID: String, key: String, at point: StoragePoint, knownTreeSize: UInt64?
    ) async throws -> StorageVerifiedRead

    /// The inclusion proof of the event with `commitTS` in the tree of `treeSize` events (the whole log when `nil`).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` for a namespace without commits,
    ///   ``StatehouseModel/StatehouseError/invalidArgument(_:)`` when `commitTS` is 0 or beyond `treeSize`, or
    ///   `treeSize` beyond the end of the log.
    func inclusionProof(namespace: String, commitTS: CommitTS, treeSize: UInt64?) async throws -> InclusionProof

    /// The consistency proof from the tree of `oldSize` events to the tree of `newSize` (the whole log when `nil`).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` for a namespace without commits,
    ///   ``StatehouseModel/StatehouseError/invalidArgument(_:)`` when `oldSize` is larger than `newSize` or
    ///   `newSize` is beyond the end of the log.
    func consistencyProof(namespace: String, oldSize: UInt64, newSize: UInt64?) async throws -> ConsistencyProof

    // MARK: Retention and expiry (docs/architecture.md, "Retention and expiry")

    /// Every version of an agent's keys after `afterKey`, in (key, version) order, without values: at most `limit`
    /// rows, so the last key may be cut short (the caller asks again from before it).
    func versionSummaries(
        namespace: String, agentID: String, afterKey: String?, limit: Int
    ) async throws -> [VersionSummary]

    /// Removes the values of these versions of an agent's keys, keeping each value's SHA-256 digest (what the event's
    /// leaf holds) in one durable storage transaction; a version that is a delete, already removed or missing is
    /// skipped. Full-text documents of those values go with them.
    func removeValues(namespace: String, agentID: String, versions: [KeyVersion]) async throws -> RemovedValues

    /// Keys whose latest version is a put whose expiry is after `expiredAfter` and at or before `now`, soonest first,
    /// at most `limit` of them, across namespaces.
    func expiredKeys(expiredAfter: Microseconds, now: Microseconds, limit: Int) async throws -> [ExpiredKey]

    /// Puts of a namespace whose expiry is at or before `now`, whose value is still stored and that are no longer their
    /// key's latest version, in (expiry, position) order after `after`, at most `limit`: what a compaction under a
    /// policy that keeps everything still removes, found without reading every version.
    func expiredValues(
        namespace: String, now: Microseconds, after: ExpiredValue.Cursor?, limit: Int
    ) async throws -> [ExpiredValue]

    /// The bytes the store takes on disk (database and WAL); 0 for one in memory.
    func storeFileBytes() async throws -> Int

    /// The bytes of every stored value of a namespace, all versions included (what a stored-bytes quota counts); 0
    /// for a namespace without commits. Reads every version of the namespace: call it once and keep a running total.
    func storedValueBytes(namespace: String) async throws -> Int

    /// Every run of exactly 64 lowercase hex digits in the namespace's stored values, all versions (``DigestScanner``):
    /// the artifacts something refers to.
    func referencedDigests(namespace: String) async throws -> Set<String>

    /// Returns the store's free pages to the file system (SQLite's VACUUM): commits wait while it runs.
    func vacuum() async throws

    /// Finishes pending work and releases files and connections.
    func close() async
}

/// One version of a key as retention looks at it: everything but the value.
public struct VersionSummary: Sendable, Hashable {
    public var key: String
    public var version: Version
    public var commitTS: CommitTS
    public var committedAt: Microseconds
    public var deleted: Bool
    /// Whether retention already removed its value.
    public var valueRemoved: Bool
    public var expiresAt: Microseconds?
    /// Where the version is stored, in the backend's own order (SQLite: the row id): versions written together are
    /// close, and a compaction removes values in this order so that each step rewrites few pages.
    public var position: Int64

    public init(
        key: String, version: Version, commitTS: CommitTS, committedAt: Microseconds, deleted: Bool,
        valueRemoved: Bool, expiresAt: Microseconds?, position: Int64 = 0
    ) {
        self.position = position
        self.key = key
        self.version = version
        self.commitTS = commitTS
        self.committedAt = committedAt
        self.deleted = deleted
        self.valueRemoved = valueRemoved
        self.expiresAt = expiresAt
    }
}

/// A key and one of its versions (with its ``VersionSummary/position``).
public struct KeyVersion: Sendable, Hashable {
    public var key: String
    public var version: Version
    public var position: Int64

    public init(key: String, version: Version, position: Int64 = 0) {
        self.key = key
        self.version = version
        self.position = position
    }
}

/// What ``StorageBackend/removeValues(namespace:agentID:versions:)`` removed.
public struct RemovedValues: Sendable, Hashable {
    public var count: Int
    public var bytes: Int

    public init(count: Int = 0, bytes: Int = 0) {
        self.count = count
        self.bytes = bytes
    }
}

/// A superseded put whose expiry passed (``StorageBackend/expiredValues(namespace:now:after:limit:)``).
public struct ExpiredValue: Sendable, Hashable {
    /// Where a page of them ended: its last (expiry, position).
    public struct Cursor: Sendable, Hashable {
        public var expiresAt: Microseconds
        public var position: Int64

        public init(expiresAt: Microseconds, position: Int64) {
            self.expiresAt = expiresAt
            self.position = position
        }
    }

    public var agentID: String
    public var version: VersionSummary
    /// The commit_ts of the key's next version: the put was current from its own commit until this one.
    public var nextCommitTS: CommitTS

    public init(agentID: String, version: VersionSummary, nextCommitTS: CommitTS) {
        self.agentID = agentID
        self.version = version
        self.nextCommitTS = nextCommitTS
    }

    public var cursor: Cursor { Cursor(expiresAt: self.version.expiresAt ?? 0, position: self.version.position) }
}

/// A key whose latest version expired: the expiry sweep commits its delete, conditioned on that version.
public struct ExpiredKey: Sendable, Hashable {
    public var namespace: String
    public var agentID: String
    public var key: String
    public var version: Version
    public var expiresAt: Microseconds

    public init(namespace: String, agentID: String, key: String, version: Version, expiresAt: Microseconds) {
        self.namespace = namespace
        self.agentID = agentID
        self.key = key
        self.version = version
        self.expiresAt = expiresAt
    }
}

/// What the writer decided for a batch.
public struct BatchResolution: Sendable {
    /// One result per request, in request order.
    public var results: [Result<CommitResult, StatehouseError>]
    /// The events to store, in commit order (duplicates and failures produce none).
    public var events: [Event]
    /// For each event, the index in the batch of the request that produced it.
    public var eventRequestIndices: [Int]
    /// The new head of every namespace that got events.
    public var heads: [String: LogHead]

    public init(
        results: [Result<CommitResult, StatehouseError>],
        events: [Event],
        eventRequestIndices: [Int],
        heads: [String: LogHead]
    ) {
        self.results = results
        self.events = events
        self.eventRequestIndices = eventRequestIndices
        self.heads = heads
    }
}

extension StorageBackend {
    /// ``append(_:tree:after:)`` with the tree's growth computed by the storage.
    public func append(_ events: [Event], after head: LogHead) async throws {
        try await self.append(events, tree: nil, after: head)
    }
}

/// The Merkle tree's growth over events appended to a namespace (``StorageBackend/append(_:tree:after:)``), computed
/// by the caller from the namespace's frontier at the head the events follow.
public struct AppendedTree: Sendable {
    /// For each event, in order, the hashes of the nodes its leaf completed (`MerkleFrontier.appendNodeHashes`): the
    /// bytes stored with the event.
    public var nodeHashes: [[UInt8]]
    /// The namespace's frontier after the last event.
    public var frontier: MerkleFrontier

    public init(nodeHashes: [[UInt8]], frontier: MerkleFrontier) {
        self.nodeHashes = nodeHashes
        self.frontier = frontier
    }

    /// Whether this grows a tree of `size` leaves by `events` events: one node list per event, and a frontier that
    /// many leaves larger. A storage checks it before storing.
    public func fits(events: Int, after size: UInt64) -> Bool {
        self.nodeHashes.count == events && self.frontier.size == size + UInt64(events)
    }
}

/// What ``StorageBackend/verifiedRead(namespace:agentID:key:at:knownTreeSize:)`` returns: a read and its proofs from
/// one snapshot (the engine signs the head).
public struct StorageVerifiedRead: Sendable {
    public var record: StateRecord
    public var head: TreeHead
    public var event: Event?
    public var proof: InclusionProof?
    public var consistency: ConsistencyProof?

    public init(
        record: StateRecord, head: TreeHead, event: Event?, proof: InclusionProof?, consistency: ConsistencyProof?
    ) {
        self.record = record
        self.head = head
        self.event = event
        self.proof = proof
        self.consistency = consistency
    }
}
