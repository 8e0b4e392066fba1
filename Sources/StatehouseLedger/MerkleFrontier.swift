public import StatehouseModel

/// The right edge of a growing tree: the roots of the perfect subtrees that make up its first `size` leaves, one per
/// set bit of `size`, largest first. Appending a leaf only needs this, so the writer keeps one per namespace in
/// memory and stores every node an append completes.
public struct MerkleFrontier: Sendable, Hashable {
    /// The number of leaves.
    public private(set) var size: UInt64 = 0
    /// The perfect subtrees, largest (leftmost) first.
    public private(set) var subtrees: [(address: NodeAddress, hash: EventHash)] = []

    public init() {}

    /// The frontier of the first `size` leaves, read from stored nodes (at startup).
    public init(size: UInt64, from source: some MerkleNodeSource) throws {
        self.size = size
        var start: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size & (1 << UInt64(level)) != 0 {
            let address = NodeAddress(level: level, index: start >> UInt64(level))
            self.subtrees.append((address, try source.node(address)))
            start += 1 << UInt64(level)
        }
    }

    /// The frontier of `size` leaves from its subtrees' hashes, largest first (one per set bit of `size`), as an
    /// audit bundle carries them.
    public init(size: UInt64, subtreeHashes: [EventHash]) {
        precondition(subtreeHashes.count == size.nonzeroBitCount, "one subtree per set bit of the size")
        self.size = size
        var start: UInt64 = 0
        var hashes = subtreeHashes.makeIterator()
        for level in stride(from: 63, through: 0, by: -1) where size & (1 << UInt64(level)) != 0 {
            self.subtrees.append((NodeAddress(level: level, index: start >> UInt64(level)), hashes.next()!))
            start += 1 << UInt64(level)
        }
    }

    /// Appends a leaf without collecting the nodes it completes (a verifier needs only the root at the end).
    public mutating func appendLeaf(_ leafHash: EventHash) {
        self.push(leafHash) { _ in }
    }

    /// Appends a leaf; returns every node this completes (the leaf itself first, then each parent it closes), which
    /// the caller stores.
    @discardableResult
    public mutating func append(leafHash: EventHash) -> [(address: NodeAddress, hash: EventHash)] {
        var completed: [(address: NodeAddress, hash: EventHash)] = []
        self.push(leafHash) { completed.append($0) }
        return completed
    }

    /// Appends a leaf; returns the hashes of the nodes this completes, concatenated in the same order: the bytes a
    /// store keeps with the event (its `merkle_nodes`).
    public mutating func appendNodeHashes(leafHash: EventHash) -> [UInt8] {
        var hashes: [UInt8] = []
        hashes.reserveCapacity(64)
        self.push(leafHash) { $0.hash.append(to: &hashes) }
        return hashes
    }

    /// The one append: the leaf closes each equal-level subtree at the right edge, one level up at a time.
    private mutating func push(
        _ leafHash: EventHash, _ completed: ((address: NodeAddress, hash: EventHash)) -> Void
    ) {
        var node = (address: NodeAddress(level: 0, index: self.size), hash: leafHash)
        completed(node)
        while let last = self.subtrees.last, last.address.level == node.address.level {
            self.subtrees.removeLast()
            node = (
                NodeAddress(level: node.address.level + 1, index: last.address.index >> 1),
                MerkleTree.nodeHash(last.hash, node.hash)
            )
            completed(node)
        }
        self.subtrees.append(node)
        self.size += 1
    }

    /// The root of the tree of `size` leaves: the subtrees folded from the right.
    public var root: EventHash {
        guard var root = self.subtrees.last?.hash else { return MerkleTree.emptyRoot }
        for subtree in self.subtrees.dropLast().reversed() { root = MerkleTree.nodeHash(subtree.hash, root) }
        return root
    }

    public static func == (lhs: MerkleFrontier, rhs: MerkleFrontier) -> Bool {
        lhs.size == rhs.size
            && lhs.subtrees.elementsEqual(rhs.subtrees) { $0.address == $1.address && $0.hash == $1.hash }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.size)
        for subtree in self.subtrees { hasher.combine(subtree.hash) }
    }
}
