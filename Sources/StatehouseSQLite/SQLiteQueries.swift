import StatehouseCore

/// Queries shared by the writer and the readers.
enum SQLiteQueries {
    /// Bytes that sort after every valid UTF-8 string: an upper bound for "every key with this prefix".
    static let aboveAnyKey: [UInt8] = [0xF4, 0x90]

    /// The exclusive upper bound of the keys that start with `prefix`.
    static func upperBound(forPrefix prefix: String) -> [UInt8] {
        Array(prefix.utf8) + self.aboveAnyKey
    }

    /// Converts a commit_ts to SQLite's signed integers, saturating (commit_ts never comes near 2^63).
    static func sqlInteger(_ commitTS: CommitTS) -> Int64 {
        commitTS > UInt64(Int64.max) ? Int64.max : Int64(commitTS)
    }

    /// The commit_ts of the last write to any key of an agent (one seek on `versions_by_agent`); 0 when it has none.
    static func lastCommitTS(namespaceID: Int64, agentID: String, on connection: SQLiteConnection) throws -> CommitTS {
        let statement = try connection.statement(
            """
            SELECT commit_ts FROM versions INDEXED BY versions_by_agent
            WHERE ns_id = ? AND agent_id = ? ORDER BY commit_ts DESC LIMIT 1
            """
        )
        statement.bind(0, namespaceID)
        statement.bind(1, agentID)
        guard try statement.step() else { return 0 }
        return statement.uint64(0)
    }

    static func committedResult(txnID: String, on connection: SQLiteConnection) throws -> CommitResult? {
        let event = try connection.statement(
            """
            SELECT n.name, e.commit_ts, e.committed_at, e.first_version_id, e.op_count, e.hash
            FROM events e JOIN namespaces n ON n.id = e.ns_id WHERE e.txn_id = ?
            """
        )
        event.bind(0, txnID)
        guard try event.step() else { return nil }
        let namespace = event.text(0)
        let commitTS = event.uint64(1)
        let committedAt = event.int64(2)
        let firstVersionID = event.int64(3)
        let count = event.int64(4)
        let hash = try self.hash(event, column: 5, commitTS: commitTS)
        let versions = try connection.statement("SELECT version FROM versions WHERE id >= ? AND id < ? ORDER BY id")
        versions.bind(0, firstVersionID)
        versions.bind(1, firstVersionID + count)
        var numbers: [Version] = []
        while try versions.step() { numbers.append(versions.uint64(0)) }
        return CommitResult(
            namespace: namespace,
            txnID: txnID,
            commitTS: commitTS,
            committedAt: committedAt,
            versions: numbers,
            hash: hash
        )
    }

    /// Reads events of one namespace, grouped from one row per operation.
    ///
    /// - Parameter beforeMigration5: read a database migration 5 has not reached yet (migration 2 builds the tree
    ///   with this): it has no expiry or removed-value columns, and no event has either.
    static func events(
        _ query: EventQuery, namespaceID: Int64, on connection: SQLiteConnection, beforeMigration5: Bool = false
    ) throws -> [Event] {
        let retentionColumns = beforeMigration5 ? "NULL, NULL" : "v.expires_at, v.value_digest"
        guard query.limit > 0, query.fromCommitTS <= query.toCommitTS else { return [] }
        let statement: SQLiteStatement
        var upper = query.toCommitTS
        if let agentID = query.agentID {
            statement = try connection.statement(
                """
                SELECT e.commit_ts, e.txn_id, e.committed_at, e.metadata, e.prev_hash, e.hash,
                       v.agent_id, v.key, v.version, v.deleted, v.value, e.op_count, \(retentionColumns)
                FROM versions v JOIN events e ON e.ns_id = v.ns_id AND e.commit_ts = v.commit_ts
                WHERE v.ns_id = ?1 AND v.agent_id = ?4 AND v.commit_ts >= ?2 AND v.commit_ts <= ?3
                ORDER BY v.commit_ts, v.id
                """
            )
            statement.bind(3, agentID)
        } else {
            if query.keyPrefix == nil {
                // commit_ts is gap-free, so `limit` events end at from + limit - 1.
                let (end, overflow) = query.fromCommitTS.addingReportingOverflow(UInt64(query.limit) - 1)
                if !overflow { upper = min(upper, end) }
            }
            statement = try connection.statement(
                """
                SELECT e.commit_ts, e.txn_id, e.committed_at, e.metadata, e.prev_hash, e.hash,
                       v.agent_id, v.key, v.version, v.deleted, v.value, e.op_count, \(retentionColumns)
                FROM events e JOIN versions v ON v.id >= e.first_version_id AND v.id < e.first_version_id + e.op_count
                WHERE e.ns_id = ?1 AND e.commit_ts >= ?2 AND e.commit_ts <= ?3
                ORDER BY e.commit_ts, v.id
                """
            )
        }
        statement.bind(0, namespaceID)
        statement.bind(1, self.sqlInteger(query.fromCommitTS))
        statement.bind(2, self.sqlInteger(upper))

        var events: [Event] = []
        events.reserveCapacity(min(query.limit, 1024))
        var current: Event?
        var bytes = 0
        while try statement.step() {
            let commitTS = statement.uint64(0)
            if current?.commitTS != commitTS {
                // Moved out, not copied: a copy retains and then releases each of the event's references.
                if let finished = current.take(), !finished.operations.isEmpty {
                    events.append(finished)
                    if events.count == query.limit || bytes >= query.maxBytes { return events }
                }
                var operations: [AppliedOperation] = []
                operations.reserveCapacity(query.agentID == nil ? Int(statement.int64(11)) : 1)
                current = Event(
                    namespace: query.namespace,
                    commitTS: commitTS,
                    txnID: statement.text(1),
                    committedAt: statement.int64(2),
                    operations: operations,
                    metadata: try self.metadata(statement, column: 3, commitTS: commitTS),
                    prevHash: try self.hash(statement, column: 4, commitTS: commitTS),
                    hash: try self.hash(statement, column: 5, commitTS: commitTS)
                )
            }
            let deleted = statement.bool(9)
            // A put whose value the retention policy removed keeps the value's digest instead.
            let removedValueDigest = statement.isNull(13) ? nil : statement.hash(13)
            let operation = AppliedOperation(
                agentID: statement.text(6),
                key: statement.text(7),
                kind: deleted ? .delete : .put,
                value: deleted || removedValueDigest != nil ? nil : JSONValue(trusted: statement.blob(10)),
                version: statement.uint64(8),
                expiresAt: statement.isNull(12) ? nil : statement.int64(12),
                removedValueDigest: removedValueDigest
            )
            if query.keeps(operation) {
                bytes += operation.value?.utf8.count ?? 0
                current!.operations.append(operation)
            }
        }
        if let finished = current.take(), !finished.operations.isEmpty { events.append(finished) }
        return events
    }

    /// A stored hash, or a corruption error naming the commit it belongs to.
    static func hash(_ statement: SQLiteStatement, column: Int32, commitTS: CommitTS) throws -> EventHash {
        guard let hash = statement.hash(column) else {
            throw StatehouseError.dataCorruption(commitTS: commitTS, reason: "a stored hash is not 32 bytes")
        }
        return hash
    }

    private static func metadata(
        _ statement: SQLiteStatement, column: Int32, commitTS: CommitTS
    ) throws -> CommitMetadata {
        if statement.isNull(column) { return CommitMetadata() }
        guard let metadata = CanonicalEncoding.decodeMetadata(statement.blob(column)) else {
            throw StatehouseError.dataCorruption(commitTS: commitTS, reason: "stored metadata is unreadable")
        }
        return metadata
    }
}
