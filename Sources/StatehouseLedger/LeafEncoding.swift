import Crypto
public import StatehouseModel

/// The bytes of a tree leaf: an event, committing to each value by its SHA-256 digest.
///
/// Unlike the hash chain's canonical encoding (which covers the value bytes), a leaf holds a value's digest, so that a
/// store may later drop an old value (retention) and every proof over that leaf still checks: a verifier given the
/// value recomputes its digest; one without it checks the digest alone. Layout, all integers big-endian:
///
/// ```
/// leaf     = "statehouse.leaf.v1" · 0x00 · u64 commit_ts · str namespace · str txn_id · i64 committed_at
///            · metadata · u32 op_count · op*
/// op       = str agent_id · str key · u8 kind · u64 version · (kind 1: 32-byte SHA-256(value bytes)
///            | kind 3: 32-byte SHA-256(value bytes) · i64 expires_at)
///            kind 1 put, 2 delete, 3 put with an expiry (as in the chain's encoding)
/// metadata = as in the chain's canonical encoding (opt actor · opt reason · u32 tag_count · (str key · str value)*,
///            tags sorted by key bytes)
/// str      = u32 byte_length · UTF-8 bytes        opt = u8 0 | u8 1 · str
/// ```
///
/// The leaf hash is then SHA-256(0x00 ‖ leaf) (``MerkleTree/leafHash(_:)``).
public enum LeafEncoding {
    /// The domain tag that starts every leaf: `statehouse.leaf.v1` and one zero byte.
    public static let domainTag: [UInt8] = Array("statehouse.leaf.v1".utf8) + [0]

    /// SHA-256 of a stored value's bytes: what a leaf holds for a put.
    public static func valueDigest(_ value: JSONValue?) -> EventHash {
        EventHash(digestOf: value?.utf8 ?? [])
    }

    /// The leaf bytes of an event: each put by its value's digest, or by the digest kept for a value retention removed.
    public static func encode(_ event: Event) -> [UInt8] {
        // Written straight from the event (no operation list in between): every commit and every exported event
        // computes one.
        self.encode(
            commitTS: event.commitTS, namespace: event.namespace, txnID: event.txnID, committedAt: event.committedAt,
            metadata: event.metadata, operations: event.operations,
            operationBytes: event.operations.reduce(0) { $0 + $1.agentID.utf8.count + $1.key.utf8.count }
        ) { operation in
            (
                operation.agentID, operation.key, operation.version,
                operation.kind == .put ? operation.removedValueDigest ?? self.valueDigest(operation.value) : nil,
                operation.expiresAt
            )
        }
    }

    /// The leaf bytes of an event given by its operations' value digests.
    public static func encode(
        commitTS: CommitTS, namespace: String, txnID: String, committedAt: Microseconds, metadata: CommitMetadata,
        operations: [LeafOperation]
    ) -> [UInt8] {
        self.encode(
            commitTS: commitTS, namespace: namespace, txnID: txnID, committedAt: committedAt, metadata: metadata,
            operations: operations,
            operationBytes: operations.reduce(0) { $0 + $1.agentID.utf8.count + $1.key.utf8.count }
        ) { ($0.agentID, $0.key, $0.version, $0.valueDigest, $0.expiresAt) }
    }

    /// The one layout, over any list of operations that gives each one's agent, key, version and value digest.
    private static func encode<Operations: Collection>(
        commitTS: CommitTS, namespace: String, txnID: String, committedAt: Microseconds, metadata: CommitMetadata,
        operations: Operations, operationBytes: Int,
        fields: (Operations.Element) -> (
            agentID: String, key: String, version: Version, valueDigest: EventHash?, expiresAt: Microseconds?
        )
    ) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(
            Self.domainTag.count + 64 + namespace.utf8.count + txnID.utf8.count + 53 * operations.count
                + operationBytes)
        buffer.append(contentsOf: Self.domainTag)
        CanonicalEncoding.appendUInt64(commitTS, to: &buffer)
        CanonicalEncoding.appendString(namespace, to: &buffer)
        CanonicalEncoding.appendString(txnID, to: &buffer)
        CanonicalEncoding.appendUInt64(UInt64(bitPattern: committedAt), to: &buffer)
        CanonicalEncoding.appendMetadata(metadata, to: &buffer)
        CanonicalEncoding.appendUInt32(UInt32(operations.count), to: &buffer)
        for operation in operations {
            let (agentID, key, version, valueDigest, expiresAt) = fields(operation)
            CanonicalEncoding.appendString(agentID, to: &buffer)
            CanonicalEncoding.appendString(key, to: &buffer)
            if let digest = valueDigest {
                buffer.append(CanonicalEncoding.kindByte(.put, expiresAt: expiresAt))
                CanonicalEncoding.appendUInt64(version, to: &buffer)
                digest.append(to: &buffer)
                if let expiresAt { CanonicalEncoding.appendUInt64(UInt64(bitPattern: expiresAt), to: &buffer) }
            } else {
                buffer.append(WriteOperation.Kind.delete.rawValue)
                CanonicalEncoding.appendUInt64(version, to: &buffer)
            }
        }
        return buffer
    }

    /// The leaf hash of an event whose values are all present.
    public static func leafHash(_ event: Event) -> EventHash {
        MerkleTree.leafHash(self.encode(event))
    }
}

/// One operation as a leaf holds it: a put by its value's digest, a delete without one.
public struct LeafOperation: Sendable, Hashable {
    public var agentID: String
    public var key: String
    public var version: Version
    /// SHA-256 of the value for a put; `nil` for a delete.
    public var valueDigest: EventHash?
    /// When a put's value expires; `nil`: never.
    public var expiresAt: Microseconds?

    public init(
        agentID: String, key: String, version: Version, valueDigest: EventHash?, expiresAt: Microseconds? = nil
    ) {
        self.agentID = agentID
        self.key = key
        self.version = version
        self.valueDigest = valueDigest
        self.expiresAt = expiresAt
    }
}
