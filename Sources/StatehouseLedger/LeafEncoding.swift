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
/// op       = str agent_id · str key · u8 kind (1 put, 2 delete) · u64 version · (put: 32-byte SHA-256(value bytes))
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
        EventHash(digest: SHA256.hash(data: value?.utf8 ?? []))
    }

    /// The leaf bytes of an event whose values are all present.
    public static func encode(_ event: Event) -> [UInt8] {
        self.encode(
            commitTS: event.commitTS, namespace: event.namespace, txnID: event.txnID, committedAt: event.committedAt,
            metadata: event.metadata,
            operations: event.operations.map { operation in
                LeafOperation(
                    agentID: operation.agentID, key: operation.key, version: operation.version,
                    valueDigest: operation.kind == .put ? self.valueDigest(operation.value) : nil)
            })
    }

    /// The leaf bytes of an event given by its operations' value digests.
    public static func encode(
        commitTS: CommitTS, namespace: String, txnID: String, committedAt: Microseconds, metadata: CommitMetadata,
        operations: [LeafOperation]
    ) -> [UInt8] {
        var buffer = Self.domainTag
        buffer.reserveCapacity(
            Self.domainTag.count + 64 + namespace.utf8.count
                + operations.reduce(0) { $0 + 53 + $1.agentID.utf8.count + $1.key.utf8.count })
        CanonicalEncoding.appendUInt64(commitTS, to: &buffer)
        CanonicalEncoding.appendString(namespace, to: &buffer)
        CanonicalEncoding.appendString(txnID, to: &buffer)
        CanonicalEncoding.appendUInt64(UInt64(bitPattern: committedAt), to: &buffer)
        CanonicalEncoding.appendMetadata(metadata, to: &buffer)
        CanonicalEncoding.appendUInt32(UInt32(operations.count), to: &buffer)
        for operation in operations {
            CanonicalEncoding.appendString(operation.agentID, to: &buffer)
            CanonicalEncoding.appendString(operation.key, to: &buffer)
            if let digest = operation.valueDigest {
                buffer.append(WriteOperation.Kind.put.rawValue)
                CanonicalEncoding.appendUInt64(operation.version, to: &buffer)
                digest.append(to: &buffer)
            } else {
                buffer.append(WriteOperation.Kind.delete.rawValue)
                CanonicalEncoding.appendUInt64(operation.version, to: &buffer)
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

    public init(agentID: String, key: String, version: Version, valueDigest: EventHash?) {
        self.agentID = agentID
        self.key = key
        self.version = version
        self.valueDigest = valueDigest
    }
}
