/// A namespace's Merkle tree at one size: the root over its first `treeSize` events (leaf i is the event with
/// commit_ts i + 1). Size 0 is the empty tree, whose root is SHA-256 of no bytes.
public struct TreeHead: Sendable, Hashable {
    public var namespace: String
    public var treeSize: UInt64
    public var rootHash: EventHash

    public init(namespace: String, treeSize: UInt64, rootHash: EventHash) {
        self.namespace = namespace
        self.treeSize = treeSize
        self.rootHash = rootHash
    }
}

/// The audit path that proves the event with `commitTS` is leaf commitTS − 1 of the tree of `treeSize` events
/// (RFC 9162 §2.1.3): sibling hashes from the leaf up.
public struct InclusionProof: Sendable, Hashable {
    public var namespace: String
    public var commitTS: CommitTS
    public var treeSize: UInt64
    public var hashes: [EventHash]

    public init(namespace: String, commitTS: CommitTS, treeSize: UInt64, hashes: [EventHash]) {
        self.namespace = namespace
        self.commitTS = commitTS
        self.treeSize = treeSize
        self.hashes = hashes
    }
}

/// The proof that the tree of `newSize` events extends the tree of `oldSize` events: nothing in the first
/// `oldSize` was changed, dropped or reordered (RFC 9162 §2.1.4).
public struct ConsistencyProof: Sendable, Hashable {
    public var namespace: String
    public var oldSize: UInt64
    public var newSize: UInt64
    public var hashes: [EventHash]

    public init(namespace: String, oldSize: UInt64, newSize: UInt64, hashes: [EventHash]) {
        self.namespace = namespace
        self.oldSize = oldSize
        self.newSize = newSize
        self.hashes = hashes
    }
}
