import NIOCore
import PostgresNIO
import StatehouseModel

/// Queries more than one part of the backend runs.
enum PostgresQueries {
    /// A stored commit's result with its idempotency key: the columns ``decode(_:)`` reads, before a WHERE on `e`.
    private static let storedCommits = """
        SELECT e.txn_id, n.name, e.commit_ts, e.committed_at, e.hash, e.idempotency_key, e.request_digest,
            ARRAY(SELECT version FROM statehouse_versions v WHERE v.ns_id = e.ns_id AND v.commit_ts = e.commit_ts
                  ORDER BY v.op_index)
        FROM statehouse_events e JOIN statehouse_namespaces n ON n.id = e.ns_id
        """

    struct StoredCommit {
        var result: CommitResult
        var idempotencyKey: String?
        var requestDigest: [UInt8]
    }

    /// The stored commits of these transaction ids (exactly-once: a retry gets the first result).
    static func committedResults(
        txnIDs: [String], on connection: PostgresConnection, logger: Logger
    ) async throws -> [StoredCommit] {
        try await self.decode(
            connection.query(
                """
                \(unescaped: Self.storedCommits)
                WHERE e.txn_id = ANY(\(txnIDs)::text[])
                """, logger: logger))
    }

    /// The stored commits that used these idempotency keys in a namespace.
    static func committedResults(
        namespaceID: Int64, idempotencyKeys: [String], on connection: PostgresConnection, logger: Logger
    ) async throws -> [StoredCommit] {
        try await self.decode(
            connection.query(
                """
                \(unescaped: Self.storedCommits)
                WHERE e.ns_id = \(namespaceID) AND e.idempotency_key = ANY(\(idempotencyKeys)::text[])
                """, logger: logger))
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [StoredCommit] {
        var results: [StoredCommit] = []
        for try await (txnID, namespace, commitTS, committedAt, hash, idempotencyKey, digest, versions) in rows.decode(
            (String, String, Int64, Int64, ByteBuffer, String?, ByteBuffer?, [Int64]).self)
        {
            let commitTS = PostgresColumns.uint(commitTS)
            results.append(
                StoredCommit(
                    result: CommitResult(
                        namespace: namespace, txnID: txnID, commitTS: commitTS, committedAt: committedAt,
                        versions: versions.map(PostgresColumns.uint),
                        hash: try PostgresColumns.hash(hash, commitTS: commitTS)),
                    idempotencyKey: idempotencyKey, requestDigest: digest.map(PostgresColumns.array) ?? []))
        }
        return results
    }
}
