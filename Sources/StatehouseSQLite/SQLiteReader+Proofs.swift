import StatehouseCore
import StatehouseLedger

extension SQLiteReader {
    /// The tree of the first `size` events (the whole log when `nil`); call inside ``snapshot(_:)``.
    func treeHead(namespace: String, size: UInt64?) throws -> TreeHead {
        let head = try self.head(namespace: namespace)
        let size = try head.treeSize(size, what: "tree size")
        guard size > 0, let namespaceID = try self.namespaceID(namespace) else {
            return TreeHead(namespace: namespace, treeSize: 0, rootHash: MerkleTree.emptyRoot)
        }
        if let root = self.nodeCache.root(namespaceID, size: size) {
            return TreeHead(namespace: namespace, treeSize: size, rootHash: root)
        }
        let source = SQLiteMerkleNodes.Source(
            connection: self.connection, namespaceID: namespaceID, cache: self.nodeCache)
        let root = try MerkleProofs.root(size: size, from: source)
        self.nodeCache.putRoot(namespaceID, size: size, root)
        return TreeHead(namespace: namespace, treeSize: size, rootHash: root)
    }

    /// Call inside ``snapshot(_:)``.
    func inclusionProof(namespace: String, commitTS: CommitTS, treeSize: UInt64?) throws -> InclusionProof {
        let (head, namespaceID) = try self.provableNamespace(namespace)
        let size = try head.treeSize(treeSize, what: "tree size")
        guard commitTS >= 1, commitTS <= size else {
            throw StatehouseError.invalidArgument(
                "commit_ts \(commitTS) is not in the tree of size \(size) of namespace '\(namespace)' "
                    + "(its events are commit_ts 1 to \(size))")
        }
        return try self.proof(namespace: namespace, namespaceID: namespaceID, commitTS: commitTS, treeSize: size)
    }

    /// The inclusion proof of a commit_ts already checked to be in the tree of `treeSize` events.
    private func proof(
        namespace: String, namespaceID: Int64, commitTS: CommitTS, treeSize: UInt64
    ) throws -> InclusionProof {
        let source = SQLiteMerkleNodes.Source(
            connection: self.connection, namespaceID: namespaceID, cache: self.nodeCache)
        return InclusionProof(
            namespace: namespace, commitTS: commitTS, treeSize: treeSize,
            hashes: try MerkleProofs.inclusionProof(leafIndex: commitTS - 1, treeSize: treeSize, from: source))
    }

    /// Call inside ``snapshot(_:)``.
    func consistencyProof(namespace: String, oldSize: UInt64, newSize: UInt64?) throws -> ConsistencyProof {
        let (head, namespaceID) = try self.provableNamespace(namespace)
        let size = try head.treeSize(newSize, what: "new tree size")
        guard oldSize <= size else {
            throw StatehouseError.invalidArgument(
                "the old tree size \(oldSize) is larger than the new tree size \(size) of namespace '\(namespace)'")
        }
        let source = SQLiteMerkleNodes.Source(
            connection: self.connection, namespaceID: namespaceID, cache: self.nodeCache)
        return ConsistencyProof(
            namespace: namespace, oldSize: oldSize, newSize: size,
            hashes: try MerkleProofs.consistencyProof(oldSize: oldSize, newSize: size, from: source))
    }

    /// Call inside ``snapshot(_:)``.
    func verifiedRead(
        namespace: String, agentID: String, key: String, at point: StoragePoint, knownTreeSize: UInt64?
    ) throws -> StorageVerifiedRead {
        let record = try self.get(namespace: namespace, agentID: agentID, key: key, at: point)
        let head = try self.treeHead(namespace: namespace, size: nil)
        var event: Event?
        var proof: InclusionProof?
        if record.version > 0, let namespaceID = try self.namespaceID(namespace) {
            let events = try SQLiteQueries.events(
                EventQuery(
                    namespace: namespace, fromCommitTS: record.commitTS, toCommitTS: record.commitTS, limit: 1,
                    maxBytes: Int.max),
                namespaceID: namespaceID, on: self.connection)
            guard let found = events.first, found.commitTS == record.commitTS else {
                throw StatehouseError.dataCorruption(
                    commitTS: record.commitTS, reason: "the event that wrote the version read is missing")
            }
            event = found
            // The tree size is the head just read in this snapshot, so the bounds hold; no second head read.
            proof = try self.proof(
                namespace: namespace, namespaceID: namespaceID, commitTS: record.commitTS, treeSize: head.treeSize)
        }
        let consistency = try knownTreeSize.map {
            try self.consistencyProof(namespace: namespace, oldSize: $0, newSize: head.treeSize)
        }
        return StorageVerifiedRead(record: record, head: head, event: event, proof: proof, consistency: consistency)
    }

    /// Call inside ``snapshot(_:)``.
    func treePrefix(namespace: String, size: UInt64) throws -> [EventHash] {
        let head = try self.head(namespace: namespace)
        let size = try head.treeSize(size, what: "tree size")
        guard size > 0, let namespaceID = try self.namespaceID(namespace) else { return [] }
        let frontier = try MerkleFrontier(
            size: size,
            from: SQLiteMerkleNodes.Source(connection: self.connection, namespaceID: namespaceID, cache: self.nodeCache)
        )
        return frontier.subtrees.map(\.hash)
    }

    /// Call inside ``snapshot(_:)``.
    func completedTreeNodes(namespace: String, from: CommitTS, to: CommitTS) throws -> [[EventHash]] {
        guard from <= to, let namespaceID = try self.namespaceID(namespace) else { return [] }
        let statement = try self.connection.statement(
            "SELECT commit_ts, merkle_nodes FROM events WHERE ns_id = ? AND commit_ts >= ? AND commit_ts <= ? ORDER BY commit_ts"
        )
        statement.bind(0, namespaceID)
        statement.bind(1, SQLiteQueries.sqlInteger(from))
        statement.bind(2, SQLiteQueries.sqlInteger(to))
        var nodes: [[EventHash]] = []
        var expected = from
        while try statement.step() {
            let commitTS = statement.uint64(0)
            while expected < commitTS {  // a missing event: no nodes
                nodes.append([])
                expected += 1
            }
            let bytes = statement.isNull(1) ? [] : statement.blob(1)
            nodes.append(
                bytes.count % 32 == 0
                    ? stride(from: 0, to: bytes.count, by: 32).map { EventHash(bytes: bytes[$0..<$0 + 32])! } : [])
            expected += 1
        }
        return nodes
    }

    /// The head and id of a namespace that has commits; proofs of an empty log do not exist.
    private func provableNamespace(_ namespace: String) throws -> (LogHead, Int64) {
        let head = try self.head(namespace: namespace)
        guard head.commitTS > 0, let namespaceID = try self.namespaceID(namespace) else {
            throw StatehouseError.notFound("namespace '\(namespace)' has no commits")
        }
        return (head, namespaceID)
    }
}
