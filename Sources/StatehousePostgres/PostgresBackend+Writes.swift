import NIOCore
import PostgresNIO
public import StatehouseCore
import StatehouseLedger
public import StatehouseModel
import Synchronization

/// Commits and imports: the only writes to the log.
extension PostgresBackend {
    /// Decides and stores a batch: from this daemon's cache with one statement when it can (``PostgresCommitCache``),
    /// else in one database transaction that locks the heads first (see ``PostgresBackend`` for the locking).
    public func commit(_ batch: [CommitRequest], now: Microseconds) async throws -> BatchResolution {
        if let resolution = try await self.commitFromCache(batch, now: now) { return resolution }
        let known = self.knownNamespaces.withLock { $0 }
        let (resolution, frontiers, seeds) = try await self.transaction("committing") {
            connection -> (BatchResolution, [String: (LogHead, MerkleFrontier)], [String: CacheSeed]) in
            let state = try await PostgresCommitState.load(
                for: batch, now: now, known: known, on: connection, logger: self.logger)
            let resolution = try CommitResolver.resolve(batch, reader: state, now: now)
            let requests = resolution.eventRequestIndices.map { batch[$0] }
            let frontiers = try await self.store(
                resolution.events, requests: requests, namespaceIDs: state.namespaceIDs, heads: state.heads,
                on: connection)
            var seeds: [String: CacheSeed] = [:]
            for (name, locked) in state.heads {
                guard let namespaceID = state.namespaceIDs[name] else { continue }
                seeds[name] = CacheSeed(
                    namespaceID: namespaceID, locked: locked, latest: state.latestVersions(namespace: name))
            }
            return (resolution, frontiers, seeds)
        }
        self.remember(frontiers)
        // What the batch read under the lock, and what it wrote, is each namespace's state at its new head. The caches
        // are changed in place: a copy of one would copy every key it holds. With indexed state no batch can be
        // decided from a cache, so none is kept.
        guard !self.searchState else { return resolution }
        self.commitCaches.withLock { caches in
            for (name, seed) in seeds {
                caches.update(name) { cache in
                    if cache?.head != seed.locked {
                        cache = PostgresCommitCache(namespaceID: seed.namespaceID, head: seed.locked)
                    }
                    for (key, state) in seed.latest { cache!.note(key, state) }
                    let events = resolution.events.filter { $0.namespace == name }
                    cache!.advance(by: events, to: resolution.heads[name] ?? seed.locked)
                }
            }
        }
        return resolution
    }

    /// What a locking commit read of a namespace, for this daemon's cache of it.
    private struct CacheSeed: Sendable {
        var namespaceID: Int64
        var locked: LogHead
        var latest: [PostgresCommitCache.Key: StoredVersionState?]
    }

    /// A batch decided from the cache, ready for ``PostgresCommitStatements/StoreBatchIfHead``.
    private struct CachedPlan: Sendable {
        var resolution: BatchResolution
        var expected: LogHead
        var head: LogHead
        var namespaceID: Int64
        var frontier: MerkleFrontier
        var rows: EventRows
    }

    /// What the statement of a batch decided from the cache did.
    private enum CachedStore: Sendable {
        case stored
        /// Another commit moved the head: nothing stored.
        case headMoved
        /// A transaction id of the batch was stored before (a retry): nothing stored.
        case transactionStored
    }

    /// Decides `batch` from this daemon's cache and stores it with one statement outside a transaction
    /// (``PostgresCommitStatements/StoreBatchIfHead``); `nil` when the batch must take the locking path: the cache
    /// cannot decide it, a transaction of it failed (a conflict is only reported from under the lock), or another
    /// commit moved the head (the cache is then dropped).
    private func commitFromCache(_ batch: [CommitRequest], now: Microseconds) async throws -> BatchResolution? {
        guard let namespace = batch.first?.namespace,
            let unknown = self.commitCaches.withLock({ caches in
                caches.mayTry(namespace) ? caches[namespace]?.unknownKeys(batch, indexState: self.searchState) : nil
            })
        else { return nil }
        if !unknown.isEmpty {
            guard try await self.cacheLatestVersions(of: unknown, namespace: namespace) else { return nil }
        }
        guard let plan = self.planFromCache(batch, now: now) else { return nil }
        let outcome: CachedStore
        do {
            outcome = try await self.autocommit("committing") { connection in
                do {
                    let stored = try await plan.rows.store(
                        ifHead: plan.expected, becomes: plan.head, namespaceID: plan.namespaceID, on: connection,
                        logger: self.logger)
                    return stored ? .stored : .headMoved
                } catch let error as PSQLError
                    where error.serverInfo?[.sqlState] == "23505"
                    && error.serverInfo?[.constraintName] == "statehouse_events_by_txn"
                {
                    return .transactionStored
                }
            }
        } catch {
            // The statement may or may not have committed: the next batch reads the head again.
            self.forgetCommitCache(namespace)
            throw error
        }
        switch outcome {
        case .stored: break
        case .headMoved:
            self.commitCaches.withLock { $0.missed(namespace) }
            return nil
        case .transactionStored:
            // Nothing was stored and the cache still holds; the lock finds the earlier commit and returns its result.
            return nil
        }
        self.countBatchCommittedFromCache()
        self.remember([namespace: (plan.head, plan.frontier)])
        self.commitCaches.withLock { caches in
            caches.update(namespace) { cache in
                guard cache?.head == plan.expected else { return }
                cache!.advance(by: plan.resolution.events, to: plan.head)
            }
        }
        return plan.resolution
    }

    /// Reads the latest versions of `keys` into the namespace's cache, with one statement outside a transaction that
    /// also reads the head; `false` (the cache dropped and paused) when the head is no longer the cache's.
    private func cacheLatestVersions(of keys: [PostgresCommitCache.Key], namespace: String) async throws -> Bool {
        let known = self.commitCaches.withLock { caches in caches[namespace].map { ($0.namespaceID, $0.head) } }
        guard let (namespaceID, head) = known else { return false }
        let statement = PostgresCommitStatements.LatestVersionsAtHead(
            agentIDs: keys.map(\.agentID), keys: keys.map(\.key), namespaceID: namespaceID)
        let rows = try await self.read("committing") { connection in
            var rows: [PostgresCommitStatements.LatestVersionsAtHead.Row] = []
            for try await row in try await connection.execute(statement, logger: self.logger) { rows.append(row) }
            return rows
        }
        let headHash = PostgresColumns.bytes(head.hash)
        guard rows.count == keys.count,
            rows.allSatisfy({ PostgresColumns.uint($0.0) == head.commitTS && $0.1 == headHash })
        else {
            self.commitCaches.withLock { $0.missed(namespace) }
            return false
        }
        return self.commitCaches.withLock { caches in
            var added = false
            caches.update(namespace) { cache in
                guard cache?.head == head else { return }
                for (_, _, agentID, key, version, deleted, expiresAt) in rows {
                    cache!.note(
                        PostgresCommitCache.Key(agentID: agentID, key: key),
                        version.map {
                            StoredVersionState(
                                version: PostgresColumns.uint($0), deleted: deleted ?? false, expiresAt: expiresAt)
                        })
                }
                added = true
            }
            return added
        }
    }

    /// The batch decided from the cache, with its rows; the copy of the cache it reads is gone when this returns, so
    /// that the cache is then changed in place. ``commitFromCache(_:now:)`` already checked that the batch may be
    /// decided from a cache; a key missing after all (the budget dropped it) makes the resolver's question throw,
    /// and the batch takes the lock.
    private func planFromCache(_ batch: [CommitRequest], now: Microseconds) -> CachedPlan? {
        guard let namespace = batch.first?.namespace,
            let cache = self.commitCaches.withLock({ $0[namespace] }),
            let cachedTree = self.frontiers.withLock({ $0[namespace] }), cachedTree.head == cache.head,
            let resolution = try? CommitResolver.resolve(
                batch, reader: CachedCommitState(cache: cache, now: now), now: now),
            let head = resolution.heads[namespace], !resolution.events.isEmpty,
            resolution.results.allSatisfy({ (try? $0.get()) != nil })
        else { return nil }
        var frontier = cachedTree.frontier
        var rows = EventRows()
        for (index, event) in resolution.events.enumerated() {
            let nodes = frontier.appendNodeHashes(leafHash: LeafEncoding.leafHash(event))
            rows.add(
                event, namespaceID: cache.namespaceID, request: batch[resolution.eventRequestIndices[index]],
                merkleNodes: nodes)
        }
        return CachedPlan(
            resolution: resolution, expected: cache.head, head: head, namespaceID: cache.namespaceID,
            frontier: frontier, rows: rows)
    }

    private func forgetCommitCache(_ namespace: String) {
        self.commitCaches.withLock { $0.forget(namespace) }
    }

    /// Stores events an import decided and checked (``StatehouseCore/LogImport``), after checking under the
    /// namespace's row lock that its head is still `head`.
    public func append(_ events: [Event], tree: AppendedTree?, after head: LogHead) async throws {
        guard !events.isEmpty else { return }
        let frontiers = try await self.transaction("importing") { connection -> [String: (LogHead, MerkleFrontier)] in
            let locking = CommitRequest(namespace: head.namespace, txnID: "", operations: [], mayBeRetry: false)
            let state = try await PostgresCommitState.load(for: [locking], now: 0, on: connection, logger: self.logger)
            let current = try state.head(namespace: head.namespace)
            guard current.commitTS == head.commitTS, current.hash == head.hash else {
                throw StatehouseError.conflict(agentID: "", key: "", expected: head.commitTS, actual: current.commitTS)
            }
            return try await self.store(
                events, requests: nil, tree: tree, namespaceIDs: state.namespaceIDs, heads: state.heads,
                on: connection)
        }
        self.remember(frontiers)
        self.forgetCommitCache(head.namespace)
    }

    private func remember(_ frontiers: [String: (LogHead, MerkleFrontier)]) {
        self.frontiers.withLock { cache in
            for (name, entry) in frontiers { cache[name] = (entry.0, entry.1) }
        }
        self.knownNamespaces.withLock { $0.formUnion(frontiers.keys) }
    }

    /// Inserts the events' rows and moves the heads; returns each namespace's new head and frontier (to cache once the
    /// transaction committed). `requests[i]` is the request of `events[i]`, `nil` for an import (no idempotency key);
    /// `tree`, when given, is the tree's growth over `events`, all of one namespace (an import).
    private func store(
        _ events: [Event], requests: [CommitRequest]?, tree: AppendedTree? = nil, namespaceIDs: [String: Int64],
        heads: [String: LogHead],
        on connection: PostgresConnection
    ) async throws -> [String: (LogHead, MerkleFrontier)] {
        guard !events.isEmpty else { return [:] }
        var frontiers: [String: MerkleFrontier] = [:]
        var newHeads: [String: LogHead] = [:]
        var rows = EventRows()
        for (index, event) in events.enumerated() {
            guard let namespaceID = namespaceIDs[event.namespace], let before = heads[event.namespace] else {
                throw StatehouseError.internalError("internal storage error: an event of an unlocked namespace")
            }
            if frontiers[event.namespace] == nil {
                let frontier = try await self.frontier(of: before, namespaceID: namespaceID, on: connection)
                if let tree, !tree.fits(events: events.count, after: frontier.size) {
                    throw StatehouseError.internalError(
                        "internal storage error: a tree of \(tree.frontier.size) leaves does not follow "
                            + "\(frontier.size) by \(events.count) events")
                }
                frontiers[event.namespace] = tree?.frontier ?? frontier
            }
            let nodes =
                tree?.nodeHashes[index]
                ?? frontiers[event.namespace]!.appendNodeHashes(leafHash: LeafEncoding.leafHash(event))
            rows.add(event, namespaceID: namespaceID, request: requests?[index], merkleNodes: nodes)
            newHeads[event.namespace] = LogHead(
                namespace: event.namespace, commitTS: event.commitTS, hash: event.hash,
                committedAt: event.committedAt)
        }
        try await rows.store(heads: newHeads, namespaceIDs: namespaceIDs, on: connection, logger: self.logger)
        try await PostgresSearchIndex.didStore(
            events, namespaceIDs: namespaceIDs, indexState: self.searchState, on: connection, logger: self.logger)
        var result: [String: (LogHead, MerkleFrontier)] = [:]
        for (name, head) in newHeads { result[name] = (head, frontiers[name]!) }
        return result
    }

    /// The namespace's Merkle frontier at `head`: this daemon's own when its last commit there made that head, else
    /// read from the stored nodes (another daemon committed since).
    private func frontier(
        of head: LogHead, namespaceID: Int64, on connection: PostgresConnection
    ) async throws -> MerkleFrontier {
        if let cached = self.frontiers.withLock({ $0[head.namespace] }), cached.head == head {
            return cached.frontier
        }
        return try await PostgresMerkleNodes.frontier(
            size: head.commitTS, namespaceID: namespaceID, on: connection, logger: self.logger)
    }
}

/// The rows of a batch's events and versions, as columns, inserted with one statement (`unnest` of arrays): a batch
/// costs one round trip whatever its size. Arrays cannot hold NULL here (postgres-nio encodes arrays of non-optional
/// values), so an empty value stands for NULL where the column has no empty value of its own: metadata (never stored
/// empty), idempotency keys (never empty) and their digests.
private struct EventRows: Sendable {
    var namespaceIDs: [Int64] = []
    var commitTSs: [Int64] = []
    var txnIDs: [String] = []
    var committedAts: [Int64] = []
    var operationCounts: [Int32] = []
    var metadata: [ByteBuffer] = []
    var idempotencyKeys: [String] = []
    var requestDigests: [ByteBuffer] = []
    var prevHashes: [ByteBuffer] = []
    var hashes: [ByteBuffer] = []
    var merkleNodes: [ByteBuffer] = []
    var versions = VersionRows()

    mutating func add(_ event: Event, namespaceID: Int64, request: CommitRequest?, merkleNodes: [UInt8]) {
        self.namespaceIDs.append(namespaceID)
        self.commitTSs.append(PostgresColumns.int(event.commitTS))
        self.txnIDs.append(event.txnID)
        self.committedAts.append(event.committedAt)
        self.operationCounts.append(Int32(event.operations.count))
        var metadata: [UInt8] = []
        if !event.metadata.isEmpty { CanonicalEncoding.appendMetadata(event.metadata, to: &metadata) }
        self.metadata.append(ByteBuffer(bytes: metadata))
        self.idempotencyKeys.append(request?.idempotencyKey ?? "")
        self.requestDigests.append(ByteBuffer(bytes: request?.idempotencyKey == nil ? [] : request!.requestDigest))
        self.prevHashes.append(PostgresColumns.bytes(event.prevHash))
        self.hashes.append(PostgresColumns.bytes(event.hash))
        self.merkleNodes.append(ByteBuffer(bytes: merkleNodes))
        for (index, operation) in event.operations.enumerated() {
            self.versions.add(operation, index: index, of: event, namespaceID: namespaceID)
        }
    }

    /// Both tables and the namespaces' new heads in one statement (``PostgresCommitStatements/StoreBatch``).
    func store(
        heads: [String: LogHead], namespaceIDs: [String: Int64], on connection: PostgresConnection, logger: Logger
    ) async throws {
        var bindings = self.rowBindings(capacity: 29)
        let names = heads.keys.sorted()
        bindings.append(names.map { namespaceIDs[$0]! })
        bindings.append(names.map { PostgresColumns.int(heads[$0]!.commitTS) })
        bindings.append(names.map { PostgresColumns.bytes(heads[$0]!.hash) })
        bindings.append(names.map { heads[$0]!.committedAt })
        bindings.append(names)
        bindings.append(PostgresBackend.changesChannel)
        let moved = try await connection.execute(
            PostgresCommitStatements.StoreBatch(bindings: bindings), logger: logger)
        for try await count in moved where count != names.count {
            throw StatehouseError.internalError("internal storage error: \(count) of \(names.count) heads moved")
        }
    }

    /// Both tables and the namespace's new head, if its head is still `expected`
    /// (``PostgresCommitStatements/StoreBatchIfHead``); `false` when nothing was stored.
    func store(
        ifHead expected: LogHead, becomes head: LogHead, namespaceID: Int64, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Bool {
        var bindings = self.rowBindings(capacity: 30)
        bindings.append(namespaceID)
        bindings.append(PostgresColumns.int(expected.commitTS))
        bindings.append(PostgresColumns.bytes(expected.hash))
        bindings.append(PostgresColumns.int(head.commitTS))
        bindings.append(PostgresColumns.bytes(head.hash))
        bindings.append(head.committedAt)
        bindings.append(PostgresBackend.changesChannel)
        var stored = false
        for try await count in try await connection.execute(
            PostgresCommitStatements.StoreBatchIfHead(bindings: bindings), logger: logger)
        {
            stored = count == 1
        }
        return stored
    }

    /// The events' and versions' columns: the first 23 parameters of both statements.
    private func rowBindings(capacity: Int) -> PostgresBindings {
        let versions = self.versions
        var bindings = PostgresBindings(capacity: capacity)
        bindings.append(self.namespaceIDs)
        bindings.append(self.commitTSs)
        bindings.append(self.txnIDs)
        bindings.append(self.committedAts)
        bindings.append(self.operationCounts)
        bindings.append(self.metadata)
        bindings.append(self.idempotencyKeys)
        bindings.append(self.requestDigests)
        bindings.append(self.prevHashes)
        bindings.append(self.hashes)
        bindings.append(self.merkleNodes)
        bindings.append(versions.namespaceIDs)
        bindings.append(versions.commitTSs)
        bindings.append(versions.indexes)
        bindings.append(versions.agentIDs)
        bindings.append(versions.keys)
        bindings.append(versions.versions)
        bindings.append(versions.committedAts)
        bindings.append(versions.deleted)
        bindings.append(versions.values)
        bindings.append(versions.digests)
        bindings.append(versions.expires)
        bindings.append(versions.expiresAts)
        return bindings
    }
}

/// One row per operation: the key's new version (a delete stores no value).
private struct VersionRows: Sendable {
    var namespaceIDs: [Int64] = []
    var commitTSs: [Int64] = []
    var indexes: [Int32] = []
    var agentIDs: [String] = []
    var keys: [String] = []
    var versions: [Int64] = []
    var committedAts: [Int64] = []
    var deleted: [Bool] = []
    var values: [ByteBuffer] = []
    /// The digest kept for a value the retention policy removed (a store copied with its history); empty for none.
    var digests: [ByteBuffer] = []
    var expires: [Bool] = []
    var expiresAts: [Int64] = []

    mutating func add(_ operation: AppliedOperation, index: Int, of event: Event, namespaceID: Int64) {
        self.namespaceIDs.append(namespaceID)
        self.commitTSs.append(PostgresColumns.int(event.commitTS))
        self.indexes.append(Int32(index))
        self.agentIDs.append(operation.agentID)
        self.keys.append(operation.key)
        self.versions.append(PostgresColumns.int(operation.version))
        self.committedAts.append(event.committedAt)
        let deleted = operation.kind == .delete
        self.deleted.append(deleted)
        self.values.append(ByteBuffer(bytes: deleted ? [] : operation.value?.utf8 ?? []))
        var digest: [UInt8] = []
        operation.removedValueDigest?.append(to: &digest)
        self.digests.append(ByteBuffer(bytes: digest))
        self.expires.append(operation.expiresAt != nil)
        self.expiresAts.append(operation.expiresAt ?? 0)
    }
}
