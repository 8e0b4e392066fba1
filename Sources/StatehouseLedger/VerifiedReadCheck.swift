public import StatehouseModel

/// What a client checks before it returns a verified read, trusting only the daemon's public key and the heads it
/// verified before.
public enum VerifiedReadCheck {
    /// Checks `state`, the answer to a verified read of (namespace, agentID, key), and returns the head to remember.
    ///
    /// - Parameter previous: the newest head of this namespace the client verified before with the same key; the
    ///   answer must then carry a consistency proof from it (unless the tree did not grow).
    /// - Throws: ``LedgerVerificationError`` naming the check that failed.
    public static func check(
        _ state: VerifiedState, publicKey: LedgerPublicKey, namespace: String, agentID: String, key: String,
        previous: TreeHead?
    ) throws(LedgerVerificationError) -> TreeHead {
        let head = state.head.head
        guard publicKey.verify(state.head) else {
            throw LedgerVerificationError(
                "the tree head's signature does not verify with the trusted key \(publicKey.keyID) "
                    + "(it names key \(state.head.keyID))")
        }
        guard head.namespace == namespace else {
            throw LedgerVerificationError("the tree head is of namespace '\(head.namespace)', not '\(namespace)'")
        }
        if let previous { try self.checkExtends(previous, to: head, proof: state.consistency) }
        let record = state.record
        guard record.version > 0 else { return head }
        guard let event = state.event, let proof = state.proof else {
            throw LedgerVerificationError("the answer has no event or no inclusion proof for version \(record.version)")
        }
        guard event.namespace == namespace, event.commitTS == record.commitTS else {
            throw LedgerVerificationError(
                "the event given is commit_ts \(event.commitTS), but the version read was written at \(record.commitTS)"
            )
        }
        let operation = event.operations.first { $0.agentID == agentID && $0.key == key }
        // A put read after its expiry reads as deleted at the put's version (before the daemon commits the delete):
        // the proven event is then that put, with the expiry the record names. (The leaf proves the expiry; that the
        // daemon's clock passed it is the daemon's word.)
        let expiredPut =
            operation?.kind == .put && record.deleted && operation?.expiresAt != nil
            && operation?.expiresAt == record.expiresAt
        guard let operation, operation.version == record.version, record.agentID == agentID, record.key == key,
            (operation.kind == .delete) == record.deleted || expiredPut,
            record.deleted || (operation.value == record.value && operation.expiresAt == record.expiresAt)
        else {
            throw LedgerVerificationError(
                "the event at commit_ts \(event.commitTS) did not write this value as version \(record.version) "
                    + "of agent '\(agentID)' key '\(key)'")
        }
        guard proof.commitTS == event.commitTS, proof.treeSize == head.treeSize,
            MerkleVerification.verifyInclusion(
                leafIndex: event.commitTS - 1, treeSize: head.treeSize, leafHash: LeafEncoding.leafHash(event),
                proof: proof.hashes, root: head.rootHash)
        else {
            throw LedgerVerificationError(
                "the inclusion proof of commit_ts \(event.commitTS) does not lead to the signed root of tree size "
                    + "\(head.treeSize)")
        }
        return head
    }

    /// Checks that `head` extends `previous` (same namespace, same key): a daemon that rewrote history is caught.
    public static func checkExtends(
        _ previous: TreeHead, to head: TreeHead, proof: ConsistencyProof?
    ) throws(LedgerVerificationError) {
        if previous.treeSize > head.treeSize {
            throw LedgerVerificationError(
                "the tree head (size \(head.treeSize)) is older than one this client verified before "
                    + "(size \(previous.treeSize))")
        }
        if previous.treeSize == head.treeSize {
            guard previous.rootHash == head.rootHash else {
                throw LedgerVerificationError(
                    "the tree of size \(head.treeSize) has a different root than the one this client verified before: "
                        + "history was rewritten")
            }
            return
        }
        guard let proof, proof.oldSize == previous.treeSize, proof.newSize == head.treeSize,
            MerkleVerification.verifyConsistency(
                oldSize: previous.treeSize, newSize: head.treeSize, oldRoot: previous.rootHash,
                newRoot: head.rootHash, proof: proof.hashes)
        else {
            throw LedgerVerificationError(
                "the tree of size \(head.treeSize) does not extend the tree of size \(previous.treeSize) this client "
                    + "verified before (the consistency proof fails): history was rewritten")
        }
    }
}

/// A check of a proof, a signature or a bundle that failed, with what failed and where.
public struct LedgerVerificationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
