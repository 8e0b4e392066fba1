import Synchronization

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

extension StatehouseEngine {
    /// The public key that signs this engine's tree heads.
    public var ledgerPublicKey: LedgerPublicKey { self.signer.publicKey }

    /// The namespace's tree head over its first `size` events (the whole log when `nil`), signed with the ledger key.
    ///
    /// The head of the whole log is signed once per tree size: while no commit arrives, every caller gets the same
    /// signed head (and timestamp).
    ///
    /// - Throws: as ``treeHead(namespace:size:)``.
    public func signedTreeHead(namespace: String = "default", size: UInt64? = nil) async throws -> SignedTreeHead {
        // The reader keeps roots by size, so an unchanged tree costs one head read; `sign` reuses its signature.
        return try self.sign(try await self.treeHead(namespace: namespace, size: size))
    }

    /// Reads a key with what a client needs to check the read against a signed head: the event that wrote the version
    /// read, its inclusion proof in the head's tree, the signed head, and the consistency proof from
    /// `knownTreeSize` (a head the client verified before) when given.
    ///
    /// This proves that the version returned was committed, with this content, as that event of the signed log. It
    /// does not prove that no later version exists: the log's tree orders events, not keys.
    ///
    /// - Throws: what ``get(namespace:agentID:key:at:)`` throws, and
    ///   ``StatehouseModel/StatehouseError/invalidArgument(_:)`` when `knownTreeSize` is beyond the log.
    public func verifiedGet(
        namespace: String = "default", agentID: String, key: String, at point: ReadPoint = .latest,
        knownTreeSize: UInt64? = nil
    ) async throws -> VerifiedState {
        try self.validateAddress(namespace: namespace, agentID: agentID, key: key)
        // One snapshot for the record, the tree and the proofs; only signing happens here.
        let read = try await self.backend.verifiedRead(
            namespace: namespace, agentID: agentID, key: key,
            at: try await self.storagePoint(point, namespace: namespace),
            knownTreeSize: knownTreeSize)
        return VerifiedState(
            record: read.record, event: read.event, proof: read.proof, head: try self.sign(read.head),
            consistency: read.consistency)
    }

    /// Signs `head`, reusing the signature of the namespace's latest head when it is the same tree.
    func sign(_ head: TreeHead) throws -> SignedTreeHead {
        if let cached = self.signedHeads.withLock({ $0[head.namespace] }), cached.head == head { return cached }
        let signed = try self.signer.sign(head, timestamp: self.clock.wallMicroseconds())
        self.signedHeads.withLock { heads in
            if (heads[head.namespace]?.head.treeSize ?? 0) <= head.treeSize { heads[head.namespace] = signed }
        }
        return signed
    }
}

extension StatehouseEngine {
    /// The roots of the perfect subtrees that make up the namespace's first `size` events, largest first: the
    /// starting point from which a verifier holding events `size + 1 …` recomputes later roots (audit bundles).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` when `size` is beyond the end of the log.
    public func treePrefix(namespace: String = "default", size: UInt64) async throws -> [EventHash] {
        try self.validateNamespace(namespace)
        return try await self.backend.treePrefix(namespace: namespace, size: size)
    }
}
