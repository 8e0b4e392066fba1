import NIOCore
import PostgresNIO
public import StatehouseCore
public import StatehouseModel

/// Retention and expiry on PostgreSQL (docs/architecture.md, "Retention and expiry"), with the SQLite backend's results.
///
/// A version's ``StatehouseCore/VersionSummary/position`` is its place in the log, `commit_ts << 20 | op_index`, in
/// place of SQLite's row id (PostgreSQL has no store-wide row id in commit order): versions written together are next
/// to each other, and ``StatehouseCore/ExpiredValue/Cursor`` carries (commit_ts, op_index) in its one integer. It is
/// exact while a commit has fewer than 2^20 operations and a namespace fewer than 2^43 commits.
extension PostgresBackend {
    /// Bits of a position that hold the operation's index in its commit.
    static let positionIndexBits = 20

    static func position(commitTS: Int64, opIndex: Int32) -> Int64 {
        (commitTS << Self.positionIndexBits) | Int64(opIndex)
    }

    /// Every version of an agent's keys after `afterKey`, in (key, version) order (keys as bytes, as SQLite compares
    /// them), without values: at most `limit` rows, so the last key may be cut short.
    public func versionSummaries(
        namespace: String, agentID: String, afterKey: String?, limit: Int
    ) async throws -> [VersionSummary] {
        guard limit > 0 else { return [] }
        return try await self.read("reading version summaries") { connection in
            // Keys are never empty, so "after the empty key" is the first page.
            let rows = try await connection.query(
                """
                SELECT key, version, commit_ts, committed_at, deleted, value_digest IS NOT NULL, expires_at, op_index
                FROM statehouse_versions
                WHERE ns_id = (SELECT id FROM statehouse_namespaces WHERE name = \(namespace))
                  AND agent_id = \(agentID) AND key COLLATE "C" > \(afterKey ?? "")
                ORDER BY key COLLATE "C", version LIMIT \(limit)
                """, logger: self.logger)
            var summaries: [VersionSummary] = []
            summaries.reserveCapacity(min(limit, 4096))
            for try await (key, version, commitTS, committedAt, deleted, removed, expiresAt, opIndex) in rows.decode(
                (String, Int64, Int64, Int64, Bool, Bool, Int64?, Int32).self)
            {
                summaries.append(
                    VersionSummary(
                        key: key, version: PostgresColumns.uint(version), commitTS: PostgresColumns.uint(commitTS),
                        committedAt: committedAt, deleted: deleted, valueRemoved: removed, expiresAt: expiresAt,
                        position: Self.position(commitTS: commitTS, opIndex: opIndex)))
            }
            return summaries
        }
    }

    /// Removes the values of these versions of an agent's keys in one database transaction, keeping each value's
    /// SHA-256 digest in `value_digest` (what the event's Merkle leaf holds for the put, so proofs still check); a
    /// delete, an already removed value or a missing version is skipped. The full-text documents of the removed values
    /// go with them. Bytes are the removed values' bytes.
    ///
    /// The namespace's row is locked first (`SELECT … FOR UPDATE`), as a commit locks it: a removal is then ordered
    /// wholly before or after each commit of any daemon, as SQLite's one writer orders them, and it never waits on a
    /// version row's lock while holding one a commit needs.
    public func removeValues(
        namespace: String, agentID: String, versions: [KeyVersion]
    ) async throws -> RemovedValues {
        guard !versions.isEmpty else { return RemovedValues() }
        return try await self.transaction("removing values") { connection in
            var namespaceID: Int64?
            for try await id in try await connection.query(
                "SELECT id FROM statehouse_namespaces WHERE name = \(namespace) FOR UPDATE", logger: self.logger
            ).decode(Int64.self) {
                namespaceID = id
            }
            guard let namespaceID else { return RemovedValues() }
            // The digest is computed by the server (sha256 of the stored bytes, which are the value's UTF-8 bytes):
            // values do not travel to the daemon just to be hashed. A version named twice is updated once.
            let keys = versions.map(\.key)
            let numbers = versions.map { PostgresColumns.int($0.version) }
            let rows = try await connection.query(
                """
                UPDATE statehouse_versions AS v SET value_digest = sha256(COALESCE(v.value, ''::bytea)), value = NULL
                FROM (
                    SELECT w.commit_ts, w.op_index, octet_length(w.value)::bigint AS bytes
                    FROM unnest(\(keys)::text[], \(numbers)::bigint[]) AS r(key, version)
                    JOIN statehouse_versions AS w
                      ON w.ns_id = \(namespaceID) AND w.agent_id = \(agentID) AND w.key = r.key
                         AND w.version = r.version
                    WHERE NOT w.deleted AND w.value_digest IS NULL
                ) AS f
                WHERE v.ns_id = \(namespaceID) AND v.commit_ts = f.commit_ts AND v.op_index = f.op_index
                RETURNING v.key, v.version, COALESCE(f.bytes, 0)
                """, logger: self.logger)
            var removed = RemovedValues()
            var removedKeys: [String] = []
            var removedVersions: [Int64] = []
            for try await (key, version, bytes) in rows.decode((String, Int64, Int64).self) {
                removed.count += 1
                removed.bytes += Int(bytes)
                removedKeys.append(key)
                removedVersions.append(version)
            }
            guard removed.count > 0 else { return removed }
            // The values' full-text documents (only when the daemon indexes state) go with them. The keys come as a
            // parameter, so the comparison takes the column's collation and the index by version applies.
            try await connection.query(
                """
                DELETE FROM statehouse_search_docs AS d
                USING unnest(\(removedKeys)::text[], \(removedVersions)::bigint[]) AS r(key, version)
                WHERE d.ns_id = \(namespaceID) AND d.kind = 1 AND d.agent_id = \(agentID) AND d.key = r.key
                  AND d.version = r.version
                """, logger: self.logger)
            return removed
        }
    }

    /// Keys whose latest version is a put whose expiry is after `expiredAfter` and at or before `now`, soonest first
    /// (ties in commit order, as SQLite's row ids), at most `limit`, across namespaces.
    public func expiredKeys(expiredAfter: Microseconds, now: Microseconds, limit: Int) async throws -> [ExpiredKey] {
        guard limit > 0 else { return [] }
        return try await self.read("finding expired keys") { connection in
            let rows = try await connection.query(
                """
                SELECT n.name, v.agent_id, v.key, v.version, v.expires_at
                FROM statehouse_versions AS v JOIN statehouse_namespaces AS n ON n.id = v.ns_id
                WHERE v.expires_at > \(expiredAfter) AND v.expires_at <= \(now) AND NOT v.deleted
                  AND NOT EXISTS (
                    SELECT 1 FROM statehouse_versions AS w
                    WHERE w.ns_id = v.ns_id AND w.agent_id = v.agent_id AND w.key = v.key AND w.version > v.version)
                ORDER BY v.expires_at, v.committed_at, v.ns_id, v.commit_ts, v.op_index LIMIT \(limit)
                """, logger: self.logger)
            var keys: [ExpiredKey] = []
            for try await (name, agentID, key, version, expiresAt) in rows.decode(
                (String, String, String, Int64, Int64).self)
            {
                keys.append(
                    ExpiredKey(
                        namespace: name, agentID: agentID, key: key, version: PostgresColumns.uint(version),
                        expiresAt: expiresAt))
            }
            return keys
        }
    }

    /// Puts of a namespace whose expiry is at or before `now` and whose value is still stored, in (expiry, position)
    /// order after `after`, at most `limit`, each with the commit_ts of its key's next version; as from SQLite, a
    /// key's latest version is among them with `nextCommitTS` 0 (the expiry sweep deletes it first).
    public func expiredValues(
        namespace: String, now: Microseconds, after: ExpiredValue.Cursor?, limit: Int
    ) async throws -> [ExpiredValue] {
        guard limit > 0 else { return [] }
        // The cursor's position is (commit_ts, op_index) packed; compared as the row, the order of the statement.
        let afterExpiry = after?.expiresAt ?? .min
        let afterCommit = (after?.position ?? 0) >> Self.positionIndexBits
        let afterIndex = Int32(truncatingIfNeeded: (after?.position ?? 0) & ((1 << Self.positionIndexBits) - 1))
        return try await self.read("finding expired values") { connection in
            let rows = try await connection.query(
                """
                SELECT v.agent_id, v.key, v.version, v.commit_ts, v.committed_at, v.expires_at, v.op_index,
                       (SELECT min(w.commit_ts) FROM statehouse_versions AS w
                        WHERE w.ns_id = v.ns_id AND w.agent_id = v.agent_id AND w.key = v.key AND w.version > v.version)
                FROM statehouse_versions AS v
                WHERE v.ns_id = (SELECT id FROM statehouse_namespaces WHERE name = \(namespace))
                  AND v.expires_at <= \(now)
                  AND (\(after == nil) OR (v.expires_at, v.commit_ts, v.op_index)
                                          > (\(afterExpiry), \(afterCommit), \(afterIndex)))
                  AND NOT v.deleted AND v.value_digest IS NULL
                ORDER BY v.expires_at, v.commit_ts, v.op_index LIMIT \(limit)
                """, logger: self.logger)
            var found: [ExpiredValue] = []
            for try await (agentID, key, version, commitTS, committedAt, expiresAt, opIndex, next) in rows.decode(
                (String, String, Int64, Int64, Int64, Int64, Int32, Int64?).self)
            {
                let summary = VersionSummary(
                    key: key, version: PostgresColumns.uint(version), commitTS: PostgresColumns.uint(commitTS),
                    committedAt: committedAt, deleted: false, valueRemoved: false, expiresAt: expiresAt,
                    position: Self.position(commitTS: commitTS, opIndex: opIndex))
                found.append(
                    ExpiredValue(agentID: agentID, version: summary, nextCommitTS: PostgresColumns.uint(next ?? 0)))
            }
            return found
        }
    }

    /// The bytes the current database takes on disk (`pg_database_size`): tables, indexes and TOAST of every schema
    /// in it, not the server's WAL.
    public func storeFileBytes() async throws -> Int {
        try await self.read("measuring the database") { connection in
            var bytes: Int64 = 0
            for try await size in try await connection.query(
                "SELECT pg_database_size(current_database())", logger: self.logger
            ).decode(Int64.self) {
                bytes = size
            }
            return Int(bytes)
        }
    }

    /// The bytes of every stored value of a namespace, all versions included; 0 for a namespace without commits.
    public func storedValueBytes(namespace: String) async throws -> Int {
        try await self.read("counting stored bytes") { connection in
            var bytes: Int64 = 0
            for try await total in try await connection.query(
                """
                SELECT COALESCE(sum(octet_length(value)), 0)::bigint FROM statehouse_versions
                WHERE ns_id = (SELECT id FROM statehouse_namespaces WHERE name = \(namespace))
                """, logger: self.logger
            ).decode(Int64.self) {
                bytes = total
            }
            return Int(bytes)
        }
    }

    /// Every run of exactly 64 lowercase hex digits in the namespace's stored values, all versions
    /// (``StatehouseCore/DigestScanner``), read in one statement (one snapshot) and scanned as the rows arrive.
    public func referencedDigests(namespace: String) async throws -> Set<String> {
        try await self.read("scanning values for digests") { connection in
            let rows = try await connection.query(
                """
                SELECT value FROM statehouse_versions
                WHERE ns_id = (SELECT id FROM statehouse_namespaces WHERE name = \(namespace)) AND value IS NOT NULL
                """, logger: self.logger)
            var digests: Set<String> = []
            for try await value in rows.decode(ByteBuffer.self) {
                DigestScanner.scan(PostgresColumns.array(value), into: &digests)
            }
            return digests
        }
    }

    /// PostgreSQL's VACUUM of Statehouse's tables (their TOAST tables included, where removed values lived): the space
    /// of removed values and dead rows becomes reusable, and empty pages at a table's end go back to the file system.
    ///
    /// Plain VACUUM, not VACUUM FULL: FULL would give back all the space but locks each table against reads as well as
    /// commits while it rewrites it, and reads must not wait. VACUUM cannot run in a transaction block, so it runs on a
    /// pooled connection as a statement of its own; commits and reads go on meanwhile.
    public func vacuum() async throws {
        try await self.read("vacuuming") { connection in
            try await connection.query(
                """
                VACUUM statehouse_versions, statehouse_search_docs, statehouse_events, statehouse_agent_events,
                    statehouse_namespaces
                """, logger: self.logger)
        }
        self.logger.info("Store vacuumed")
    }

    /// Refused: a PostgreSQL store is backed up with PostgreSQL's own tools, which copy the database consistently
    /// while daemons keep committing and restore it onto any server: `pg_dump` (a logical copy of one database), or
    /// `pg_basebackup` with WAL archiving (a physical copy of the server, for point-in-time recovery). The daemon has
    /// no directory of its own to copy, and a copy through it would be neither.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/failedPrecondition(_:)`` naming those tools and docs/operations.md.
    public func backup(toDirectory directory: String) async throws -> BackupReport {
        throw StatehouseError.failedPrecondition(
            "a PostgreSQL store is not backed up by the daemon: back up its database with PostgreSQL's own tools, "
                + "pg_dump (a consistent copy of the database) or pg_basebackup with WAL archiving (point-in-time "
                + "recovery); see docs/operations.md, \"Backup\"")
    }
}
