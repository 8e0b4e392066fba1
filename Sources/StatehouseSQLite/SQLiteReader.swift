import StatehouseCore

/// One read connection and its caches; lives on one reader thread of ``SQLiteBackend``.
///
/// Reads that take several statements run inside one read transaction so they see one snapshot.
final class SQLiteReader: SQLiteConnectionOwner {
    let connection: SQLiteConnection
    /// Namespace ids never change once assigned, so a found id is cached for good; a missing one is not.
    private var namespaceIDs: [String: Int64] = [:]

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    func namespaceID(_ name: String) throws -> Int64? {
        if let id = self.namespaceIDs[name] { return id }
        let statement = try self.connection.statement("SELECT id FROM namespaces WHERE name = ?")
        statement.bind(0, name)
        guard try statement.step() else { return nil }
        let id = statement.int64(0)
        self.namespaceIDs[name] = id
        return id
    }

    /// Runs `body` in one read transaction (one snapshot).
    func snapshot<T>(_ body: () throws -> T) throws -> T {
        try self.connection.statement("BEGIN").run()
        defer {
            self.connection.releaseStatements()
            try? self.connection.statement("COMMIT").run()
        }
        return try body()
    }

    func head(namespace: String) throws -> LogHead {
        let statement = try self.connection.statement(
            "SELECT last_commit_ts, last_hash, last_committed_at FROM namespaces WHERE name = ?"
        )
        statement.bind(0, namespace)
        guard try statement.step() else { return .empty(namespace) }
        return LogHead(
            namespace: namespace,
            commitTS: statement.uint64(0),
            hash: statement.blob(1),
            committedAt: statement.int64(2)
        )
    }

    func namespaces(after: String?, limit: Int) throws -> [LogHead] {
        let statement = try self.connection.statement(
            """
            SELECT name, last_commit_ts, last_hash, last_committed_at FROM namespaces
            WHERE name > ? AND last_commit_ts > 0 ORDER BY name LIMIT ?
            """
        )
        statement.bind(0, after ?? "")
        statement.bind(1, Int64(limit))
        var heads: [LogHead] = []
        while try statement.step() {
            heads.append(
                LogHead(
                    namespace: statement.text(0),
                    commitTS: statement.uint64(1),
                    hash: statement.blob(2),
                    committedAt: statement.int64(3)
                )
            )
        }
        return heads
    }

    func get(namespace: String, agentID: String, key: String, at point: StoragePoint) throws -> StateRecord {
        guard let namespaceID = try self.namespaceID(namespace) else {
            return .missing(agentID: agentID, key: key)
        }
        let statement: SQLiteStatement
        switch point {
        case .latest:
            statement = try self.connection.statement(
                """
                SELECT l.version, l.deleted, v.value, v.commit_ts, v.committed_at
                FROM latest l JOIN versions v ON v.id = l.version_id
                WHERE l.ns_id = ? AND l.agent_id = ? AND l.key = ?
                """
            )
        case .version(let version):
            statement = try self.connection.statement(
                """
                SELECT version, deleted, value, commit_ts, committed_at FROM versions
                WHERE ns_id = ? AND agent_id = ? AND key = ? AND version = ?
                """
            )
            statement.bind(3, version)
        case .commit(let commitTS):
            statement = try self.connection.statement(
                """
                SELECT version, deleted, value, commit_ts, committed_at FROM versions
                WHERE ns_id = ? AND agent_id = ? AND key = ? AND commit_ts <= ?
                ORDER BY version DESC LIMIT 1
                """
            )
            statement.bind(3, SQLiteQueries.sqlInteger(commitTS))
        }
        statement.bind(0, namespaceID)
        statement.bind(1, agentID)
        statement.bind(2, key)
        guard try statement.step() else {
            if case .version(let version) = point {
                let latest = try self.get(namespace: namespace, agentID: agentID, key: key, at: .latest)
                if latest.version > 0 {
                    throw StatehouseError.invalidArgument(
                        "key '\(key.prefix(64))' has no version \(version); its latest version is \(latest.version)"
                    )
                }
            }
            return .missing(agentID: agentID, key: key)
        }
        return Self.record(statement, agentID: agentID, key: key)
    }

    /// Decodes `version, deleted, value, commit_ts, committed_at` starting at `column`.
    static func record(_ statement: SQLiteStatement, agentID: String, key: String, column: Int32 = 0) -> StateRecord {
        let deleted = statement.bool(column + 1)
        return StateRecord(
            agentID: agentID,
            key: key,
            value: deleted ? nil : JSONValue(trusted: statement.blob(column + 2)),
            version: statement.uint64(column),
            commitTS: statement.uint64(column + 3),
            committedAt: statement.int64(column + 4),
            deleted: deleted
        )
    }

    func listKeys(
        namespace: String,
        agentID: String,
        prefix: String,
        after: String?,
        includeDeleted: Bool,
        limit: Int
    ) throws -> [KeyEntry] {
        guard let namespaceID = try self.namespaceID(namespace) else { return [] }
        let statement = try self.connection.statement(
            """
            SELECT key, version, deleted FROM latest
            WHERE ns_id = ?1 AND agent_id = ?2 AND key >= ?3 AND key < ?4 AND key > ?5 AND (deleted = 0 OR ?6)
            ORDER BY key LIMIT ?7
            """
        )
        self.bindKeyRange(statement, namespaceID: namespaceID, agentID: agentID, prefix: prefix, after: after)
        statement.bind(5, includeDeleted)
        statement.bind(6, Int64(limit))
        var entries: [KeyEntry] = []
        while try statement.step() {
            entries.append(KeyEntry(key: statement.text(0), version: statement.uint64(1), deleted: statement.bool(2)))
        }
        return entries
    }

    private func bindKeyRange(
        _ statement: SQLiteStatement,
        namespaceID: Int64,
        agentID: String,
        prefix: String,
        after: String?
    ) {
        statement.bind(0, namespaceID)
        statement.bind(1, agentID)
        statement.bind(2, prefix)
        statement.bindTextBytes(3, SQLiteQueries.upperBound(forPrefix: prefix))
        statement.bind(4, after ?? "")
    }

    func scan(
        namespace: String,
        agentID: String,
        prefix: String,
        after: String?,
        atCommit: CommitTS?,
        limit: Int
    ) throws -> [StateRecord] {
        guard let namespaceID = try self.namespaceID(namespace) else { return [] }
        let statement: SQLiteStatement
        if let atCommit {
            // Per key, the newest version at or before the commit (SQLite returns the bare columns of the MAX row).
            statement = try self.connection.statement(
                """
                SELECT key, MAX(version), deleted, value, commit_ts, committed_at FROM versions
                WHERE ns_id = ?1 AND agent_id = ?2 AND key >= ?3 AND key < ?4 AND key > ?5 AND commit_ts <= ?6
                GROUP BY key HAVING deleted = 0 ORDER BY key LIMIT ?7
                """
            )
            statement.bind(5, SQLiteQueries.sqlInteger(atCommit))
        } else {
            statement = try self.connection.statement(
                """
                SELECT l.key, l.version, l.deleted, v.value, v.commit_ts, v.committed_at
                FROM latest l JOIN versions v ON v.id = l.version_id
                WHERE l.ns_id = ?1 AND l.agent_id = ?2 AND l.key >= ?3 AND l.key < ?4 AND l.key > ?5
                  AND l.deleted = 0
                ORDER BY l.key LIMIT ?7
                """
            )
        }
        self.bindKeyRange(statement, namespaceID: namespaceID, agentID: agentID, prefix: prefix, after: after)
        statement.bind(6, Int64(limit))
        var records: [StateRecord] = []
        while try statement.step() {
            records.append(Self.record(statement, agentID: agentID, key: statement.text(0), column: 1))
        }
        return records
    }

    func history(
        namespace: String,
        agentID: String,
        key: String,
        beforeVersion: Version?,
        limit: Int
    ) throws -> [StateRecord] {
        guard let namespaceID = try self.namespaceID(namespace) else { return [] }
        let statement = try self.connection.statement(
            """
            SELECT version, deleted, value, commit_ts, committed_at FROM versions
            WHERE ns_id = ? AND agent_id = ? AND key = ? AND version < ?
            ORDER BY version DESC LIMIT ?
            """
        )
        statement.bind(0, namespaceID)
        statement.bind(1, agentID)
        statement.bind(2, key)
        statement.bind(3, SQLiteQueries.sqlInteger(beforeVersion ?? .max))
        statement.bind(4, Int64(limit))
        var records: [StateRecord] = []
        while try statement.step() {
            records.append(Self.record(statement, agentID: agentID, key: key))
        }
        return records
    }

    /// Distinct agents by repeated index seeks (one per agent), not by scanning every key.
    func listAgents(namespace: String, after: String?, limit: Int) throws -> [String] {
        guard let namespaceID = try self.namespaceID(namespace) else { return [] }
        let statement = try self.connection.statement(
            "SELECT agent_id FROM latest WHERE ns_id = ? AND agent_id > ? ORDER BY agent_id LIMIT 1"
        )
        var agents: [String] = []
        var last = after ?? ""
        while agents.count < limit {
            statement.reset()
            statement.bind(0, namespaceID)
            statement.bind(1, last)
            guard try statement.step() else { break }
            last = statement.text(0)
            agents.append(last)
        }
        return agents
    }

    func events(_ query: EventQuery) throws -> [Event] {
        guard let namespaceID = try self.namespaceID(query.namespace) else { return [] }
        return try SQLiteQueries.events(query, namespaceID: namespaceID, on: self.connection)
    }

    /// Binary search over the log: committed_at never decreases along commit_ts, so no time index is needed.
    func commitTS(namespace: String, atOrBefore time: Microseconds) throws -> CommitTS {
        guard let namespaceID = try self.namespaceID(namespace) else { return 0 }
        let head = try self.head(namespace: namespace)
        if head.commitTS == 0 { return 0 }
        if head.committedAt <= time { return head.commitTS }
        let statement = try self.connection.statement(
            "SELECT committed_at FROM events WHERE ns_id = ? AND commit_ts = ?"
        )
        var low: CommitTS = 0  // committed_at(low) <= time (0 stands for "before the log")
        var high: CommitTS = head.commitTS  // committed_at(high) > time
        while high - low > 1 {
            let middle = low + (high - low) / 2
            statement.reset()
            statement.bind(0, namespaceID)
            statement.bind(1, middle)
            guard try statement.step() else {
                throw StatehouseError.dataCorruption(commitTS: middle, reason: "event is missing")
            }
            if statement.int64(0) <= time { low = middle } else { high = middle }
        }
        return low
    }
}
