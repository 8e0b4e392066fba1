extension StatehouseEngine {
    /// The Merkle tree head of a namespace: its root over the first `size` events, or over the whole log when `size`
    /// is `nil`. A namespace with no commits has the empty tree (size 0).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a bad namespace name or a size beyond
    ///   the end of the log.
    public func treeHead(namespace: String = "default", size: UInt64? = nil) async throws -> TreeHead {
        try self.validateNamespace(namespace)
        return try await self.backend.treeHead(namespace: namespace, size: size)
    }

    /// The proof that the event with `commitTS` is in the namespace's tree of `treeSize` events (the whole log when
    /// `nil`); check it with `MerkleVerification.verifyInclusion` against that tree's root.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` for a namespace without commits;
    ///   ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for commit_ts 0, one beyond the tree, or a tree
    ///   beyond the end of the log.
    public func inclusionProof(
        namespace: String = "default", commitTS: CommitTS, treeSize: UInt64? = nil
    ) async throws -> InclusionProof {
        try self.validateNamespace(namespace)
        return try await self.backend.inclusionProof(namespace: namespace, commitTS: commitTS, treeSize: treeSize)
    }

    /// The proof that the namespace's tree of `newSize` events (the whole log when `nil`) extends its tree of
    /// `oldSize` events; check it with `MerkleVerification.verifyConsistency` against both roots.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` for a namespace without commits;
    ///   ``StatehouseModel/StatehouseError/invalidArgument(_:)`` when `oldSize` > `newSize` or `newSize` is beyond
    ///   the end of the log.
    public func consistencyProof(
        namespace: String = "default", oldSize: UInt64, newSize: UInt64? = nil
    ) async throws -> ConsistencyProof {
        try self.validateNamespace(namespace)
        return try await self.backend.consistencyProof(namespace: namespace, oldSize: oldSize, newSize: newSize)
    }
}
