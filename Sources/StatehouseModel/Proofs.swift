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

/// A tree head signed by the daemon's ledger key: "namespace had `treeSize` events and this root at `timestamp`".
///
/// The signed bytes are documented in docs/architecture.md ("Signed tree heads"); anyone holding the public key can
/// check a head without the daemon, and two heads of one namespace can be checked against each other with a
/// consistency proof.
public struct SignedTreeHead: Sendable, Hashable {
    public var head: TreeHead
    /// When the daemon signed it, in microseconds since the Unix epoch.
    public var timestamp: Microseconds
    /// The signing key's id: the first 8 bytes of SHA-256 of its 32-byte public key, in hexadecimal.
    public var keyID: String
    /// The Ed25519 signature (64 bytes).
    public var signature: [UInt8]

    public init(head: TreeHead, timestamp: Microseconds, keyID: String, signature: [UInt8]) {
        self.head = head
        self.timestamp = timestamp
        self.keyID = keyID
        self.signature = signature
    }
}

/// A read with what a client needs to check it against a signed head: the event that wrote the version read, that
/// event's inclusion proof, the head, and (when asked) the consistency proof from a head the client saw before.
public struct VerifiedState: Sendable, Hashable {
    public var record: StateRecord
    /// The event that wrote `record`'s version; `nil` when the key was never written (absence is not provable).
    public var event: Event?
    /// The inclusion proof of `event` in `head`'s tree.
    public var proof: InclusionProof?
    public var head: SignedTreeHead
    /// From the tree size the client said it knew to `head`'s.
    public var consistency: ConsistencyProof?

    public init(
        record: StateRecord, event: Event?, proof: InclusionProof?, head: SignedTreeHead,
        consistency: ConsistencyProof?
    ) {
        self.record = record
        self.event = event
        self.proof = proof
        self.head = head
        self.consistency = consistency
    }
}
