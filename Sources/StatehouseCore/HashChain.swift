import Crypto

/// The per-namespace hash chain that makes history tamper-evident.
///
/// `hash(N) = SHA-256(domainTag ‖ hash(N-1) ‖ canonical(event N))`, with 32 zero bytes standing in for
/// `hash(0)`. The domain tag keeps these hashes from ever colliding with SHA-256 uses elsewhere; the canonical
/// encoding is described in `CanonicalEncoding`.
public enum HashChain {
    /// The domain separation tag: the ASCII bytes of `statehouse.event.v1` followed by one zero byte.
    public static let domainTag: [UInt8] = Array("statehouse.event.v1".utf8) + [0]

    /// The previous hash of a namespace's first event.
    public static let genesisHash = EventHash.zero

    /// Checks that `event` follows a predecessor whose hash is `previousHash` and, when `recomputing` (false for an
    /// event a retention policy removed a value of: only its leaf can be recomputed then), that its content hashed
    /// under `namespace` is its stored hash. What an import and a copy of a log check of each event they read.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` naming the event's commit_ts.
    public static func checkLink(
        _ event: Event, previousHash: EventHash, namespace: String, recomputing: Bool = true
    ) throws {
        guard event.prevHash == previousHash else {
            throw StatehouseError.dataCorruption(
                commitTS: event.commitTS, reason: "prev_hash does not match the previous event's hash")
        }
        guard recomputing else { return }
        let hash = Self.hash(
            prevHash: event.prevHash, commitTS: event.commitTS, namespace: namespace, txnID: event.txnID,
            committedAt: event.committedAt, metadata: event.metadata, operations: event.operations)
        guard hash == event.hash else {
            throw StatehouseError.dataCorruption(
                commitTS: event.commitTS, reason: "the event's content does not match its hash")
        }
    }

    /// Computes the hash of an event from its content and its predecessor's hash.
    public static func hash(
        prevHash: EventHash,
        commitTS: CommitTS,
        namespace: String,
        txnID: String,
        committedAt: Microseconds,
        metadata: CommitMetadata,
        operations: [AppliedOperation]
    ) -> EventHash {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(
            Self.domainTag.count + 32 + 64
                + operations.reduce(0) {
                    $0 + 24 + $1.agentID.utf8.count
                        + $1.key.utf8.count + ($1.value?.utf8.count ?? 0)
                }
        )
        buffer.append(contentsOf: Self.domainTag)
        prevHash.append(to: &buffer)
        CanonicalEncoding.encode(
            commitTS: commitTS,
            namespace: namespace,
            txnID: txnID,
            committedAt: committedAt,
            metadata: metadata,
            operations: operations,
            into: &buffer
        )
        return SHA256.hash(data: buffer).withUnsafeBytes { EventHash(unsafeBytes: $0.baseAddress!) }
    }

    /// Recomputes the hash of a stored event from its stored content.
    public static func recompute(_ event: Event) -> EventHash {
        Self.hash(
            prevHash: event.prevHash,
            commitTS: event.commitTS,
            namespace: event.namespace,
            txnID: event.txnID,
            committedAt: event.committedAt,
            metadata: event.metadata,
            operations: event.operations
        )
    }

    /// Lowercase hexadecimal of a hash, for logs and messages.
    public static func hex(_ bytes: [UInt8]) -> String { EventHash.hex(bytes) }
}
