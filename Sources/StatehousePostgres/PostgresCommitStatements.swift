import NIOCore
import PostgresNIO

/// The statements every commit batch runs, prepared once per connection (postgres-nio names them and parses each on
/// a connection's first use). As unnamed statements they were parsed on every batch: with PostgreSQL's statement log
/// on, parse and bind took about 0.6 ms of a 16-client batch's 3.1 ms, for statements whose text never changes.
/// Their parameters are arrays, so PostgreSQL still plans them per execution (see ``NewestVersion``); what is saved is
/// the parse and the analysis behind it.
enum PostgresCommitStatements {
    /// The namespaces' head rows, locked in name order (two daemons take them in one order: no deadlock).
    struct LockHeads: PostgresPreparedStatement {
        static let sql = """
            SELECT id, name, last_commit_ts, last_hash, last_committed_at FROM statehouse_namespaces
            WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE
            """
        typealias Row = (Int64, String, Int64, ByteBuffer, Int64)

        var names: [String]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(self.names)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The latest version of each key of one namespace (keys without one return no row).
    struct LatestVersions: NamespaceKeysStatement {
        static let sql = """
            SELECT k.agent_id, k.key, v.version, v.deleted, v.expires_at
            FROM unnest($1::text[], $2::text[]) AS k(agent_id, key)
            CROSS JOIN LATERAL (
                SELECT version, deleted, expires_at FROM statehouse_versions
                WHERE ns_id = $3 AND agent_id = k.agent_id AND key = k.key
                ORDER BY version DESC LIMIT 1
            ) AS v
            """
        typealias Row = (String, String, Int64, Bool, Int64?)

        var agentIDs: [String]
        var keys: [String]
        var namespaceID: Int64

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The latest version of each key of one namespace, each row with the namespace's head (commit_ts, hash), in one
    /// statement (one snapshot): when that head is the one this daemon's cache is at, the versions are exact there and
    /// join the cache (``PostgresCommitCache``). Keys without a version have NULL columns; a namespace without a row
    /// returns no row.
    struct LatestVersionsAtHead: NamespaceKeysStatement {
        static let sql = """
            SELECT n.last_commit_ts, n.last_hash, k.agent_id, k.key, v.version, v.deleted, v.expires_at
            FROM statehouse_namespaces AS n
            CROSS JOIN unnest($1::text[], $2::text[]) AS k(agent_id, key)
            LEFT JOIN LATERAL (
                SELECT version, deleted, expires_at FROM statehouse_versions
                WHERE ns_id = n.id AND agent_id = k.agent_id AND key = k.key
                ORDER BY version DESC LIMIT 1
            ) AS v ON true
            WHERE n.id = $3
            """
        typealias Row = (Int64, ByteBuffer, String, String, Int64?, Bool?, Int64?)

        var agentIDs: [String]
        var keys: [String]
        var namespaceID: Int64

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A batch's events, their versions and the namespaces' new heads in one statement (one round trip), whose one
    /// row is the number of heads moved; watchers on other daemons hear of each moved head (PostgreSQL delivers a
    /// transaction's notifications at its commit, and none if it rolls back). The versions' foreign key on their event
    /// is checked at the end of the statement, when the events are in. Empty strings and byte strings stand for NULL
    /// (an array parameter cannot hold NULL through postgres-nio's encoders).
    struct StoreBatch: PostgresPreparedStatement {
        static let sql = """
            WITH \(PostgresCommitStatements.insertRows(when: nil)), moved AS (
                UPDATE statehouse_namespaces AS n
                SET last_commit_ts = h.commit_ts, last_hash = h.hash, last_committed_at = h.committed_at
                FROM unnest($24::bigint[], $25::bigint[], $26::bytea[], $27::bigint[], $28::text[])
                    AS h(id, commit_ts, hash, committed_at, name)
                WHERE n.id = h.id
                RETURNING h.name, h.commit_ts
            )
            SELECT count(pg_notify($29, name || ' ' || commit_ts)) FROM moved
            """
        typealias Row = Int64

        /// The bindings in the order of the statement's parameters, made by the caller from its rows.
        var bindings: PostgresBindings

        func makeBindings() throws -> PostgresBindings { self.bindings }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
    }

    /// ``StoreBatch`` for a batch of one namespace decided from this daemon's cache (``PostgresCommitCache``), run
    /// outside a transaction: it moves the head only if it is still the one the batch was decided on ($25, $26), and
    /// inserts the rows only if it moved it. Its one row is 1 when it stored the batch, 0 when it stored nothing.
    /// Parameters $1 to $23 are ``StoreBatch``'s.
    ///
    /// A concurrent commit holding the head's row lock makes the UPDATE wait; once that commit is in, PostgreSQL
    /// checks the row's new version against the condition (READ COMMITTED), finds another head and moves nothing. A
    /// transaction id already stored (a retry) fails the statement on `statehouse_events_by_txn`, and nothing of it
    /// is stored. That unique index is the check: a lookup of the ids in the statement was planned as a scan of every
    /// event once PostgreSQL kept a generic plan made while the table was small (measured: most of PostgreSQL's CPU).
    struct StoreBatchIfHead: PostgresPreparedStatement {
        static let sql = """
            WITH moved AS (
                UPDATE statehouse_namespaces
                SET last_commit_ts = $27, last_hash = $28, last_committed_at = $29
                WHERE id = $24 AND last_commit_ts = $25 AND last_hash = $26
                RETURNING name, last_commit_ts
            ), \(PostgresCommitStatements.insertRows(when: "EXISTS (SELECT 1 FROM moved)"))
            SELECT count(pg_notify($30, name || ' ' || last_commit_ts)) FROM moved
            """
        typealias Row = Int64

        /// The bindings in the order of the statement's parameters, made by the caller from its rows.
        var bindings: PostgresBindings

        func makeBindings() throws -> PostgresBindings { self.bindings }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
    }

    /// The two CTEs both storing statements share, `inserted_events` and `inserted_versions`: a batch's events and
    /// their versions from parameters $1 to $23 (`unnest` of arrays), each row only `when` that holds (a condition on
    /// an earlier CTE; `nil`: always).
    static func insertRows(when condition: String?) -> String {
        let filter = condition.map { "\n    WHERE \($0)" } ?? ""
        return """
            inserted_events AS (
                INSERT INTO statehouse_events(ns_id, commit_ts, txn_id, committed_at, op_count, metadata,
                                              idempotency_key, request_digest, prev_hash, hash, merkle_nodes)
                SELECT ns_id, commit_ts, txn_id, committed_at, op_count, NULLIF(metadata, ''::bytea),
                    NULLIF(idempotency_key, ''), CASE WHEN idempotency_key = '' THEN NULL ELSE request_digest END,
                    prev_hash, hash, merkle_nodes
                FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::int[], $6::bytea[], $7::text[],
                            $8::bytea[], $9::bytea[], $10::bytea[], $11::bytea[])
                    AS e(ns_id, commit_ts, txn_id, committed_at, op_count, metadata, idempotency_key, request_digest,
                         prev_hash, hash, merkle_nodes)\(filter)
            ), inserted_versions AS (
                INSERT INTO statehouse_versions(ns_id, commit_ts, op_index, agent_id, key, version, committed_at,
                                                deleted, value, value_digest, expires_at)
                SELECT ns_id, commit_ts, op_index, agent_id, key, version, committed_at, deleted,
                    CASE WHEN deleted OR digest <> ''::bytea THEN NULL ELSE value END, NULLIF(digest, ''::bytea),
                    CASE WHEN expires THEN expires_at END
                FROM unnest($12::bigint[], $13::bigint[], $14::int[], $15::text[], $16::text[], $17::bigint[],
                            $18::bigint[], $19::boolean[], $20::bytea[], $21::bytea[], $22::boolean[], $23::bigint[])
                    AS v(ns_id, commit_ts, op_index, agent_id, key, version, committed_at, deleted, value, digest,
                         expires, expires_at)\(filter)
            )
            """
    }
}

/// A statement whose parameters are keys of one namespace: $1 their agents, $2 the keys, $3 the namespace's id.
protocol NamespaceKeysStatement: PostgresPreparedStatement {
    var agentIDs: [String] { get }
    var keys: [String] { get }
    var namespaceID: Int64 { get }
}

extension NamespaceKeysStatement {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(self.agentIDs)
        bindings.append(self.keys)
        bindings.append(self.namespaceID)
        return bindings
    }
}
