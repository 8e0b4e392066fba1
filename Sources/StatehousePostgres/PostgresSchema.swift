public import Logging
public import PostgresNIO
public import StatehouseModel

/// The PostgreSQL backend's schema and its migrations (docs/architecture.md, "PostgreSQL").
///
/// The tables mirror the SQLite store's (Sources/StatehouseSQLite/SQLiteSchema.swift) with PostgreSQL's types, so that
/// both backends hold the same rows: a namespace's head, every version of every key, every event with its hashes and
/// Merkle nodes, the agent-event index and the search documents (PostgreSQL's text search instead of FTS5). A version
/// row is addressed by its commit and its place in it (`commit_ts`, `op_index`) rather than by a store-wide row id,
/// which several daemons could not hand out in commit order. Names and keys compare as bytes (`COLLATE "C"`), as they
/// do in SQLite and everywhere in Statehouse, whatever collation the database was created with.
///
/// Migrations run under a row lock on `statehouse_schema`'s one row (`SELECT … FOR UPDATE`), so daemons that start
/// together apply each migration once and the others wait and then find nothing to do; each migration and its version
/// bump are one transaction (PostgreSQL's DDL is transactional). A database whose schema is newer than this build
/// knows is refused: an older daemon must not write to tables it does not understand.
public enum PostgresSchema {
    public struct Migration: Sendable {
        public var version: Int
        /// One statement each (the extended query protocol runs one at a time).
        public var statements: [String]
    }

    public static let migrations: [Migration] = [
        Migration(
            version: 1,
            statements: [
                """
                CREATE TABLE statehouse_namespaces(
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    name TEXT COLLATE "C" NOT NULL UNIQUE,
                    last_commit_ts BIGINT NOT NULL,
                    last_hash BYTEA NOT NULL,
                    last_committed_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE statehouse_events(
                    ns_id BIGINT NOT NULL REFERENCES statehouse_namespaces(id),
                    commit_ts BIGINT NOT NULL,
                    txn_id TEXT NOT NULL,
                    committed_at BIGINT NOT NULL,
                    op_count INTEGER NOT NULL,
                    metadata BYTEA,
                    idempotency_key TEXT,
                    request_digest BYTEA,
                    prev_hash BYTEA NOT NULL,
                    hash BYTEA NOT NULL,
                    merkle_nodes BYTEA,
                    PRIMARY KEY(ns_id, commit_ts)
                )
                """,
                "CREATE UNIQUE INDEX statehouse_events_by_txn ON statehouse_events(txn_id)",
                """
                CREATE UNIQUE INDEX statehouse_events_by_idempotency_key ON statehouse_events(ns_id, idempotency_key)
                    WHERE idempotency_key IS NOT NULL
                """,
                """
                CREATE TABLE statehouse_versions(
                    ns_id BIGINT NOT NULL,
                    commit_ts BIGINT NOT NULL,
                    op_index INTEGER NOT NULL,
                    agent_id TEXT COLLATE "C" NOT NULL,
                    key TEXT COLLATE "C" NOT NULL,
                    version BIGINT NOT NULL,
                    committed_at BIGINT NOT NULL,
                    deleted BOOLEAN NOT NULL,
                    value BYTEA,
                    expires_at BIGINT,
                    value_digest BYTEA,
                    PRIMARY KEY(ns_id, commit_ts, op_index),
                    FOREIGN KEY(ns_id, commit_ts) REFERENCES statehouse_events(ns_id, commit_ts)
                )
                """,
                """
                CREATE UNIQUE INDEX statehouse_versions_by_key
                    ON statehouse_versions(ns_id, agent_id, key, version)
                """,
                "CREATE INDEX statehouse_versions_by_agent ON statehouse_versions(ns_id, agent_id, commit_ts)",
                """
                CREATE INDEX statehouse_versions_by_expiry ON statehouse_versions(expires_at)
                    WHERE expires_at IS NOT NULL
                """,
                """
                CREATE TABLE statehouse_agent_events(
                    ns_id BIGINT NOT NULL,
                    commit_ts BIGINT NOT NULL,
                    op_index INTEGER NOT NULL,
                    agent_id TEXT COLLATE "C" NOT NULL,
                    session_id TEXT,
                    type TEXT NOT NULL,
                    actor TEXT,
                    occurred_at BIGINT NOT NULL,
                    PRIMARY KEY(ns_id, commit_ts, op_index)
                )
                """,
                """
                CREATE INDEX statehouse_agent_events_by_agent
                    ON statehouse_agent_events(ns_id, agent_id, commit_ts, op_index)
                """,
                """
                CREATE INDEX statehouse_agent_events_by_session
                    ON statehouse_agent_events(ns_id, session_id, commit_ts, op_index) WHERE session_id IS NOT NULL
                """,
                """
                CREATE INDEX statehouse_agent_events_by_type
                    ON statehouse_agent_events(ns_id, type, commit_ts, op_index)
                """,
                """
                CREATE INDEX statehouse_agent_events_by_actor
                    ON statehouse_agent_events(ns_id, actor, commit_ts, op_index) WHERE actor IS NOT NULL
                """,
                """
                CREATE INDEX statehouse_agent_events_by_time
                    ON statehouse_agent_events(ns_id, occurred_at, commit_ts, op_index)
                """,
                // `body_vector` holds the words of `body` split as FTS5 splits them (PostgresSearchIndex.separators);
                // the names compare as bytes with `statehouse_versions`' (a document is current when no newer version
                // of its key exists there).
                """
                CREATE TABLE statehouse_search_docs(
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    ns_id BIGINT NOT NULL,
                    kind SMALLINT NOT NULL,
                    agent_id TEXT COLLATE "C",
                    key TEXT COLLATE "C",
                    version BIGINT,
                    event_id TEXT COLLATE "C",
                    type TEXT,
                    session_id TEXT,
                    actor TEXT,
                    commit_ts BIGINT NOT NULL,
                    at BIGINT NOT NULL,
                    body TEXT NOT NULL,
                    body_vector TSVECTOR GENERATED ALWAYS AS (\(PostgresSearchIndex.vectorExpression)) STORED
                )
                """,
                "CREATE INDEX statehouse_search_docs_text ON statehouse_search_docs USING GIN(body_vector)",
                """
                CREATE INDEX statehouse_search_docs_by_version
                    ON statehouse_search_docs(ns_id, agent_id, key, version) WHERE kind = 1
                """,
                """
                CREATE INDEX statehouse_search_docs_by_agent
                    ON statehouse_search_docs(ns_id, agent_id, type, kind) WHERE agent_id IS NOT NULL
                """,
            ]
        ),
        Migration(
            version: 2,
            // Artifacts shared by every daemon (PostgresArtifactStore): an upload's chunks under a blob row, and the
            // namespace's blobs by SHA-256 naming the upload that stored each. Chunks are stored out of line and
            // uncompressed (most artifacts are compressed already).
            statements: [
                """
                CREATE TABLE statehouse_artifact_blobs(
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    namespace TEXT COLLATE "C" NOT NULL,
                    started_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX statehouse_artifact_blobs_by_namespace ON statehouse_artifact_blobs(namespace, started_at)",
                """
                CREATE TABLE statehouse_artifact_chunks(
                    blob_id BIGINT NOT NULL REFERENCES statehouse_artifact_blobs(id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    bytes BYTEA NOT NULL,
                    PRIMARY KEY(blob_id, seq)
                )
                """,
                "ALTER TABLE statehouse_artifact_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL",
                """
                CREATE TABLE statehouse_artifacts(
                    namespace TEXT COLLATE "C" NOT NULL,
                    sha256 TEXT COLLATE "C" NOT NULL,
                    blob_id BIGINT NOT NULL REFERENCES statehouse_artifact_blobs(id),
                    size BIGINT NOT NULL,
                    stored_at BIGINT NOT NULL,
                    PRIMARY KEY(namespace, sha256)
                )
                """,
                "CREATE INDEX statehouse_artifacts_by_blob ON statehouse_artifacts(blob_id)",
            ]
        ),
    ]

    /// The newest schema version this build knows.
    public static var latestVersion: Int { self.migrations.last?.version ?? 0 }

    /// Brings the database's schema to ``latestVersion``; returns the versions this call applied (none when another
    /// daemon had, or the schema was current).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/unavailable(_:)`` for a schema newer than this build knows, or what
    ///   the database answers.
    @discardableResult
    public static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await PostgresErrors.translating("migrating the schema") {
            try await self.createBookkeeping(client, logger: logger)
            return try await self.applyMigrations(client, logger: logger)
        }
    }

    private static func applyMigrations(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withTransaction(logger: logger) { connection -> [Int] in
            let rows = try await connection.query(
                "SELECT version FROM statehouse_schema WHERE id = 1 FOR UPDATE", logger: logger)
            var current = 0
            for try await version in rows.decode(Int.self) { current = version }
            guard current <= self.latestVersion else {
                throw StatehouseError.unavailable(
                    "the database has schema version \(current), newer than this build supports "
                        + "(\(self.latestVersion)); upgrade Statehouse")
            }
            var applied: [Int] = []
            for migration in self.migrations where migration.version > current {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let version = migration.version
                try await connection.query(
                    "UPDATE statehouse_schema SET version = \(version), applied_at = now() WHERE id = 1",
                    logger: logger)
                try await connection.query(
                    "INSERT INTO statehouse_schema_history(version, applied_at) VALUES (\(version), now())",
                    logger: logger)
                applied.append(version)
            }
            return applied
        }
    }

    /// The schema version the database holds (0 before the first migration).
    public static func version(_ client: PostgresClient, logger: Logger) async throws -> Int {
        try await PostgresErrors.translating("reading the schema version") {
            // A query naming a table that does not exist fails as it is parsed, whatever its WHERE: ask first.
            var exists = false
            for try await found in try await client.query(
                "SELECT to_regclass('statehouse_schema') IS NOT NULL", logger: logger
            ).decode(Bool.self) {
                exists = found
            }
            guard exists else { return 0 }
            var version = 0
            for try await value in try await client.query(
                "SELECT version FROM statehouse_schema WHERE id = 1", logger: logger
            ).decode(Int.self) {
                version = value
            }
            return version
        }
    }

    /// The lock row and the history, made once. Two daemons creating them at the same moment can collide in
    /// PostgreSQL's catalog (a unique violation on the type name) even with IF NOT EXISTS: the loser tries again and
    /// finds them there.
    private static func createBookkeeping(_ client: PostgresClient, logger: Logger) async throws {
        let statements = [
            """
            CREATE TABLE IF NOT EXISTS statehouse_schema(
                id INTEGER PRIMARY KEY CHECK (id = 1),
                version INTEGER NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS statehouse_schema_history(
                version INTEGER PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL
            )
            """,
            "INSERT INTO statehouse_schema(id, version, applied_at) VALUES (1, 0, now()) ON CONFLICT (id) DO NOTHING",
        ]
        for attempt in 1...3 {
            do {
                for statement in statements {
                    try await client.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                return
            } catch let error as PSQLError
                where ["23505", "42710", "42P07"].contains(error.serverInfo?[.sqlState] ?? "") && attempt < 3
            {
                // CREATE TABLE IF NOT EXISTS races with the same statement of another daemon: the loser fails on the
                // catalog (unique_violation on pg_type, duplicate_object or duplicate_table) instead of finding the
                // table; the next attempt finds it.
                continue
            }
        }
    }
}
