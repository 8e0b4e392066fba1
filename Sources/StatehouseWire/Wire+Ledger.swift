import Foundation
package import StatehouseModel
package import StatehouseProto

// Tree heads, proofs and verified reads in both directions (the server encodes, the client decodes).
extension Wire {
    package static func proto(_ head: TreeHead) -> Statehouse_V2_TreeHead {
        var proto = Statehouse_V2_TreeHead()
        proto.namespace = head.namespace
        proto.treeSize = head.treeSize
        proto.rootHash = Data(head.rootHash.bytes)
        return proto
    }

    package static func proto(_ head: SignedTreeHead) -> Statehouse_V2_SignedTreeHead {
        var proto = Statehouse_V2_SignedTreeHead()
        proto.head = self.proto(head.head)
        proto.timestampMicros = head.timestamp
        proto.keyID = head.keyID
        proto.signature = Data(head.signature)
        return proto
    }

    package static func proto(_ proof: InclusionProof) -> Statehouse_V2_InclusionProof {
        var proto = Statehouse_V2_InclusionProof()
        proto.namespace = proof.namespace
        proto.commitTs = proof.commitTS
        proto.treeSize = proof.treeSize
        proto.hashes = proof.hashes.map { Data($0.bytes) }
        return proto
    }

    package static func proto(_ proof: ConsistencyProof) -> Statehouse_V2_ConsistencyProof {
        var proto = Statehouse_V2_ConsistencyProof()
        proto.namespace = proof.namespace
        proto.oldSize = proof.oldSize
        proto.newSize = proof.newSize
        proto.hashes = proof.hashes.map { Data($0.bytes) }
        return proto
    }

    package static func proto(_ state: VerifiedState) -> Statehouse_V2_VerifiedState {
        var proto = Statehouse_V2_VerifiedState()
        proto.record = self.proto(state.record)
        if let event = state.event { proto.event = self.proto(event) }
        if let proof = state.proof { proto.proof = self.proto(proof) }
        proto.head = self.proto(state.head)
        if let consistency = state.consistency { proto.consistency = self.proto(consistency) }
        return proto
    }

    package static func treeHead(_ proto: Statehouse_V2_TreeHead) -> TreeHead {
        TreeHead(namespace: proto.namespace, treeSize: proto.treeSize, rootHash: self.hash(proto.rootHash))
    }

    package static func signedTreeHead(_ proto: Statehouse_V2_SignedTreeHead) -> SignedTreeHead {
        SignedTreeHead(
            head: self.treeHead(proto.head), timestamp: proto.timestampMicros, keyID: proto.keyID,
            signature: [UInt8](proto.signature))
    }

    package static func inclusionProof(_ proto: Statehouse_V2_InclusionProof) -> InclusionProof {
        InclusionProof(
            namespace: proto.namespace, commitTS: proto.commitTs, treeSize: proto.treeSize,
            hashes: proto.hashes.map(self.hash))
    }

    package static func consistencyProof(_ proto: Statehouse_V2_ConsistencyProof) -> ConsistencyProof {
        ConsistencyProof(
            namespace: proto.namespace, oldSize: proto.oldSize, newSize: proto.newSize,
            hashes: proto.hashes.map(self.hash))
    }

    package static func verifiedState(_ proto: Statehouse_V2_VerifiedState) -> VerifiedState {
        VerifiedState(
            record: self.record(proto.record),
            event: proto.hasEvent ? self.event(proto.event) : nil,
            proof: proto.hasProof ? self.inclusionProof(proto.proof) : nil,
            head: self.signedTreeHead(proto.head),
            consistency: proto.hasConsistency ? self.consistencyProof(proto.consistency) : nil)
    }
}
