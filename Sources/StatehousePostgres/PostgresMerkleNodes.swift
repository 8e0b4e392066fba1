import NIOCore
import PostgresNIO
import StatehouseLedger
import StatehouseModel

/// The stored Merkle tree of every namespace, kept in the events table as in SQLite
/// (Sources/StatehouseSQLite/SQLiteMerkleNodes.swift): the event with commit_ts t stores, in `merkle_nodes`, the hashes
/// of the nodes its append completed, level 0 first, 32 bytes each; node (level l, index i) is bytes [32·l, 32·l + 32)
/// of the event whose commit_ts is (i + 1)·2^l.
enum PostgresMerkleNodes {
    /// The frontier of the tree of the namespace's first `size` events (its perfect subtrees, largest first), read in
    /// one statement.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` naming the event whose stored
    ///   nodes are missing.
    static func frontier(
        size: UInt64, namespaceID: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws -> MerkleFrontier {
        guard size > 0 else { return MerkleFrontier() }
        var commitTSs: [Int64] = []
        var levels: [Int32] = []
        var start: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size & (1 << UInt64(level)) != 0 {
            // The subtree of leaves [start, start + 2^level) was completed by its last leaf's event.
            start += 1 << UInt64(level)
            commitTSs.append(PostgresColumns.int(start))
            levels.append(Int32(level))
        }
        let rows = try await connection.query(
            """
            SELECT a.commit_ts, substring(e.merkle_nodes FROM a.level * 32 + 1 FOR 32)
            FROM unnest(\(commitTSs)::bigint[], \(levels)::int[]) AS a(commit_ts, level)
            LEFT JOIN statehouse_events e ON e.ns_id = \(namespaceID) AND e.commit_ts = a.commit_ts
            ORDER BY a.commit_ts
            """, logger: logger)
        var hashes: [EventHash] = []
        for try await (commitTS, node) in rows.decode((Int64, ByteBuffer?).self) {
            guard let node, let hash = EventHash(bytes: node.readableBytesView) else {
                throw StatehouseError.dataCorruption(
                    commitTS: PostgresColumns.uint(commitTS),
                    reason: "the event's stored tree nodes are missing; the namespace takes no commits until repaired")
            }
            hashes.append(hash)
        }
        guard hashes.count == commitTSs.count else {
            throw StatehouseError.dataCorruption(commitTS: size, reason: "the namespace's tree nodes cannot be read")
        }
        return MerkleFrontier(size: size, subtreeHashes: hashes)
    }
}
