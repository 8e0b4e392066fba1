import NIOCore
import PostgresNIO
public import StatehouseCore
public import StatehouseLedger
public import StatehouseModel

/// Proofs from the stored tree (docs/architecture.md, "Proofs"), each from one snapshot.
extension PostgresBackend {
    /// The head and id of a namespace that has commits; proofs of an empty log do not exist.
    private func provable(
        _ namespace: String, on connection: PostgresConnection
    ) async throws -> (
        id: Int64, head: LogHead
    ) {
        guard let found = try await self.namespace(namespace, on: connection) else {
            throw StatehouseError.notFound("namespace '\(namespace)' has no commits")
        }
        return found
    }

    public func inclusionProof(
        namespace: String, commitTS: CommitTS, treeSize: UInt64?
    ) async throws
        -> InclusionProof
    {
        try await self.snapshot("making an inclusion proof") { connection in
            let found = try await self.provable(namespace, on: connection)
            let size = try found.head.treeSize(treeSize, what: "tree size")
            guard commitTS >= 1, commitTS <= size else {
                throw StatehouseError.invalidArgument(
                    "commit_ts \(commitTS) is not in the tree of size \(size) of namespace '\(namespace)' "
                        + "(its events are commit_ts 1 to \(size))")
            }
            return try await self.inclusionProof(
                namespace: namespace, namespaceID: found.id, commitTS: commitTS, treeSize: size, on: connection)
        }
    }

    private func inclusionProof(
        namespace: String, namespaceID: Int64, commitTS: CommitTS, treeSize: UInt64, on connection: PostgresConnection
    ) async throws -> InclusionProof {
        let hashes = try await PostgresMerkleNodes.withNodes(
            namespaceID: namespaceID, on: connection, logger: self.logger
        ) { source in
            try MerkleProofs.inclusionProof(leafIndex: commitTS - 1, treeSize: treeSize, from: source)
        }
        return InclusionProof(namespace: namespace, commitTS: commitTS, treeSize: treeSize, hashes: hashes)
    }

    public func consistencyProof(
        namespace: String, oldSize: UInt64, newSize: UInt64?
    ) async throws
        -> ConsistencyProof
    {
        try await self.snapshot("making a consistency proof") { connection in
            let found = try await self.provable(namespace, on: connection)
            return try await self.consistencyProof(
                namespace: namespace, namespaceID: found.id, head: found.head, oldSize: oldSize, newSize: newSize,
                on: connection)
        }
    }

    private func consistencyProof(
        namespace: String, namespaceID: Int64, head: LogHead, oldSize: UInt64, newSize: UInt64?,
        on connection: PostgresConnection
    ) async throws -> ConsistencyProof {
        let size = try head.treeSize(newSize, what: "new tree size")
        guard oldSize <= size else {
            throw StatehouseError.invalidArgument(
                "the old tree size \(oldSize) is larger than the new tree size \(size) of namespace '\(namespace)'")
        }
        let hashes = try await PostgresMerkleNodes.withNodes(
            namespaceID: namespaceID, on: connection, logger: self.logger
        ) { source in
            try MerkleProofs.consistencyProof(oldSize: oldSize, newSize: size, from: source)
        }
        return ConsistencyProof(namespace: namespace, oldSize: oldSize, newSize: size, hashes: hashes)
    }

    public func treePrefix(namespace: String, size: UInt64) async throws -> [EventHash] {
        try await self.snapshot("reading a tree's frontier") { connection in
            guard let found = try await self.namespace(namespace, on: connection) else {
                _ = try LogHead.empty(namespace).treeSize(size, what: "tree size")
                return []
            }
            let size = try found.head.treeSize(size, what: "tree size")
            return try await PostgresMerkleNodes.frontier(
                size: size, namespaceID: found.id, on: connection, logger: self.logger
            ).subtrees.map(\.hash)
        }
    }

    public func completedTreeNodes(namespace: String, from: CommitTS, to: CommitTS) async throws -> [[EventHash]] {
        guard from <= to else { return [] }
        return try await self.snapshot("reading tree nodes") { connection in
            guard let found = try await self.namespace(namespace, on: connection) else { return [] }
            let rows = try await connection.query(
                """
                SELECT commit_ts, merkle_nodes FROM statehouse_events
                WHERE ns_id = \(found.id) AND commit_ts BETWEEN \(PostgresColumns.bound(from))
                                                            AND \(PostgresColumns.bound(to))
                ORDER BY commit_ts
                """, logger: self.logger)
            var nodes: [[EventHash]] = []
            var expected = from
            for try await (commitTS, stored) in rows.decode((Int64, ByteBuffer?).self) {
                let commitTS = PostgresColumns.uint(commitTS)
                while expected < commitTS {  // a missing event: no nodes
                    nodes.append([])
                    expected += 1
                }
                let bytes = stored.map(PostgresColumns.array) ?? []
                nodes.append(
                    bytes.count % 32 == 0
                        ? stride(from: 0, to: bytes.count, by: 32).map { EventHash(bytes: bytes[$0..<$0 + 32])! } : [])
                expected += 1
            }
            return nodes
        }
    }

    public func verifiedRead(
        namespace: String, agentID: String, key: String, at point: StoragePoint, knownTreeSize: UInt64?
    ) async throws -> StorageVerifiedRead {
        try await self.snapshot("making a verified read") { connection in
            let found = try await self.namespace(namespace, on: connection)
            if case .commit(let commitTS) = point {
                try Self.requireWithinLog(commitTS, head: found?.head, namespace: namespace)
            }
            guard let found else {
                // As from SQLite: a consistency proof of an empty log does not exist.
                if knownTreeSize != nil { throw StatehouseError.notFound("namespace '\(namespace)' has no commits") }
                return StorageVerifiedRead(
                    record: .missing(agentID: agentID, key: key),
                    head: TreeHead(namespace: namespace, treeSize: 0, rootHash: MerkleTree.emptyRoot), event: nil,
                    proof: nil, consistency: nil)
            }
            let record = try await self.read(
                namespaceID: found.id, agentID: agentID, key: key, at: point, on: connection)
            let size = found.head.commitTS
            let frontier = try await PostgresMerkleNodes.frontier(
                size: size, namespaceID: found.id, on: connection, logger: self.logger)
            let head = TreeHead(namespace: namespace, treeSize: size, rootHash: frontier.root)
            var event: Event?
            var proof: InclusionProof?
            if record.version > 0 {
                let events = try await self.events(
                    EventQuery(
                        namespace: namespace, fromCommitTS: record.commitTS, toCommitTS: record.commitTS, limit: 1,
                        maxBytes: Int.max), on: connection)
                guard let written = events.first, written.commitTS == record.commitTS else {
                    throw StatehouseError.dataCorruption(
                        commitTS: record.commitTS, reason: "the event that wrote the version read is missing")
                }
                event = written
                proof = try await self.inclusionProof(
                    namespace: namespace, namespaceID: found.id, commitTS: record.commitTS, treeSize: size,
                    on: connection)
            }
            let consistency = try await knownTreeSize.asyncMap {
                try await self.consistencyProof(
                    namespace: namespace, namespaceID: found.id, head: found.head, oldSize: $0, newSize: size,
                    on: connection)
            }
            return StorageVerifiedRead(
                record: record, head: head, event: event, proof: proof, consistency: consistency)
        }
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
