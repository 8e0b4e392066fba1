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

extension PostgresMerkleNodes {
    /// Runs a proof construction against the stored tree in two passes: `build` first runs over a source that only
    /// records which nodes it asks for (the nodes a proof needs depend on the sizes and the leaf's index, never on the
    /// hashes), then those nodes are read in one statement and `build` runs again over them. A proof costs two round
    /// trips instead of one per node.
    static func withNodes<Result>(
        namespaceID: Int64, on connection: PostgresConnection, logger: Logger,
        _ build: (any MerkleNodeSource) throws -> Result
    ) async throws -> Result {
        let recorder = RecordingSource()
        _ = try build(recorder)
        let addresses = Array(recorder.addresses)
        var nodes: [NodeAddress: EventHash] = [:]
        if !addresses.isEmpty {
            let commitTSs = addresses.map { PostgresColumns.int(($0.index + 1) << UInt64($0.level)) }
            let levels = addresses.map { Int32($0.level) }
            let rows = try await connection.query(
                """
                SELECT a.commit_ts, a.level, substring(e.merkle_nodes FROM a.level * 32 + 1 FOR 32)
                FROM unnest(\(commitTSs)::bigint[], \(levels)::int[]) AS a(commit_ts, level)
                LEFT JOIN statehouse_events e ON e.ns_id = \(namespaceID) AND e.commit_ts = a.commit_ts
                """, logger: logger)
            for try await (commitTS, level, node) in rows.decode((Int64, Int32, ByteBuffer?).self) {
                guard let node, let hash = EventHash(bytes: node.readableBytesView) else {
                    throw StatehouseError.dataCorruption(
                        commitTS: PostgresColumns.uint(commitTS), reason: "the event's stored tree nodes are missing")
                }
                let address = NodeAddress(
                    level: Int(level), index: (PostgresColumns.uint(commitTS) >> UInt64(level)) - 1)
                nodes[address] = hash
            }
        }
        return try build(StoredSource(nodes: nodes))
    }

    /// Answers every node with a placeholder and remembers which were asked for.
    private final class RecordingSource: MerkleNodeSource {
        var addresses: Set<NodeAddress> = []

        func node(_ address: NodeAddress) throws -> EventHash {
            self.addresses.insert(address)
            return .zero
        }
    }

    private struct StoredSource: MerkleNodeSource {
        let nodes: [NodeAddress: EventHash]

        func node(_ address: NodeAddress) throws -> EventHash {
            guard let hash = self.nodes[address] else {
                throw StatehouseError.dataCorruption(
                    commitTS: (address.index + 1) << UInt64(address.level), reason: "a stored tree node is missing")
            }
            return hash
        }
    }
}
