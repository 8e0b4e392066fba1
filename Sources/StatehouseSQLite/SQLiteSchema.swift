import StatehouseCore

/// The database schema, as numbered migrations recorded in the database itself.
///
/// Layout (see docs/architecture.md): `namespaces` holds each namespace's head; `versions` holds every version
/// of every key and is the only place a value is stored; `events` holds one row per commit and points at its
/// versions by a contiguous range of version ids. A key's latest version is the last entry of `versions_by_key`
/// for that key, so there is no separate "latest" table: each commit then writes one index page less, and index
/// pages written per commit are what bound durable commit throughput (every page costs WAL bytes before the fsync).
/// Each event row also holds the Merkle tree nodes its append completed (``SQLiteMerkleNodes``).
enum SQLiteSchema {
    /// Migrations in order; a migration never changes once released.
    static let migrations: [Migration] = [
        Migration(
            1,
            """
            CREATE TABLE namespaces(
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                last_commit_ts INTEGER NOT NULL,
                last_hash BLOB NOT NULL,
                last_committed_at INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE versions(
                id INTEGER PRIMARY KEY,
                ns_id INTEGER NOT NULL,
                agent_id TEXT NOT NULL,
                key TEXT NOT NULL,
                version INTEGER NOT NULL,
                commit_ts INTEGER NOT NULL,
                committed_at INTEGER NOT NULL,
                deleted INTEGER NOT NULL,
                value BLOB
            ) STRICT;
            CREATE UNIQUE INDEX versions_by_key ON versions(ns_id, agent_id, key, version);
            CREATE INDEX versions_by_agent ON versions(ns_id, agent_id, commit_ts);
            CREATE TABLE events(
                ns_id INTEGER NOT NULL,
                commit_ts INTEGER NOT NULL,
                txn_id TEXT NOT NULL,
                committed_at INTEGER NOT NULL,
                first_version_id INTEGER NOT NULL,
                op_count INTEGER NOT NULL,
                metadata BLOB,
                idempotency_key TEXT,
                request_digest BLOB,
                prev_hash BLOB NOT NULL,
                hash BLOB NOT NULL,
                PRIMARY KEY(ns_id, commit_ts)
            ) STRICT, WITHOUT ROWID;
            CREATE UNIQUE INDEX events_by_txn ON events(txn_id);
            CREATE UNIQUE INDEX events_by_idempotency_key ON events(ns_id, idempotency_key)
                WHERE idempotency_key IS NOT NULL;
            """
        ),
        Migration(
            2,
            // The Merkle tree beside the hash chain (docs/architecture.md, "Merkle tree"): each event holds the
            // tree nodes its append completed (SQLiteMerkleNodes), computed here for the events already stored.
            "ALTER TABLE events ADD COLUMN merkle_nodes BLOB",
            then: SQLiteMerkleNodes.build(on:)
        ),
        Migration(
            3,
            // Agent events (puts under @events) by agent, session, type, actor and time (SQLiteEventIndex); `seq` is
            // the id of the event's versions row, so the index follows the order events were recorded in.
            """
            CREATE TABLE agent_events(
                ns_id INTEGER NOT NULL,
                seq INTEGER NOT NULL,
                agent_id TEXT NOT NULL,
                session_id TEXT,
                type TEXT NOT NULL,
                actor TEXT,
                occurred_at INTEGER NOT NULL,
                PRIMARY KEY(ns_id, seq)
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX agent_events_by_agent ON agent_events(ns_id, agent_id, seq);
            CREATE INDEX agent_events_by_session ON agent_events(ns_id, session_id, seq) WHERE session_id IS NOT NULL;
            CREATE INDEX agent_events_by_type ON agent_events(ns_id, type, seq);
            CREATE INDEX agent_events_by_actor ON agent_events(ns_id, actor, seq) WHERE actor IS NOT NULL;
            CREATE INDEX agent_events_by_time ON agent_events(ns_id, occurred_at, seq);
            """,
            then: SQLiteEventIndex.build(on:)
        ),
        Migration(
            4,
            // Full-text search (SQLiteSearchIndex): each document's facts (kind, agent, key, version, event fields,
            // commit, time) and text in search_docs, indexed by an FTS5 table that keeps no copy of the text
            // (external content) and no per-row sizes (columnsize=0): each costs another B-tree insert per document.
            """
            CREATE TABLE search_docs(
                id INTEGER PRIMARY KEY,
                ns_id INTEGER NOT NULL,
                kind INTEGER NOT NULL,
                agent_id TEXT,
                key TEXT,
                version INTEGER,
                event_id TEXT,
                type TEXT,
                session_id TEXT,
                actor TEXT,
                commit_ts INTEGER NOT NULL,
                at INTEGER NOT NULL,
                body TEXT NOT NULL
            ) STRICT;
            CREATE VIRTUAL TABLE search_text USING fts5(
                body, content = 'search_docs', content_rowid = 'id', columnsize = 0,
                tokenize = 'unicode61 remove_diacritics 2');
            INSERT INTO search_text(search_text, rank) VALUES('automerge', 0);
            """,
            then: SQLiteSearchIndex.build(on:)
        ),
        Migration(
            5,
            // Retention and expiry (docs/architecture.md, "Retention and expiry"): a put's expiry, and the SHA-256 of a
            // value the retention policy removed (value is then NULL, so the row's `deleted` stays 0 and a reader
            // tells it from a delete by this digest). Both columns are NULL on every existing row, so adding them
            // rewrites nothing. The expiry index holds only rows that have an expiry; the search index finds the
            // state documents of a version whose value is removed.
            """
            ALTER TABLE versions ADD COLUMN expires_at INTEGER;
            ALTER TABLE versions ADD COLUMN value_digest BLOB;
            CREATE INDEX versions_by_expiry ON versions(expires_at) WHERE expires_at IS NOT NULL;
            CREATE INDEX search_docs_by_version ON search_docs(ns_id, agent_id, key, version) WHERE kind = 1;
            """
        ),
        Migration(
            6,
            // A search filtered by agent starts from the agent's documents (SQLiteSearchIndex): without this index it
            // joined every full-text match to its facts first. Commit documents have no agent and stay out of it.
            "CREATE INDEX search_docs_by_agent ON search_docs(ns_id, agent_id, type, kind) WHERE agent_id IS NOT NULL"
        ),
    ]

    /// One schema change: SQL, then optionally code that fills what the SQL created, in the same transaction.
    struct Migration: Sendable {
        var version: Int
        var sql: String
        var then: (@Sendable (SQLiteConnection) throws -> Void)?

        init(_ version: Int, _ sql: String, then: (@Sendable (SQLiteConnection) throws -> Void)? = nil) {
            self.version = version
            self.sql = sql
            self.then = then
        }
    }

    /// The newest schema version this build knows.
    static var latestVersion: Int { self.migrations.last?.version ?? 0 }

    /// Applies every migration newer than the database's version, each in its own transaction.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/unavailable(_:)`` when the database was written by a newer build.
    static func migrate(_ connection: SQLiteConnection, now: Microseconds) throws -> [Int] {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations(
                version INTEGER PRIMARY KEY,
                applied_at INTEGER NOT NULL
            ) STRICT
            """
        )
        let current =
            Int(try connection.scalarText("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? "0") ?? 0
        guard current <= self.latestVersion else {
            throw StatehouseError.unavailable(
                "the database has schema version \(current), newer than this build supports "
                    + "(\(self.latestVersion)); upgrade Statehouse"
            )
        }
        var applied: [Int] = []
        for migration in self.migrations where migration.version > current {
            try connection.execute("BEGIN IMMEDIATE")
            do {
                try connection.execute(migration.sql)
                try migration.then?(connection)
                let record = try connection.statement(
                    "INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)"
                )
                record.bind(0, Int64(migration.version))
                record.bind(1, now)
                try record.run()
                try connection.execute("COMMIT")
                applied.append(migration.version)
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
        return applied
    }
}
