import Foundation
import Logging
public import StatehouseCore
import StatehouseLedger

/// Retention and expiry on SQLite (docs/architecture.md, "Retention and expiry"): the compaction reads version
/// summaries on a reader, then removes values on the writer in small transactions so commits never wait long behind
/// it; the expiry sweep finds expired keys through the partial index `versions_by_expiry` (rows with an expiry only).
extension SQLiteBackend {
    public func versionSummaries(
        namespace: String, agentID: String, afterKey: String?, limit: Int
    ) async throws -> [VersionSummary] {
        try await self.onReader { reader in
            guard let namespaceID = try reader.namespaceID(namespace) else { return [] }
            // Keys are never empty, so "after the empty key" is the first page.
            let statement = try reader.connection.statement(
                """
                SELECT key, version, commit_ts, committed_at, deleted, value_digest IS NOT NULL, expires_at, id
                FROM versions INDEXED BY versions_by_key
                WHERE ns_id = ?1 AND agent_id = ?2 AND key > ?3 ORDER BY key, version LIMIT ?4
                """)
            statement.bind(0, namespaceID)
            statement.bind(1, agentID)
            statement.bind(2, afterKey ?? "")
            statement.bind(3, Int64(limit))
            var rows: [VersionSummary] = []
            rows.reserveCapacity(min(limit, 4096))
            while try statement.step() {
                rows.append(
                    VersionSummary(
                        key: statement.text(0), version: statement.uint64(1), commitTS: statement.uint64(2),
                        committedAt: statement.int64(3), deleted: statement.bool(4), valueRemoved: statement.bool(5),
                        expiresAt: statement.isNull(6) ? nil : statement.int64(6), position: statement.int64(7)))
            }
            return rows
        }
    }

    public func removeValues(
        namespace: String, agentID: String, versions: [KeyVersion]
    ) async throws -> RemovedValues {
        guard !versions.isEmpty else { return RemovedValues() }
        return try await self.onWriter { writer in
            guard let namespaceID = writer.namespaceID(namespace) else { return RemovedValues() }
            let connection = writer.connection
            try connection.statement("BEGIN IMMEDIATE").run()
            do {
                let find = try connection.statement(
                    """
                    SELECT id, commit_ts, committed_at, value, expires_at FROM versions INDEXED BY versions_by_key
                    WHERE ns_id = ? AND agent_id = ? AND key = ? AND version = ? AND deleted = 0
                      AND value_digest IS NULL
                    """)
                // The row is deleted and written again without its value rather than updated: SQLite merges pages a
                // delete leaves under a third full with their neighbours (freeing pages for later writes), but never
                // after an update that shrinks a row, so updated pages would keep their space for good.
                let delete = try connection.statement("DELETE FROM versions WHERE id = ?")
                let insert = try connection.statement(
                    """
                    INSERT INTO versions(id, ns_id, agent_id, key, version, commit_ts, committed_at, deleted, value,
                                         expires_at, value_digest)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?)
                    """)
                let documents = try connection.statement(
                    """
                    SELECT id, body FROM search_docs INDEXED BY search_docs_by_version
                    WHERE ns_id = ? AND agent_id = ? AND key = ? AND version = ? AND kind = 1
                    """)
                let unindex = try connection.statement(
                    "INSERT INTO search_text(search_text, rowid, body) VALUES('delete', ?, ?)")
                let dropDocument = try connection.statement("DELETE FROM search_docs WHERE id = ?")
                struct Found {
                    var id: Int64
                    var version: KeyVersion
                    var commitTS: Int64
                    var committedAt: Int64
                    var expiresAt: Int64?
                    var digest: EventHash
                }
                var found: [Found] = []
                var removed = RemovedValues()
                for version in versions {
                    find.reset()
                    find.bind(0, namespaceID)
                    find.bind(1, agentID)
                    find.bind(2, version.key)
                    find.bind(3, version.version)
                    guard try find.step() else { continue }
                    let value = find.blob(3)
                    found.append(
                        Found(
                            id: find.int64(0), version: version, commitTS: find.int64(1), committedAt: find.int64(2),
                            expiresAt: find.isNull(4) ? nil : find.int64(4), digest: EventHash(digestOf: value)))
                    removed.bytes += value.count
                }
                find.reset()
                for row in found {
                    delete.reset()
                    delete.bind(0, row.id)
                    try delete.run()
                }
                for row in found {
                    insert.reset()
                    insert.bind(0, row.id)
                    insert.bind(1, namespaceID)
                    insert.bind(2, agentID)
                    insert.bind(3, row.version.key)
                    insert.bind(4, row.version.version)
                    insert.bind(5, row.commitTS)
                    insert.bind(6, row.committedAt)
                    if let expiresAt = row.expiresAt { insert.bind(7, expiresAt) } else { insert.bindNull(7) }
                    insert.bind(8, hash: row.digest)
                    try insert.run()
                    removed.count += 1
                    // The value's full-text documents (only when the daemon indexes state) go with it.
                    documents.reset()
                    documents.bind(0, namespaceID)
                    documents.bind(1, agentID)
                    documents.bind(2, row.version.key)
                    documents.bind(3, row.version.version)
                    var indexed: [(Int64, String)] = []
                    while try documents.step() { indexed.append((documents.int64(0), documents.text(1))) }
                    documents.reset()
                    for (documentID, body) in indexed {
                        unindex.reset()
                        unindex.bind(0, documentID)
                        unindex.bind(1, body)
                        try unindex.run()
                        dropDocument.reset()
                        dropDocument.bind(0, documentID)
                        try dropDocument.run()
                    }
                }
                connection.releaseStatements()
                try connection.statement("COMMIT").run()
                return removed
            } catch {
                connection.releaseStatements()
                try? connection.statement("ROLLBACK").run()
                throw error
            }
        }
    }

    public func expiredKeys(expiredAfter: Microseconds, now: Microseconds, limit: Int) async throws -> [ExpiredKey] {
        try await self.onReader { reader in
            let statement = try reader.connection.statement(
                """
                SELECT n.name, v.agent_id, v.key, v.version, v.expires_at
                FROM versions AS v INDEXED BY versions_by_expiry JOIN namespaces AS n ON n.id = v.ns_id
                WHERE v.expires_at > ? AND v.expires_at <= ? AND v.deleted = 0
                  AND NOT EXISTS (
                    SELECT 1 FROM versions AS w INDEXED BY versions_by_key
                    WHERE w.ns_id = v.ns_id AND w.agent_id = v.agent_id AND w.key = v.key AND w.version > v.version)
                ORDER BY v.expires_at LIMIT ?
                """)
            statement.bind(0, expiredAfter)
            statement.bind(1, now)
            statement.bind(2, Int64(limit))
            var keys: [ExpiredKey] = []
            while try statement.step() {
                keys.append(
                    ExpiredKey(
                        namespace: statement.text(0), agentID: statement.text(1), key: statement.text(2),
                        version: statement.uint64(3), expiresAt: statement.int64(4)))
            }
            return keys
        }
    }

    public func expiredValues(
        namespace: String, now: Microseconds, after: ExpiredValue.Cursor?, limit: Int
    ) async throws -> [ExpiredValue] {
        try await self.onReader { reader in
            guard let namespaceID = try reader.namespaceID(namespace) else { return [] }
            let statement = try reader.connection.statement(
                """
                SELECT v.agent_id, v.key, v.version, v.commit_ts, v.committed_at, v.expires_at, v.id,
                       (SELECT MIN(w.commit_ts) FROM versions AS w INDEXED BY versions_by_key
                        WHERE w.ns_id = v.ns_id AND w.agent_id = v.agent_id AND w.key = v.key AND w.version > v.version)
                FROM versions AS v INDEXED BY versions_by_expiry
                WHERE v.expires_at <= ?2 AND (v.expires_at > ?3 OR (v.expires_at = ?3 AND v.id > ?4))
                  AND v.ns_id = ?1 AND v.deleted = 0 AND v.value_digest IS NULL
                ORDER BY v.expires_at, v.id LIMIT ?5
                """)
            statement.bind(0, namespaceID)
            statement.bind(1, now)
            statement.bind(2, after?.expiresAt ?? .min)
            statement.bind(3, after?.position ?? .min)
            statement.bind(4, Int64(limit))
            var found: [ExpiredValue] = []
            while try statement.step() {
                let version = VersionSummary(
                    key: statement.text(1), version: statement.uint64(2), commitTS: statement.uint64(3),
                    committedAt: statement.int64(4), deleted: false, valueRemoved: false,
                    expiresAt: statement.int64(5), position: statement.int64(6))
                // The key's latest version (nothing after it) is the expiry sweep's to delete first.
                found.append(
                    ExpiredValue(
                        agentID: statement.text(0), version: version,
                        nextCommitTS: statement.isNull(7) ? 0 : statement.uint64(7)))
            }
            return found
        }
    }

    public func storeFileBytes() async throws -> Int {
        guard let path = self.databasePath else { return 0 }
        let fileManager = FileManager.default
        return [path, path + "-wal"].reduce(0) { total, file in
            total + ((try? fileManager.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
        }
    }

    public func vacuum() async throws {
        try await self.onWriter { writer in
            try writer.connection.execute("VACUUM")
            // VACUUM wrote the whole database through the WAL; fold it back in and cut the WAL to nothing, so the
            // space is returned now (readers of an older snapshot can hold this back; it is then done later).
            _ = try? writer.connection.scalarText("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        self.logger.info("Store vacuumed")
    }
}
