import NIOCore
import PostgresNIO
public import StatehouseCore
import StatehouseLedger
public import StatehouseModel
import Synchronization

/// Commits and imports: the only writes to the log.
extension PostgresBackend {
    /// Decides and stores a batch in one database transaction (see ``PostgresBackend`` for the locking).
    public func commit(_ batch: [CommitRequest], now: Microseconds) async throws -> BatchResolution {
        let known = self.knownNamespaces.withLock { $0 }
        let (resolution, frontiers) = try await self.transaction("committing") {
            connection -> (BatchResolution, [String: (LogHead, MerkleFrontier)]) in
            let state = try await PostgresCommitState.load(
                for: batch, now: now, known: known, on: connection, logger: self.logger)
            let resolution = try CommitResolver.resolve(batch, reader: state, now: now)
            let requests = resolution.eventRequestIndices.map { batch[$0] }
            let frontiers = try await self.store(
                resolution.events, requests: requests, namespaceIDs: state.namespaceIDs, heads: state.heads,
                on: connection)
            return (resolution, frontiers)
        }
        self.remember(frontiers)
        return resolution
    }

    /// Stores events an import decided and checked (``StatehouseCore/LogImport``), after checking under the
    /// namespace's row lock that its head is still `head`.
    public func append(_ events: [Event], leafHashes: [EventHash]?, after head: LogHead) async throws {
        guard !events.isEmpty else { return }
        guard leafHashes == nil || leafHashes?.count == events.count else {
            throw StatehouseError.internalError(
                "internal storage error: \(leafHashes?.count ?? 0) leaf hashes for \(events.count) events")
        }
        let frontiers = try await self.transaction("importing") { connection -> [String: (LogHead, MerkleFrontier)] in
            let locking = CommitRequest(namespace: head.namespace, txnID: "", operations: [], mayBeRetry: false)
            let state = try await PostgresCommitState.load(for: [locking], now: 0, on: connection, logger: self.logger)
            let current = try state.head(namespace: head.namespace)
            guard current.commitTS == head.commitTS, current.hash == head.hash else {
                throw StatehouseError.conflict(agentID: "", key: "", expected: head.commitTS, actual: current.commitTS)
            }
            return try await self.store(
                events, requests: nil, leafHashes: leafHashes, namespaceIDs: state.namespaceIDs, heads: state.heads,
                on: connection)
        }
        self.remember(frontiers)
    }

    private func remember(_ frontiers: [String: (LogHead, MerkleFrontier)]) {
        self.frontiers.withLock { cache in
            for (name, entry) in frontiers { cache[name] = (entry.0, entry.1) }
        }
        self.knownNamespaces.withLock { $0.formUnion(frontiers.keys) }
    }

    /// Inserts the events' rows and moves the heads; returns each namespace's new head and frontier (to cache once the
    /// transaction committed). `requests[i]` is the request of `events[i]`, `nil` for an import (no idempotency key);
    /// `leafHashes[i]`, when given, is the leaf hash of `events[i]`.
    private func store(
        _ events: [Event], requests: [CommitRequest]?, leafHashes: [EventHash]? = nil, namespaceIDs: [String: Int64],
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
                frontiers[event.namespace] = try await self.frontier(
                    of: before, namespaceID: namespaceID, on: connection)
            }
            let completed = frontiers[event.namespace]!.append(
                leafHash: leafHashes?[index] ?? LeafEncoding.leafHash(event))
            var nodes: [UInt8] = []
            nodes.reserveCapacity(completed.count * 32)
            for node in completed { node.hash.append(to: &nodes) }
            rows.add(event, namespaceID: namespaceID, request: requests?[index], merkleNodes: nodes)
            newHeads[event.namespace] = LogHead(
                namespace: event.namespace, commitTS: event.commitTS, hash: event.hash,
                committedAt: event.committedAt)
        }
        try await rows.insert(on: connection, logger: self.logger)
        try await PostgresSearchIndex.didStore(
            events, namespaceIDs: namespaceIDs, indexState: self.searchState, on: connection, logger: self.logger)
        let names = newHeads.keys.sorted()
        let ids = names.map { namespaceIDs[$0]! }
        let commitTSs = names.map { PostgresColumns.int(newHeads[$0]!.commitTS) }
        let hashes = names.map { PostgresColumns.bytes(newHeads[$0]!.hash) }
        let times = names.map { newHeads[$0]!.committedAt }
        // The heads move and watchers on other daemons hear of them in one statement (one round trip). PostgreSQL
        // delivers a transaction's notifications at its commit, and none if it rolls back.
        try await connection.query(
            """
            WITH moved AS (
                UPDATE statehouse_namespaces AS n
                SET last_commit_ts = h.commit_ts, last_hash = h.hash, last_committed_at = h.committed_at
                FROM unnest(\(ids)::bigint[], \(commitTSs)::bigint[], \(hashes)::bytea[], \(times)::bigint[],
                            \(names)::text[])
                    AS h(id, commit_ts, hash, committed_at, name)
                WHERE n.id = h.id
                RETURNING h.name, h.commit_ts
            )
            SELECT pg_notify(\(PostgresBackend.changesChannel), name || ' ' || commit_ts) FROM moved
            """, logger: self.logger)
        var result: [String: (LogHead, MerkleFrontier)] = [:]
        for name in names { result[name] = (newHeads[name]!, frontiers[name]!) }
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
private struct EventRows {
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

    /// Both tables in one statement (one round trip): the versions' foreign key on their event is checked at the end
    /// of the statement, when the events are in.
    func insert(on connection: PostgresConnection, logger: Logger) async throws {
        let versions = self.versions
        try await connection.query(
            """
            WITH inserted_events AS (
            INSERT INTO statehouse_events(ns_id, commit_ts, txn_id, committed_at, op_count, metadata, idempotency_key,
                                          request_digest, prev_hash, hash, merkle_nodes)
            SELECT ns_id, commit_ts, txn_id, committed_at, op_count, NULLIF(metadata, ''::bytea),
                NULLIF(idempotency_key, ''), CASE WHEN idempotency_key = '' THEN NULL ELSE request_digest END,
                prev_hash, hash, merkle_nodes
            FROM unnest(\(self.namespaceIDs)::bigint[], \(self.commitTSs)::bigint[], \(self.txnIDs)::text[],
                        \(self.committedAts)::bigint[], \(self.operationCounts)::int[], \(self.metadata)::bytea[],
                        \(self.idempotencyKeys)::text[], \(self.requestDigests)::bytea[], \(self.prevHashes)::bytea[],
                        \(self.hashes)::bytea[], \(self.merkleNodes)::bytea[])
                AS e(ns_id, commit_ts, txn_id, committed_at, op_count, metadata, idempotency_key, request_digest,
                     prev_hash, hash, merkle_nodes)
            )
            INSERT INTO statehouse_versions(ns_id, commit_ts, op_index, agent_id, key, version, committed_at, deleted,
                                            value, value_digest, expires_at)
            SELECT ns_id, commit_ts, op_index, agent_id, key, version, committed_at, deleted,
                CASE WHEN deleted OR digest <> ''::bytea THEN NULL ELSE value END, NULLIF(digest, ''::bytea),
                CASE WHEN expires THEN expires_at END
            FROM unnest(\(versions.namespaceIDs)::bigint[], \(versions.commitTSs)::bigint[], \(versions.indexes)::int[],
                        \(versions.agentIDs)::text[], \(versions.keys)::text[], \(versions.versions)::bigint[],
                        \(versions.committedAts)::bigint[], \(versions.deleted)::boolean[], \(versions.values)::bytea[],
                        \(versions.digests)::bytea[], \(versions.expires)::boolean[], \(versions.expiresAts)::bigint[])
                AS v(ns_id, commit_ts, op_index, agent_id, key, version, committed_at, deleted, value, digest,
                     expires, expires_at)
            """, logger: logger)
    }
}

/// One row per operation: the key's new version (a delete stores no value).
private struct VersionRows {
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
