public import StatehouseModel

/// Checks proofs against roots the way any third party would (RFC 9162 §2.1.3.2 and §2.1.4.2): from the hashes
/// alone, with no access to the tree.
public enum MerkleVerification {
    /// Whether `proof` shows that the leaf with hash `leafHash` is leaf `leafIndex` of the tree of `treeSize` leaves
    /// whose root is `root`.
    public static func verifyInclusion(
        leafIndex: UInt64, treeSize: UInt64, leafHash: EventHash, proof: [EventHash], root: EventHash
    ) -> Bool {
        self.rootFromInclusion(leafIndex: leafIndex, treeSize: treeSize, leafHash: leafHash, proof: proof) == root
    }

    /// The root that an inclusion proof leads to, or `nil` when the proof has the wrong length for the position.
    public static func rootFromInclusion(
        leafIndex: UInt64, treeSize: UInt64, leafHash: EventHash, proof: [EventHash]
    ) -> EventHash? {
        guard leafIndex < treeSize else { return nil }
        var fn = leafIndex
        var sn = treeSize - 1
        var r = leafHash
        for p in proof {
            guard sn > 0 else { return nil }
            if fn & 1 == 1 || fn == sn {
                r = MerkleTree.nodeHash(p, r)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                r = MerkleTree.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 ? r : nil
    }

    /// Whether `proof` shows that the tree of `newSize` leaves with root `newRoot` extends the tree of `oldSize`
    /// leaves with root `oldRoot` (same first `oldSize` leaves, nothing rewritten).
    public static func verifyConsistency(
        oldSize: UInt64, newSize: UInt64, oldRoot: EventHash, newRoot: EventHash, proof: [EventHash]
    ) -> Bool {
        guard oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty && oldRoot == MerkleTree.emptyRoot }
        guard !proof.isEmpty else { return false }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            guard sn > 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleTree.nodeHash(c, fr)
                sr = MerkleTree.nodeHash(c, sr)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                sr = MerkleTree.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == oldRoot && sr == newRoot
    }
}
