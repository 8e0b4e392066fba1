import StatehouseCore

/// One read connection and its caches; lives on one reader thread of ``SQLiteBackend``.
///
/// Reads that take several statements run inside one read transaction so they see one snapshot.
final class SQLiteReader: SQLiteConnectionOwner {
    let connection: SQLiteConnection
    /// Namespace ids never change once assigned, so a found id is cached for good; a missing one is not.
    private var namespaceIDs: [String: Int64] = [:]
    /// Merkle tree nodes read before (they never change once committed).
    let nodeCache = SQLiteMerkleNodes.Cache()
    /// The wall clock latest reads compare expiries with.
    private let clock: any StatehouseClock

    init(connection: SQLiteConnection, clock: any StatehouseClock = SystemClock()) {
        self.connection = connection
        self.clock = clock
    }

    /// The columns ``record(_:agentID:key:column:)`` decodes, in order.
    static let recordColumns = "version, deleted, value, commit_ts, committed_at, expires_at, value_digest IS NOT NULL"

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
            hash: try SQLiteQueries.hash(statement, column: 1, commitTS: statement.uint64(0)),
            committedAt: statement.int64(2)
        )
    }

    func storedValueBytes(namespace: String) throws -> Int {
        let statement = try self.connection.statement(
            """
            SELECT COALESCE(SUM(LENGTH(value)), 0) FROM versions
            WHERE ns_id = (SELECT id FROM namespaces WHERE name = ?)
            """
        )
        statement.bind(0, namespace)
        guard try statement.step() else { return 0 }
        return Int(statement.int64(0))
    }

    /// Every run of exactly 64 lowercase hex digits inside the namespace's stored values, every version's (what an
    /// artifact collection keeps). Reads every value: a full pass over the namespace.
    func referencedDigests(namespace: String) throws -> Set<String> {
        let statement = try self.connection.statement(
            """
            SELECT value FROM versions
            WHERE ns_id = (SELECT id FROM namespaces WHERE name = ?) AND value IS NOT NULL
            """
        )
        statement.bind(0, namespace)
        var digests: Set<String> = []
        while try statement.step() {
            DigestScanner.scan(statement.blob(0), into: &digests)
        }
        return digests
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
                    hash: try SQLiteQueries.hash(statement, column: 2, commitTS: statement.uint64(1)),
                    committedAt: statement.int64(3)
                )
            )
        }
        return heads
    }

    /// Refuses a read "as of commit_ts S" beyond the end of the log: that state does not exist (yet), and the read
    /// would otherwise silently be the latest state. Checked in the same snapshot as the read, with one index seek.
    func requireWithinLog(_ commitTS: CommitTS, namespace: String) throws {
        guard commitTS > 0 else { return }
        let head = try self.head(namespace: namespace)
        guard commitTS <= head.commitTS else {
            throw StatehouseError.invalidArgument(
                "commit_ts \(commitTS) is beyond the end of the log of namespace '\(namespace)' (its head is commit_ts \(head.commitTS))"
            )
        }
    }

    func get(namespace: String, agentID: String, key: String, at point: StoragePoint) throws -> StateRecord {
        if case .commit(let commitTS) = point { try self.requireWithinLog(commitTS, namespace: namespace) }
        return try self.read(namespace: namespace, agentID: agentID, key: key, at: point)
    }

    /// Many keys at one point, the point checked once.
    func get(namespace: String, keys: [KeyAddress], at point: StoragePoint) throws -> [StateRecord] {
        if case .commit(let commitTS) = point { try self.requireWithinLog(commitTS, namespace: namespace) }
        return try keys.map { try self.read(namespace: namespace, agentID: $0.agentID, key: $0.key, at: point) }
    }

    private func read(namespace: String, agentID: String, key: String, at point: StoragePoint) throws -> StateRecord {
        guard let namespaceID = try self.namespaceID(namespace) else {
            return .missing(agentID: agentID, key: key)
        }
        var found: StateRecord?
        switch point {
        case .latest:
            found = try self.newestVersion(namespaceID: namespaceID, agentID: agentID, key: key, atCommit: nil)
                .map { try self.unexpired($0, at: nil, namespaceID: namespaceID) }
        case .commit(let commitTS):
            found = try self.newestVersion(namespaceID: namespaceID, agentID: agentID, key: key, atCommit: commitTS)
                .map { try self.unexpired($0, at: commitTS, namespaceID: namespaceID) }
        case .version(let version):
            found = try self.version(namespaceID: namespaceID, agentID: agentID, key: key, version: version)
            if found == nil,
                let latest = try self.newestVersion(namespaceID: namespaceID, agentID: agentID, key: key, atCommit: nil)
            {
                throw StatehouseError.invalidArgument(
                    "key '\(key.prefix(64))' has no version \(version); its latest version is \(latest.version)"
                )
            }
        }
        if let record = found, record.valueRemoved { throw record.removedByRetention }
        return found ?? .missing(agentID: agentID, key: key)
    }

    /// A put whose expiry has passed at the read's point reads as a delete of that version: at the latest state the
    /// point's time is now, as of a commit_ts it is that commit's time.
    private func unexpired(_ record: StateRecord, at commitTS: CommitTS?, namespaceID: Int64) throws -> StateRecord {
        guard record.expiresAt != nil, !record.deleted else { return record }
        let pointTime =
            try commitTS.map { try self.committedAt(namespaceID: namespaceID, commitTS: $0) }
            ?? self.clock.wallMicroseconds()
        return record.read(at: pointTime)
    }

    private func committedAt(namespaceID: Int64, commitTS: CommitTS) throws -> Microseconds {
        let statement = try self.connection.statement(
            "SELECT committed_at FROM events WHERE ns_id = ? AND commit_ts = ?")
        statement.bind(0, namespaceID)
        statement.bind(1, commitTS)
        guard try statement.step() else {
            throw StatehouseError.dataCorruption(commitTS: commitTS, reason: "event is missing")
        }
        return statement.int64(0)
    }

    /// Decodes ``recordColumns`` starting at `column`: a put whose value retention removed has no value and
    /// `valueRemoved` set.
    static func record(_ statement: SQLiteStatement, agentID: String, key: String, column: Int32 = 0) -> StateRecord {
        let deleted = statement.bool(column + 1)
        let removed = statement.bool(column + 6)
        var record = StateRecord(
            agentID: agentID,
            key: key,
            value: deleted || removed ? nil : JSONValue(trusted: statement.blob(column + 2)),
            version: statement.uint64(column),
            commitTS: statement.uint64(column + 3),
            committedAt: statement.int64(column + 4),
            deleted: deleted,
            expiresAt: statement.isNull(column + 5) ? nil : statement.int64(column + 5)
        )
        record.valueRemoved = removed
        return record
    }

    /// The next key of an agent in byte order within `[prefix, prefix + ∞)` and after `after`: one index seek.
    ///
    /// The query carries exactly one lower bound on `key`. Given two (`key >= prefix AND key > after`), SQLite
    /// seeks on one and filters the other row by row, so a page deep in the key space walked every key before
    /// it (a 79,000-key agent took minutes to list); the bound is chosen here instead.
    private func nextKey(namespaceID: Int64, agentID: String, prefix: String, after: String?) throws -> String? {
        let strictlyAfter: String? = after.flatMap { after in
            after.utf8.lexicographicallyPrecedes(prefix.utf8) ? nil : after
        }
        let statement = try self.connection.statement(
            strictlyAfter == nil
                ? """
                SELECT key FROM versions INDEXED BY versions_by_key
                WHERE ns_id = ?1 AND agent_id = ?2 AND key >= ?3 AND key < ?4 ORDER BY key LIMIT 1
                """
                : """
                SELECT key FROM versions INDEXED BY versions_by_key
                WHERE ns_id = ?1 AND agent_id = ?2 AND key > ?3 AND key < ?4 ORDER BY key LIMIT 1
                """
        )
        statement.bind(0, namespaceID)
        statement.bind(1, agentID)
        statement.bind(2, strictlyAfter ?? prefix)
        statement.bindTextBytes(3, SQLiteQueries.upperBound(forPrefix: prefix))
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// The newest version of a key, or the newest at or before `atCommit` when given.
    ///
    /// A key's versions and their commit_ts rise together, so "as of commit_ts S" is a binary search over versions:
    /// O(log versions) index seeks however far back S is, instead of walking the key's history backwards.
    func newestVersion(
        namespaceID: Int64,
        agentID: String,
        key: String,
        atCommit: CommitTS?
    ) throws -> StateRecord? {
        let newest = try self.connection.statement(
            """
            SELECT \(Self.recordColumns) FROM versions INDEXED BY versions_by_key
            WHERE ns_id = ? AND agent_id = ? AND key = ? ORDER BY version DESC LIMIT 1
            """
        )
        newest.bind(0, namespaceID)
        newest.bind(1, agentID)
        newest.bind(2, key)
        guard try newest.step() else { return nil }
        let latest = Self.record(newest, agentID: agentID, key: key)
        guard let atCommit, latest.commitTS > atCommit else { return latest }
        let probe = try self.connection.statement(
            """
            SELECT commit_ts FROM versions INDEXED BY versions_by_key
            WHERE ns_id = ? AND agent_id = ? AND key = ? AND version = ?
            """
        )
        var low: Version = 0  // commit_ts(low) <= atCommit; 0 stands for "before the first version"
        var high = latest.version  // commit_ts(high) > atCommit
        while high - low > 1 {
            let middle = low + (high - low) / 2
            probe.reset()
            probe.bind(0, namespaceID)
            probe.bind(1, agentID)
            probe.bind(2, key)
            probe.bind(3, middle)
            guard try probe.step() else {
                throw StatehouseError.dataCorruption(commitTS: 0, reason: "a version of a key is missing")
            }
            if probe.uint64(0) <= atCommit { low = middle } else { high = middle }
        }
        guard low > 0 else { return nil }
        return try self.version(namespaceID: namespaceID, agentID: agentID, key: key, version: low)
    }

    private func version(namespaceID: Int64, agentID: String, key: String, version: Version) throws -> StateRecord? {
        let statement = try self.connection.statement(
            """
            SELECT \(Self.recordColumns) FROM versions INDEXED BY versions_by_key
            WHERE ns_id = ? AND agent_id = ? AND key = ? AND version = ?
            """
        )
        statement.bind(0, namespaceID)
        statement.bind(1, agentID)
        statement.bind(2, key)
        statement.bind(3, version)
        guard try statement.step() else { return nil }
        return Self.record(statement, agentID: agentID, key: key)
    }

    /// Walks an agent's keys in byte order with two index seeks per key (next key, its newest version), so a
    /// listing costs O(keys listed), however long each key's history is.
    private func walkKeys(
        namespace: String,
        agentID: String,
        prefix: String,
        after: String?,
        atCommit: CommitTS?,
        limit: Int,
        keep: (StateRecord) -> Bool
    ) throws -> [StateRecord] {
        guard let namespaceID = try self.namespaceID(namespace) else { return [] }
        var records: [StateRecord] = []
        var cursor = after
        while records.count < limit,
            let key = try self.nextKey(namespaceID: namespaceID, agentID: agentID, prefix: prefix, after: cursor)
        {
            cursor = key
            guard
                let found = try self.newestVersion(
                    namespaceID: namespaceID, agentID: agentID, key: key, atCommit: atCommit)
            else { continue }
            let record = try self.unexpired(found, at: atCommit, namespaceID: namespaceID)
            guard keep(record) else { continue }
            if record.valueRemoved { throw record.removedByRetention }
            records.append(record)
        }
        return records
    }

    func listKeys(
        namespace: String,
        agentID: String,
        prefix: String,
        after: String?,
        includeDeleted: Bool,
        limit: Int
    ) throws -> [KeyEntry] {
        try self.walkKeys(
            namespace: namespace,
            agentID: agentID,
            prefix: prefix,
            after: after,
            atCommit: nil,
            limit: limit,
            keep: { includeDeleted || !$0.deleted }
        ).map { KeyEntry(key: $0.key, version: $0.version, deleted: $0.deleted) }
    }

    func scan(
        namespace: String,
        agentID: String,
        prefix: String,
        after: String?,
        atCommit: CommitTS?,
        limit: Int
    ) throws -> [StateRecord] {
        if let atCommit {
            try self.requireWithinLog(atCommit, namespace: namespace)
            if let namespaceID = try self.namespaceID(namespace),
                let records = try self.scanFromAgentLog(
                    namespaceID: namespaceID, agentID: agentID, prefix: prefix, after: after, atCommit: atCommit,
                    limit: limit)
            {
                return records
            }
        }
        return try self.walkKeys(
            namespace: namespace,
            agentID: agentID,
            prefix: prefix,
            after: after,
            atCommit: atCommit,
            limit: limit,
            keep: { !$0.deleted }
        )
    }

    /// A scan as of a commit from the agent's versions up to it, when they are few: at most four per key the page
    /// may return (counted on the covering index `versions_by_agent` first). Each key's version at the commit is then
    /// the largest of its versions up to it, one pass for all keys, instead of a binary search over each key's
    /// versions (about nine index seeks per key; a restore of 1,000 keys spent 25 ms there). `nil` when there are
    /// more: an old state of a long-lived agent is better found key by key. `nil` too when the agent has not changed
    /// since the commit (a restore reads the current state as of the head): each key's newest version is then the
    /// one, a single seek, whereas a pass would read the agent's whole history.
    private func scanFromAgentLog(
        namespaceID: Int64, agentID: String, prefix: String, after: String?, atCommit: CommitTS, limit: Int
    ) throws -> [StateRecord]? {
        guard try SQLiteQueries.lastCommitTS(namespaceID: namespaceID, agentID: agentID, on: self.connection) > atCommit
        else { return nil }
        let budget = Int64(4 * max(limit, 256))
        let count = try self.connection.statement(
            """
            SELECT count(*) FROM (SELECT 1 FROM versions INDEXED BY versions_by_agent
                                  WHERE ns_id = ? AND agent_id = ? AND commit_ts <= ? LIMIT ?)
            """)
        count.bind(0, namespaceID)
        count.bind(1, agentID)
        count.bind(2, atCommit)
        count.bind(3, budget + 1)
        guard try count.step(), count.int64(0) <= budget else { return nil }
        count.reset()
        let versions = try self.connection.statement(
            """
            SELECT key, MAX(version) FROM versions INDEXED BY versions_by_agent
            WHERE ns_id = ?1 AND agent_id = ?2 AND commit_ts <= ?3 AND key >= ?4 AND key < ?5
              AND (?6 IS NULL OR key > ?6)
            GROUP BY key ORDER BY key
            """)
        versions.bind(0, namespaceID)
        versions.bind(1, agentID)
        versions.bind(2, atCommit)
        versions.bind(3, prefix)
        versions.bindTextBytes(4, SQLiteQueries.upperBound(forPrefix: prefix))
        if let after { versions.bind(5, after) } else { versions.bindNull(5) }
        var found: [(String, Version)] = []
        while try versions.step() { found.append((versions.text(0), versions.uint64(1))) }
        versions.reset()
        var records: [StateRecord] = []
        for (key, version) in found {
            guard
                let stored = try self.version(namespaceID: namespaceID, agentID: agentID, key: key, version: version)
            else { throw StatehouseError.dataCorruption(commitTS: 0, reason: "a version of a key is missing") }
            let record = try self.unexpired(stored, at: atCommit, namespaceID: namespaceID)
            guard !record.deleted else { continue }
            if record.valueRemoved { throw record.removedByRetention }
            records.append(record)
            if records.count == limit { break }
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
            SELECT \(Self.recordColumns) FROM versions INDEXED BY versions_by_key
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
    /// Reserved agents (names starting with `@`) are stepped over in one seek when not wanted: `@` followed by 0xFF
    /// sorts after every UTF-8 name that starts with `@`.
    func listAgents(namespace: String, after: String?, limit: Int, includeReserved: Bool) throws -> [String] {
        guard let namespaceID = try self.namespaceID(namespace) else { return [] }
        let statement = try self.connection.statement(
            """
            SELECT agent_id FROM versions INDEXED BY versions_by_key
            WHERE ns_id = ? AND agent_id > ? ORDER BY agent_id LIMIT 1
            """
        )
        var agents: [String] = []
        var last = Array((after ?? "").utf8)
        while agents.count < limit {
            statement.reset()
            statement.bind(0, namespaceID)
            statement.bindTextBytes(1, last)
            guard try statement.step() else { break }
            let agent = statement.text(0)
            if !includeReserved, ReservedNames.isReserved(agent) {
                last = [UInt8(ascii: "@"), 0xFF]
                continue
            }
            last = Array(agent.utf8)
            agents.append(agent)
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
