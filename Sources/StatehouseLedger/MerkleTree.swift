public import Crypto
public import StatehouseModel

/// The hashes of a namespace's Merkle tree, in the shape of RFC 6962 / RFC 9162 (§2.1).
///
/// Leaf i of a namespace's tree is its event with commit_ts i + 1. A leaf hash is SHA-256(0x00 ‖ leaf bytes) (the leaf
/// bytes are ``LeafEncoding``'s), an interior node is SHA-256(0x01 ‖ left ‖ right), and a tree of n > 1 leaves splits
/// at k, the largest power of two smaller than n: its root is node(root of leaves [0, k), root of leaves [k, n)).
/// An odd node is never duplicated (the flaw of Bitcoin's tree, CVE-2012-2459, that let two different logs share a
/// root). The empty tree's root is SHA-256 of no bytes.
///
/// Stored nodes are perfect subtrees, addressed by ``NodeAddress``: level l, index i is the root of the leaves
/// [i·2^l, (i+1)·2^l). Every subtree root a proof needs is one stored node or folds from O(log n) of them.
public enum MerkleTree {
    /// The root of the tree with no leaves: SHA-256 of the empty string.
    public static let emptyRoot: EventHash = EventHash(digest: SHA256.hash(data: [UInt8]()))

    /// SHA-256(0x00 ‖ bytes): the hash of a leaf whose bytes are `bytes`.
    public static func leafHash(_ bytes: some Collection<UInt8>) -> EventHash {
        // Hashed where they are when contiguous (every commit and every exported event has a leaf).
        var hasher = SHA256()
        Swift.withUnsafeBytes(of: UInt8(0x00)) { hasher.update(bufferPointer: $0) }
        if bytes.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
            hasher.update(data: Array(bytes))
        }
        return EventHash(digest: hasher.finalize())
    }

    /// SHA-256(0x01 ‖ left ‖ right): the hash of an interior node.
    public static func nodeHash(_ left: EventHash, _ right: EventHash) -> EventHash {
        var hasher = SHA256()
        Swift.withUnsafeBytes(of: UInt8(0x01)) { hasher.update(bufferPointer: $0) }
        left.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        right.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return EventHash(digest: hasher.finalize())
    }

    /// The largest power of two strictly smaller than `n` (n ≥ 2): where a tree of n leaves splits.
    public static func split(_ n: UInt64) -> UInt64 {
        precondition(n >= 2, "a tree of fewer than 2 leaves does not split")
        return 1 << (63 - UInt64((n - 1).leadingZeroBitCount))
    }

    /// The root of a tree over `leafHashes`, computed from all of them: the reference the stored tree is tested
    /// against, and what a verifier without proofs would do.
    public static func root(leafHashes: some Collection<EventHash>) -> EventHash {
        let hashes = Array(leafHashes)
        guard !hashes.isEmpty else { return Self.emptyRoot }
        func root(_ range: Range<Int>) -> EventHash {
            if range.count == 1 { return hashes[range.lowerBound] }
            let k = Int(Self.split(UInt64(range.count)))
            return Self.nodeHash(
                root(range.lowerBound..<range.lowerBound + k), root(range.lowerBound + k..<range.upperBound))
        }
        return root(0..<hashes.count)
    }
}

/// A perfect subtree of a namespace's tree: the root of the 2^level leaves starting at index · 2^level.
public struct NodeAddress: Hashable, Sendable, CustomStringConvertible {
    public var level: Int
    public var index: UInt64

    public init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }

    public var description: String { "node(level \(self.level), index \(self.index))" }
}

extension EventHash {
    /// SHA-256 of `bytes`.
    public init(digestOf bytes: some Collection<UInt8>) {
        var hasher = SHA256()
        if bytes.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
            hasher.update(data: Array(bytes))
        }
        self.init(digest: hasher.finalize())
    }

    /// SHA-256 of a string's UTF-8 bytes, hashed where they are (a bundle hashes every value it holds).
    public init(digestOfUTF8 text: String) {
        var text = text
        var hasher = SHA256()
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        self.init(digest: hasher.finalize())
    }

    /// The 32 bytes of a SHA-256 digest.
    public init(digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { EventHash(unsafeBytes: $0.baseAddress!) }
    }
}
