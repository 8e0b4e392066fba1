public import StatehouseModel

/// Where proof generation reads the stored perfect subtrees from (a backend's node table, or memory in tests).
public protocol MerkleNodeSource {
    /// The hash of a stored perfect subtree; throws when it is missing, which means the store is damaged.
    func node(_ address: NodeAddress) throws -> EventHash
}

/// Produces roots and proofs (RFC 9162 §2.1.3 and §2.1.4) from stored perfect subtrees, reading O(log n) of them.
public enum MerkleProofs {
    /// The root of the tree of the first `size` leaves.
    public static func root(size: UInt64, from source: some MerkleNodeSource) throws -> EventHash {
        size == 0 ? MerkleTree.emptyRoot : try self.subtreeRoot(start: 0, count: size, source)
    }

    /// The inclusion proof (audit path) of leaf `leafIndex` in the tree of the first `treeSize` leaves: RFC 9162's
    /// PATH(m, D[n]), ordered from the leaf's sibling up to the root's child.
    public static func inclusionProof(
        leafIndex: UInt64, treeSize: UInt64, from source: some MerkleNodeSource
    ) throws -> [EventHash] {
        precondition(leafIndex < treeSize, "the leaf must be inside the tree")
        var proof: [EventHash] = []
        try self.path(leafIndex, start: 0, count: treeSize, source, into: &proof)
        return proof
    }

    /// The consistency proof between the trees of the first `oldSize` and `newSize` leaves: RFC 9162's
    /// PROOF(m, D[n]). Empty when the sizes are equal or `oldSize` is 0 (every tree extends the empty one).
    public static func consistencyProof(
        oldSize: UInt64, newSize: UInt64, from source: some MerkleNodeSource
    ) throws -> [EventHash] {
        precondition(oldSize <= newSize, "the old tree cannot be larger than the new one")
        guard oldSize > 0, oldSize < newSize else { return [] }
        var proof: [EventHash] = []
        try self.subproof(oldSize, start: 0, count: newSize, isWholeOldTree: true, source, into: &proof)
        return proof
    }

    /// The perfect subtrees whose roots fold into the root of leaves [start, start + count): the addresses that
    /// ``root(size:from:)`` reads, for a backend that wants to fetch them in one query.
    static func subtreeRoot(start: UInt64, count: UInt64, _ source: some MerkleNodeSource) throws -> EventHash {
        if count & (count - 1) == 0 {
            // A perfect subtree; every range the RFC's recursion produces that is a power of two is also aligned.
            let level = count.trailingZeroBitCount
            return try source.node(NodeAddress(level: level, index: start >> UInt64(level)))
        }
        let k = MerkleTree.split(count)
        return MerkleTree.nodeHash(
            try self.subtreeRoot(start: start, count: k, source),
            try self.subtreeRoot(start: start + k, count: count - k, source)
        )
    }

    private static func path(
        _ m: UInt64, start: UInt64, count: UInt64, _ source: some MerkleNodeSource, into proof: inout [EventHash]
    ) throws {
        guard count > 1 else { return }
        let k = MerkleTree.split(count)
        if m < k {
            try self.path(m, start: start, count: k, source, into: &proof)
            proof.append(try self.subtreeRoot(start: start + k, count: count - k, source))
        } else {
            try self.path(m - k, start: start + k, count: count - k, source, into: &proof)
            proof.append(try self.subtreeRoot(start: start, count: k, source))
        }
    }

    private static func subproof(
        _ m: UInt64, start: UInt64, count: UInt64, isWholeOldTree: Bool, _ source: some MerkleNodeSource,
        into proof: inout [EventHash]
    ) throws {
        if m == count {
            if !isWholeOldTree { proof.append(try self.subtreeRoot(start: start, count: count, source)) }
            return
        }
        let k = MerkleTree.split(count)
        if m <= k {
            try self.subproof(m, start: start, count: k, isWholeOldTree: isWholeOldTree, source, into: &proof)
            proof.append(try self.subtreeRoot(start: start + k, count: count - k, source))
        } else {
            try self.subproof(m - k, start: start + k, count: count - k, isWholeOldTree: false, source, into: &proof)
            proof.append(try self.subtreeRoot(start: start, count: k, source))
        }
    }
}
