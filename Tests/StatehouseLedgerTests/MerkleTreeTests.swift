import Foundation
import PropertyBased
import StatehouseLedger
import StatehouseModel
import Testing

/// Stored nodes in memory, filled by appending to a frontier the way the writer does.
struct MemoryNodes: MerkleNodeSource {
    struct Missing: Error {}
    var nodes: [NodeAddress: EventHash] = [:]
    var frontier = MerkleFrontier()
    var leafHashes: [EventHash] = []

    mutating func append(_ leafHash: EventHash) {
        self.leafHashes.append(leafHash)
        for node in self.frontier.append(leafHash: leafHash) { self.nodes[node.address] = node.hash }
    }

    func node(_ address: NodeAddress) throws -> EventHash {
        guard let hash = self.nodes[address] else { throw Missing() }
        return hash
    }
}

/// The published RFC 6962 vectors (certificate-transparency's, from transparency-dev/merkle), kept in
/// Tests/Fixtures/rfc6962-vectors.json and read by the Python tests too.
struct Vectors: Decodable {
    struct Inclusion: Decodable {
        var leaf_index: UInt64
        var tree_size: UInt64
        var path: [String]
    }
    struct Consistency: Decodable {
        var size1: UInt64
        var size2: UInt64
        var proof: [String]
    }
    var leaves: [String]
    var roots: [String]
    var inclusion: [Inclusion]
    var consistency: [Consistency]

    static func load() throws -> Vectors {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/rfc6962-vectors.json")
        return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }
}

func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}

func hash(hex: String) -> EventHash { EventHash(bytes: bytes(hex: hex))! }

@Suite("Merkle tree (RFC 6962 / 9162)")
struct MerkleTreeTests {
    @Test("roots of 0 to 8 leaves match the published vectors, from all leaves and from stored nodes")
    func roots() throws {
        let vectors = try Vectors.load()
        let leafHashes = vectors.leaves.map { MerkleTree.leafHash(bytes(hex: $0)) }
        var nodes = MemoryNodes()
        #expect(MerkleTree.root(leafHashes: []).hex == vectors.roots[0])
        #expect(try MerkleProofs.root(size: 0, from: nodes).hex == vectors.roots[0])
        for size in 1...leafHashes.count {
            nodes.append(leafHashes[size - 1])
            #expect(MerkleTree.root(leafHashes: leafHashes.prefix(size)).hex == vectors.roots[size], "size \(size)")
            #expect(nodes.frontier.root.hex == vectors.roots[size], "frontier, size \(size)")
            #expect(try MerkleProofs.root(size: UInt64(size), from: nodes).hex == vectors.roots[size])
        }
    }

    @Test("inclusion and consistency proofs equal the published ones and verify")
    func publishedProofs() throws {
        let vectors = try Vectors.load()
        var nodes = MemoryNodes()
        for leaf in vectors.leaves { nodes.append(MerkleTree.leafHash(bytes(hex: leaf))) }
        for vector in vectors.inclusion {
            let proof = try MerkleProofs.inclusionProof(
                leafIndex: vector.leaf_index, treeSize: vector.tree_size, from: nodes)
            #expect(proof.map(\.hex) == vector.path, "inclusion \(vector.leaf_index) in \(vector.tree_size)")
            #expect(
                MerkleVerification.verifyInclusion(
                    leafIndex: vector.leaf_index, treeSize: vector.tree_size,
                    leafHash: nodes.leafHashes[Int(vector.leaf_index)], proof: vector.path.map { hash(hex: $0) },
                    root: hash(hex: vectors.roots[Int(vector.tree_size)])))
        }
        for vector in vectors.consistency {
            let proof = try MerkleProofs.consistencyProof(oldSize: vector.size1, newSize: vector.size2, from: nodes)
            #expect(proof.map(\.hex) == vector.proof, "consistency \(vector.size1) -> \(vector.size2)")
            #expect(
                MerkleVerification.verifyConsistency(
                    oldSize: vector.size1, newSize: vector.size2, oldRoot: hash(hex: vectors.roots[Int(vector.size1)]),
                    newRoot: hash(hex: vectors.roots[Int(vector.size2)]), proof: vector.proof.map { hash(hex: $0) }))
        }
    }

    @Test("a frontier read back from stored nodes equals the one that appended them")
    func frontierReload() throws {
        var nodes = MemoryNodes()
        var verifierSide = MerkleFrontier()
        for index in 0..<300 {
            nodes.append(MerkleTree.leafHash(Array("leaf \(index)".utf8)))
            verifierSide.appendLeaf(MerkleTree.leafHash(Array("leaf \(index)".utf8)))
            let reloaded = try MerkleFrontier(size: UInt64(index + 1), from: nodes)
            #expect(reloaded == nodes.frontier)
            #expect(verifierSide == nodes.frontier)
            #expect(reloaded.root == MerkleTree.root(leafHashes: nodes.leafHashes))
        }
    }

    @Test("for random logs every inclusion and consistency proof verifies, and any flipped bit fails")
    func everyProof() async {
        await propertyCheck(count: 12, input: Gen.int(in: 1...70), Gen.int(in: 0...Int.max)) { size, seed in
            var nodes = MemoryNodes()
            for index in 0..<size { nodes.append(MerkleTree.leafHash(Array("\(seed)/\(index)".utf8))) }
            let roots = (0...size).map { MerkleTree.root(leafHashes: nodes.leafHashes.prefix($0)) }
            var flips = 0
            for treeSize in 1...size {
                #expect(try MerkleProofs.root(size: UInt64(treeSize), from: nodes) == roots[treeSize])
                for leaf in 0..<treeSize {
                    let proof = try MerkleProofs.inclusionProof(
                        leafIndex: UInt64(leaf), treeSize: UInt64(treeSize), from: nodes)
                    let leafHash = nodes.leafHashes[leaf]
                    #expect(
                        MerkleVerification.verifyInclusion(
                            leafIndex: UInt64(leaf), treeSize: UInt64(treeSize), leafHash: leafHash, proof: proof,
                            root: roots[treeSize]))
                    // Flip one bit of the proof, the leaf or the root, at a position that moves with the pair.
                    flips += 1
                    let bit = (leaf * 31 + treeSize * 7 + seed % 97) % 256
                    #expect(
                        !MerkleVerification.verifyInclusion(
                            leafIndex: UInt64(leaf), treeSize: UInt64(treeSize), leafHash: flip(leafHash, bit),
                            proof: proof, root: roots[treeSize]))
                    #expect(
                        !MerkleVerification.verifyInclusion(
                            leafIndex: UInt64(leaf), treeSize: UInt64(treeSize), leafHash: leafHash, proof: proof,
                            root: flip(roots[treeSize], bit)))
                    if !proof.isEmpty {
                        var bad = proof
                        bad[(leaf + treeSize) % bad.count] = flip(bad[(leaf + treeSize) % bad.count], bit)
                        #expect(
                            !MerkleVerification.verifyInclusion(
                                leafIndex: UInt64(leaf), treeSize: UInt64(treeSize), leafHash: leafHash, proof: bad,
                                root: roots[treeSize]))
                    }
                }
                for oldSize in 0...treeSize {
                    let proof = try MerkleProofs.consistencyProof(
                        oldSize: UInt64(oldSize), newSize: UInt64(treeSize), from: nodes)
                    #expect(
                        MerkleVerification.verifyConsistency(
                            oldSize: UInt64(oldSize), newSize: UInt64(treeSize), oldRoot: roots[oldSize],
                            newRoot: roots[treeSize], proof: proof))
                    guard oldSize > 0, oldSize < treeSize else { continue }
                    let bit = (oldSize * 13 + treeSize + seed % 89) % 256
                    var bad = proof
                    bad[oldSize % bad.count] = flip(bad[oldSize % bad.count], bit)
                    #expect(
                        !MerkleVerification.verifyConsistency(
                            oldSize: UInt64(oldSize), newSize: UInt64(treeSize), oldRoot: roots[oldSize],
                            newRoot: roots[treeSize], proof: bad))
                    #expect(
                        !MerkleVerification.verifyConsistency(
                            oldSize: UInt64(oldSize), newSize: UInt64(treeSize), oldRoot: flip(roots[oldSize], bit),
                            newRoot: roots[treeSize], proof: proof))
                    #expect(
                        !MerkleVerification.verifyConsistency(
                            oldSize: UInt64(oldSize), newSize: UInt64(treeSize), oldRoot: roots[oldSize],
                            newRoot: flip(roots[treeSize], bit), proof: proof))
                }
            }
            #expect(flips == size * (size + 1) / 2)
        }
    }

    @Test("proofs of the wrong length, positions outside the tree and sizes out of order are refused")
    func malformedProofs() throws {
        var nodes = MemoryNodes()
        for index in 0..<10 { nodes.append(MerkleTree.leafHash([UInt8(index)])) }
        let root = nodes.frontier.root
        let proof = try MerkleProofs.inclusionProof(leafIndex: 3, treeSize: 10, from: nodes)
        let leaf = nodes.leafHashes[3]
        #expect(
            MerkleVerification.verifyInclusion(leafIndex: 3, treeSize: 10, leafHash: leaf, proof: proof, root: root))
        #expect(
            !MerkleVerification.verifyInclusion(
                leafIndex: 3, treeSize: 10, leafHash: leaf, proof: proof.dropLast(), root: root))
        #expect(
            !MerkleVerification.verifyInclusion(
                leafIndex: 3, treeSize: 10, leafHash: leaf, proof: proof + [root], root: root))
        #expect(
            !MerkleVerification.verifyInclusion(leafIndex: 10, treeSize: 10, leafHash: leaf, proof: proof, root: root))
        #expect(
            !MerkleVerification.verifyInclusion(leafIndex: 4, treeSize: 10, leafHash: leaf, proof: proof, root: root))
        let old = try MerkleProofs.root(size: 4, from: nodes)
        let consistency = try MerkleProofs.consistencyProof(oldSize: 4, newSize: 10, from: nodes)
        #expect(
            MerkleVerification.verifyConsistency(
                oldSize: 4, newSize: 10, oldRoot: old, newRoot: root, proof: consistency))
        #expect(
            !MerkleVerification.verifyConsistency(
                oldSize: 10, newSize: 4, oldRoot: root, newRoot: old, proof: consistency))
        #expect(
            !MerkleVerification.verifyConsistency(
                oldSize: 4, newSize: 10, oldRoot: old, newRoot: root, proof: consistency + [root]))
        #expect(!MerkleVerification.verifyConsistency(oldSize: 4, newSize: 10, oldRoot: old, newRoot: root, proof: []))
        #expect(!MerkleVerification.verifyConsistency(oldSize: 4, newSize: 4, oldRoot: old, newRoot: root, proof: []))
    }
}

func flip(_ hash: EventHash, _ bit: Int) -> EventHash {
    var bytes = hash.bytes
    bytes[bit / 8] ^= 1 << UInt8(bit % 8)
    return EventHash(bytes: bytes)!
}
