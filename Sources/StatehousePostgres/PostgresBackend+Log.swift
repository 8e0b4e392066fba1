import NIOCore
import PostgresNIO
public import StatehouseCore
public import StatehouseLedger
public import StatehouseModel

/// Heads and the log.
extension PostgresBackend {
    /// The end of a namespace's log; ``StatehouseModel/LogHead/empty(_:)`` when it has no commits.
    public func head(namespace: String) async throws -> LogHead {
        try await self.read("reading a head") { connection in
            let rows = try await connection.query(
                """
                SELECT last_commit_ts, last_hash, last_committed_at FROM statehouse_namespaces
                WHERE name = \(namespace) AND last_commit_ts > 0
                """, logger: self.logger)
            for try await (commitTS, hash, committedAt) in rows.decode((Int64, ByteBuffer, Int64).self) {
                let commitTS = PostgresColumns.uint(commitTS)
                return LogHead(
                    namespace: namespace, commitTS: commitTS,
                    hash: try PostgresColumns.hash(hash, commitTS: commitTS), committedAt: committedAt)
            }
            return LogHead.empty(namespace)
        }
    }

    /// Namespaces with at least one commit, sorted by name (bytes, as SQLite sorts), after `after`.
    public func namespaces(after: String?, limit: Int) async throws -> [LogHead] {
        try await self.read("listing namespaces") { connection in
            let rows = try await connection.query(
                """
                SELECT name, last_commit_ts, last_hash, last_committed_at FROM statehouse_namespaces
                WHERE last_commit_ts > 0 AND name COLLATE "C" > \(after ?? "") COLLATE "C"
                ORDER BY name COLLATE "C" LIMIT \(limit)
                """, logger: self.logger)
            var heads: [LogHead] = []
            for try await (name, commitTS, hash, committedAt) in rows.decode((String, Int64, ByteBuffer, Int64).self) {
                let commitTS = PostgresColumns.uint(commitTS)
                heads.append(
                    LogHead(
                        namespace: name, commitTS: commitTS,
                        hash: try PostgresColumns.hash(hash, commitTS: commitTS), committedAt: committedAt))
            }
            return heads
        }
    }

    /// The result of an earlier commit of `txnID`, if it committed.
    public func committedResult(txnID: String) async throws -> CommitResult? {
        try await self.read("reading a commit") { connection in
            try await PostgresQueries.committedResults(txnIDs: [txnID], on: connection, logger: self.logger).first?
                .result
        }
    }

    /// Committed events in commit_ts order, filtered by agent and key prefix: `query.limit` of them, or fewer when the
    /// range has no more matching events or the values returned reached `query.maxBytes` (at least one is returned).
    public func events(_ query: EventQuery) async throws -> [Event] {
        guard query.limit > 0, query.fromCommitTS <= query.toCommitTS else { return [] }
        return try await self.read("reading the log") { connection in
            try await self.events(query, on: connection)
        }
    }

    /// ``events(_:)`` on `connection` (inside the caller's snapshot).
    func events(_ query: EventQuery, on connection: PostgresConnection) async throws -> [Event] {
        guard query.limit > 0, query.fromCommitTS <= query.toCommitTS else { return [] }
        // One statement: the events and their operations from one snapshot. An event matches when one of its
        // operations does; only matching operations are returned, as from SQLite. The page's commit_ts values come
        // first (a scan of the versions' primary key in commit order that stops at `limit` distinct ones), with the
        // namespace's id an uncorrelated scalar subquery, so the page is computed once (correlated, it ran once per
        // event of the range, and a page read near the start of a long log scanned to its end).
        let prefix = query.keyPrefix ?? ""
        let from = PostgresColumns.bound(query.fromCommitTS)
        // Without a filter every commit_ts matches, so the page cannot reach past `from + limit - 1`.
        let unfiltered = query.agentID == nil && prefix.isEmpty
        let pageEnd = from > Int64.max - Int64(query.limit) ? Int64.max : from + Int64(query.limit) - 1
        let to =
            unfiltered ? min(PostgresColumns.bound(query.toCommitTS), pageEnd) : PostgresColumns.bound(query.toCommitTS)
        let rows = try await connection.query(
            """
            WITH n AS MATERIALIZED (
                SELECT id FROM statehouse_namespaces WHERE name = \(query.namespace)
            ), page AS MATERIALIZED (
                SELECT DISTINCT f.commit_ts FROM statehouse_versions f
                WHERE f.ns_id = (SELECT id FROM n) AND f.commit_ts BETWEEN \(from) AND \(to)
                  AND (\(query.agentID == nil) OR f.agent_id = \(query.agentID ?? ""))
                  AND starts_with(f.key, \(prefix))
                ORDER BY f.commit_ts LIMIT \(query.limit)
            )
            SELECT e.commit_ts, e.txn_id, e.committed_at, e.metadata, e.prev_hash, e.hash,
                   v.agent_id, v.key, v.deleted, v.value, v.version, v.expires_at, v.value_digest
            FROM page
            JOIN statehouse_events e ON e.ns_id = (SELECT id FROM n) AND e.commit_ts = page.commit_ts
            JOIN statehouse_versions v ON v.ns_id = e.ns_id AND v.commit_ts = e.commit_ts
            WHERE (\(query.agentID == nil) OR v.agent_id = \(query.agentID ?? ""))
              AND starts_with(v.key, \(prefix))
            ORDER BY e.commit_ts, v.op_index
            """, logger: self.logger)
        var events: [Event] = []
        var bytes = 0
        for try await row in rows.decode(
            (
                Int64, String, Int64, ByteBuffer?, ByteBuffer, ByteBuffer, String, String, Bool, ByteBuffer?,
                Int64, Int64?, ByteBuffer?
            ).self)
        {
            let commitTS = PostgresColumns.uint(row.0)
            if events.last?.commitTS != commitTS {
                if bytes >= query.maxBytes && !events.isEmpty { break }
                var metadata = CommitMetadata()
                if let stored = row.3 {
                    guard let decoded = CanonicalEncoding.decodeMetadata(PostgresColumns.array(stored)) else {
                        throw StatehouseError.dataCorruption(commitTS: commitTS, reason: "unreadable metadata")
                    }
                    metadata = decoded
                }
                events.append(
                    Event(
                        namespace: query.namespace, commitTS: commitTS, txnID: row.1, committedAt: row.2,
                        operations: [], metadata: metadata,
                        prevHash: try PostgresColumns.hash(row.4, commitTS: commitTS),
                        hash: try PostgresColumns.hash(row.5, commitTS: commitTS)))
            }
            // A put whose value the retention policy removed keeps the value's digest instead.
            let removedValueDigest = try row.12.map { try PostgresColumns.hash($0, commitTS: commitTS) }
            let value =
                row.8 || removedValueDigest != nil
                ? nil : JSONValue(trusted: row.9.map(PostgresColumns.array) ?? [])
            bytes += value?.utf8.count ?? 0
            events[events.count - 1].operations.append(
                AppliedOperation(
                    agentID: row.6, key: row.7, kind: row.8 ? .delete : .put, value: value,
                    version: PostgresColumns.uint(row.10), expiresAt: row.11,
                    removedValueDigest: removedValueDigest))
        }
        return events
    }
}

/// The Merkle tree.
extension PostgresBackend {
    /// The namespace's Merkle tree over its first `size` events (the whole log when `nil`), from one snapshot.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` when `size` is beyond the end of the log.
    public func treeHead(namespace: String, size: UInt64?) async throws -> TreeHead {
        try await self.transaction("reading a tree head") { connection in
            // REPEATABLE READ: the head and the nodes from one snapshot.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: self.logger)
            let rows = try await connection.query(
                "SELECT id, last_commit_ts FROM statehouse_namespaces WHERE name = \(namespace)", logger: self.logger)
            var found: (id: Int64, commitTS: UInt64)?
            for try await (id, commitTS) in rows.decode((Int64, Int64).self) {
                found = (id, PostgresColumns.uint(commitTS))
            }
            let last = found?.commitTS ?? 0
            if let size, size > last {
                throw StatehouseError.invalidArgument(
                    "tree size \(size) is beyond the end of the log of namespace '\(namespace)' (it has \(last) events)"
                )
            }
            let treeSize = size ?? last
            guard let found, treeSize > 0 else {
                return TreeHead(namespace: namespace, treeSize: 0, rootHash: MerkleTree.emptyRoot)
            }
            let frontier = try await PostgresMerkleNodes.frontier(
                size: treeSize, namespaceID: found.id, on: connection, logger: self.logger)
            return TreeHead(namespace: namespace, treeSize: treeSize, rootHash: frontier.root)
        }
    }
}
