import Foundation
public import StatehouseModel

/// The audit bundle format: one self-contained JSON Lines file that someone who trusts only the daemon's public key can
/// check offline (docs/architecture.md, "Audit bundles", describes it line by line).
///
/// Every line is one JSON object with exactly one member: `manifest` (first), then `event` and `leaf` lines in
/// commit_ts order, then `witness` and `state` lines, then (in a bundle of a run) one `run` line, then `end` (last). Values are the stored JSON text as a JSON
/// string, so their bytes (and digests) survive any JSON parser. ``decodeLine(_:)`` and ``encode(_:)-(Line)`` (in
/// AuditBundleCodec.swift) read and write lines.
public enum AuditBundle {
    public static let formatName = "statehouse-audit"
    public static let formatVersion = 1

    public struct Head: Sendable, Equatable {
        public var namespace: String
        public var tree_size: UInt64
        public var root_hash: String
        public var timestamp_micros: Int64
        public var key_id: String
        public var signature: String

        init(
            namespace: String, tree_size: UInt64, root_hash: String, timestamp_micros: Int64, key_id: String,
            signature: String
        ) {
            self.namespace = namespace
            self.tree_size = tree_size
            self.root_hash = root_hash
            self.timestamp_micros = timestamp_micros
            self.key_id = key_id
            self.signature = signature
        }

        public init(_ head: SignedTreeHead) {
            self.namespace = head.head.namespace
            self.tree_size = head.head.treeSize
            self.root_hash = head.head.rootHash.hex
            self.timestamp_micros = head.timestamp
            self.key_id = head.keyID
            self.signature = EventHash.hex(head.signature)
        }

        /// The signed head, or `nil` when a hash or the signature is not hexadecimal of the right length.
        public var signedTreeHead: SignedTreeHead? {
            guard let root = Hex.hash(self.root_hash), let signature = Hex.bytes(self.signature) else { return nil }
            return SignedTreeHead(
                head: TreeHead(namespace: self.namespace, treeSize: self.tree_size, rootHash: root),
                timestamp: self.timestamp_micros, keyID: self.key_id, signature: signature)
        }
    }

    public struct Manifest: Sendable {
        public var format: String
        public var version: Int
        public var namespace: String
        /// Only this agent's events are given whole; the others as leaf hashes.
        public var agent_id: String?
        public var from_commit_ts: UInt64
        public var to_commit_ts: UInt64
        public var head: Head
        /// The signing key, PEM; informative: a verifier checks with the key it trusts, never with this one.
        public var public_key: String
        /// The perfect subtrees of the first from_commit_ts − 1 events (hex), largest first.
        public var prefix: [String]
        /// Consistency proof from tree size to_commit_ts to head.tree_size (hex; empty when they are equal).
        public var consistency: [String]
        /// An earlier head the bundle is proven to extend, and that proof.
        public var since_head: Head?
        public var since_consistency: [String]?
        /// The run whose bundle this is (`audit export --run`): a run line follows the state lines.
        public var run_id: String?

        init(
            format: String, version: Int, namespace: String, agent_id: String?, from_commit_ts: UInt64,
            to_commit_ts: UInt64, head: Head, public_key: String, prefix: [String], consistency: [String],
            since_head: Head?, since_consistency: [String]?, run_id: String?
        ) {
            self.format = format
            self.version = version
            self.namespace = namespace
            self.agent_id = agent_id
            self.from_commit_ts = from_commit_ts
            self.to_commit_ts = to_commit_ts
            self.head = head
            self.public_key = public_key
            self.prefix = prefix
            self.consistency = consistency
            self.since_head = since_head
            self.since_consistency = since_consistency
            self.run_id = run_id
        }

        public init(
            namespace: String, agentID: String?, from: UInt64, to: UInt64, head: SignedTreeHead, publicKey: String,
            prefix: [EventHash], consistency: [EventHash], sinceHead: SignedTreeHead?, sinceConsistency: [EventHash]?,
            runID: String? = nil
        ) {
            self.format = AuditBundle.formatName
            self.version = AuditBundle.formatVersion
            self.namespace = namespace
            self.agent_id = agentID
            self.from_commit_ts = from
            self.to_commit_ts = to
            self.head = Head(head)
            self.public_key = publicKey
            self.prefix = prefix.map(\.hex)
            self.consistency = consistency.map(\.hex)
            self.since_head = sinceHead.map(Head.init)
            self.since_consistency = sinceConsistency?.map(\.hex)
            self.run_id = runID
        }
    }

    public struct Operation: Sendable {
        public var agent_id: String
        public var key: String
        /// "put" or "delete".
        public var kind: String
        public var version: UInt64
        /// The stored JSON text of a put; absent for a delete and for a put whose value retention removed.
        public var value: String?
        /// For a put whose value the retention policy removed: the value's SHA-256 in hexadecimal (what its leaf
        /// holds) instead of the value.
        public var value_digest: String? = nil
        /// When the put's value expires (µs since the epoch); absent: never.
        public var expires_at_micros: Int64? = nil
    }

    public struct Metadata: Sendable {
        public var actor: String?
        public var reason: String?
        public var tags: [String: String]
    }

    public struct EventLine: Sendable {
        public var commit_ts: UInt64
        public var txn_id: String
        public var committed_at_micros: Int64
        public var metadata: Metadata?
        public var operations: [Operation]
        /// The event's leaf hash as exported (hex): a verifier names the first event whose content no longer matches
        /// it. Only the root check makes it trustworthy; it locates a change, it proves nothing by itself.
        public var leaf_hash: String?
        /// The event's hash-chain link and its predecessor's (hex): present in exports (`statehousectl export`),
        /// absent from audit bundles.
        public var hash: String?
        public var prev_hash: String?

        init(
            commit_ts: UInt64, txn_id: String, committed_at_micros: Int64, metadata: Metadata?,
            operations: [Operation], leaf_hash: String?, hash: String? = nil, prev_hash: String? = nil
        ) {
            self.hash = hash
            self.prev_hash = prev_hash
            self.commit_ts = commit_ts
            self.txn_id = txn_id
            self.committed_at_micros = committed_at_micros
            self.metadata = metadata
            self.operations = operations
            self.leaf_hash = leaf_hash
        }

        public init(_ event: Event) {
            self.commit_ts = event.commitTS
            self.txn_id = event.txnID
            self.committed_at_micros = event.committedAt
            self.metadata =
                event.metadata.isEmpty
                ? nil
                : Metadata(actor: event.metadata.actor, reason: event.metadata.reason, tags: event.metadata.tags)
            self.operations = event.operations.map {
                Operation(
                    agent_id: $0.agentID, key: $0.key, kind: $0.kind == .put ? "put" : "delete", version: $0.version,
                    value: $0.kind == .put && !$0.valueRemoved ? ($0.value?.text ?? "") : nil,
                    value_digest: $0.removedValueDigest?.hex, expires_at_micros: $0.expiresAt)
            }
            self.leaf_hash = LeafEncoding.leafHash(event).hex
        }

        /// The leaf hash of this event in `namespace`, or `nil` when an operation's kind is neither put nor delete, or
        /// a put has both a value and a value digest or a digest that is not 32 bytes of hexadecimal.
        public func leafHash(namespace: String) -> EventHash? {
            var operations: [LeafOperation] = []
            for operation in self.operations {
                switch operation.kind {
                case "put":
                    let digest: EventHash
                    if let removed = operation.value_digest {
                        guard operation.value == nil, let parsed = Hex.hash(removed) else { return nil }
                        digest = parsed
                    } else {
                        digest = EventHash(digestOfUTF8: operation.value ?? "")
                    }
                    operations.append(
                        LeafOperation(
                            agentID: operation.agent_id, key: operation.key, version: operation.version,
                            valueDigest: digest, expiresAt: operation.expires_at_micros))
                case "delete":
                    guard operation.value_digest == nil, operation.expires_at_micros == nil else { return nil }
                    operations.append(
                        LeafOperation(
                            agentID: operation.agent_id, key: operation.key, version: operation.version,
                            valueDigest: nil))
                default:
                    return nil
                }
            }
            let metadata = CommitMetadata(
                actor: self.metadata?.actor, reason: self.metadata?.reason, tags: self.metadata?.tags ?? [:])
            return MerkleTree.leafHash(
                LeafEncoding.encode(
                    commitTS: self.commit_ts, namespace: namespace, txnID: self.txn_id,
                    committedAt: self.committed_at_micros,
                    metadata: metadata, operations: operations))
        }
    }

    public struct LeafLine: Sendable {
        public var commit_ts: UInt64
        public var hash: String

        public init(commit_ts: UInt64, hash: String) {
            self.commit_ts = commit_ts
            self.hash = hash
        }
    }

    public struct StateLine: Sendable {
        public var agent_id: String
        public var key: String
        public var version: UInt64
        public var commit_ts: UInt64
        public var value: String

        public init(agent_id: String, key: String, version: UInt64, commit_ts: UInt64, value: String) {
            self.agent_id = agent_id
            self.key = key
            self.version = version
            self.commit_ts = commit_ts
            self.value = value
        }
    }

    public struct WitnessLine: Sendable {
        public var event: EventLine
        /// Inclusion proof of the event in the head's tree (hex).
        public var proof: [String]

        public init(event: EventLine, proof: [String]) {
            self.event = event
            self.proof = proof
        }
    }

    public struct EndLine: Sendable {
        public var events: Int
        public var leaves: Int
        public var state: Int
        public var witnesses: Int

        public init(events: Int, leaves: Int, state: Int, witnesses: Int) {
            self.events = events
            self.leaves = leaves
            self.state = state
            self.witnesses = witnesses
        }
    }

    /// One line: exactly one member is set.
    public struct Line: Sendable {
        public var manifest: Manifest?
        public var event: EventLine?
        public var leaf: LeafLine?
        public var state: StateLine?
        public var witness: WitnessLine?
        public var run: RunLine?
        public var end: EndLine?

        public init(
            manifest: Manifest? = nil, event: EventLine? = nil, leaf: LeafLine? = nil, state: StateLine? = nil,
            witness: WitnessLine? = nil, run: RunLine? = nil, end: EndLine? = nil
        ) {
            self.manifest = manifest
            self.event = event
            self.leaf = leaf
            self.state = state
            self.witness = witness
            self.run = run
            self.end = end
        }
    }
}

/// Lowercase hexadecimal in and out (export files, written by hand or by other tools, may use either case:
/// `anyCase`).
enum Hex {
    static func bytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = self.value(digits[index]), let low = self.value(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// 64 lowercase hex digits as a hash, decoded in place (one per event line: no array in between).
    static func hash(_ text: String, anyCase: Bool = false) -> EventHash? {
        var text = text
        return text.withUTF8 { digits in
            digits.count == 64 ? self.hash(digits: UnsafeRawBufferPointer(digits), anyCase: anyCase) : nil
        }
    }

    /// The hash of the 64 hex digits at the start of `digits` (an export line's bytes, read where they lie).
    static func hash(digits: UnsafeRawBufferPointer, anyCase: Bool = false) -> EventHash? {
        guard digits.count >= 64 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &words) { raw -> EventHash? in
            for index in 0..<32 {
                guard let high = self.value(digits[2 * index], anyCase: anyCase),
                    let low = self.value(digits[2 * index + 1], anyCase: anyCase)
                else { return nil }
                raw[index] = high << 4 | low
            }
            return EventHash(unsafeBytes: raw.baseAddress!)
        }
    }

    private static func value(_ digit: UInt8, anyCase: Bool = false) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F") where anyCase: digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
