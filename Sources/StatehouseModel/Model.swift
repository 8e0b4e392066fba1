/// One change a transaction makes to one key.
public struct WriteOperation: Sendable, Hashable {
    /// Whether an operation writes a value or deletes the key (a tombstone version).
    public enum Kind: UInt8, Sendable, Hashable {
        case put = 1
        case delete = 2
    }

    public var agentID: String
    public var key: String
    public var kind: Kind
    /// The new value of a put; `nil` for a delete.
    public var value: JSONValue?
    /// When a put's value expires (microseconds since the epoch): from then on reads treat the key as deleted, and the
    /// expiry sweep commits its delete (docs/architecture.md, "Retention and expiry"). `nil`: never. Part of the
    /// event's hash and leaf.
    public var expiresAt: Microseconds?

    /// A write of `value` to `key`, optionally expiring at `expiresAt`.
    public static func put(agentID: String, key: String, value: JSONValue, expiresAt: Microseconds? = nil) -> Self {
        Self(agentID: agentID, key: key, kind: .put, value: value, expiresAt: expiresAt)
    }

    /// A delete of `key`, stored as a tombstone version.
    public static func delete(agentID: String, key: String) -> Self {
        Self(agentID: agentID, key: key, kind: .delete, value: nil)
    }

    public init(agentID: String, key: String, kind: Kind, value: JSONValue?, expiresAt: Microseconds? = nil) {
        self.agentID = agentID
        self.key = key
        self.kind = kind
        self.value = value
        self.expiresAt = kind == .put ? expiresAt : nil
    }

    /// Bytes this operation counts against the per-transaction byte limit.
    package var accountedBytes: Int { self.agentID.utf8.count + self.key.utf8.count + (self.value?.utf8.count ?? 0) }
}

/// An operation as committed: with the version it created.
public struct AppliedOperation: Sendable, Hashable {
    public var agentID: String
    public var key: String
    public var kind: WriteOperation.Kind
    /// The put's value; `nil` for a delete, and for a put whose value the retention policy removed
    /// (``removedValueDigest`` is then set).
    public var value: JSONValue?
    public var version: Version
    /// When the put's value expires; `nil`: never.
    public var expiresAt: Microseconds?
    /// SHA-256 of the value, for a put whose value was removed by retention: what the event's leaf holds for it, so
    /// its proofs still check.
    public var removedValueDigest: EventHash?

    public init(
        agentID: String, key: String, kind: WriteOperation.Kind, value: JSONValue?, version: Version,
        expiresAt: Microseconds? = nil, removedValueDigest: EventHash? = nil
    ) {
        self.agentID = agentID
        self.key = key
        self.kind = kind
        self.value = value
        self.version = version
        self.expiresAt = expiresAt
        self.removedValueDigest = removedValueDigest
    }

    /// Whether the value of this put is gone (removed by retention): its event's chain hash can no longer be
    /// recomputed, only its leaf from the digest.
    public var valueRemoved: Bool { self.removedValueDigest != nil }
}

/// Who made a commit and why: free-form, stored with the event and covered by its hash.
public struct CommitMetadata: Sendable, Hashable {
    public var actor: String?
    public var reason: String?
    public var tags: [String: String]

    public init(actor: String? = nil, reason: String? = nil, tags: [String: String] = [:]) {
        self.actor = actor
        self.reason = reason
        self.tags = tags
    }

    public var isEmpty: Bool { self.actor == nil && self.reason == nil && self.tags.isEmpty }
}

/// A condition a one-shot commit makes on a key's current version.
public enum ExpectedVersion: Sendable, Hashable {
    /// The key must not exist: never written, or deleted.
    case absent
    /// The key's current version must be exactly this (a tombstone version counts).
    case version(Version)
}

/// A condition on a whole agent, or on a whole namespace: nothing of it was written after a commit_ts.
///
/// What a restore, a fork or an agent delete checks: they read every key of the agent at one commit_ts and write the
/// difference, which is only right if no key (a new one included) changed since. A failed one is a
/// ``StatehouseError/conflict(agentID:key:expected:actual:)`` with an empty key, expected = `unchangedSince` and
/// actual = the commit_ts of the later write.
public struct ScopeCondition: Sendable, Hashable {
    /// The agent; `nil` for the whole namespace.
    public var agentID: String?
    public var unchangedSince: CommitTS

    public init(agentID: String?, unchangedSince: CommitTS) {
        self.agentID = agentID
        self.unchangedSince = unchangedSince
    }
}

/// A condition on one key, checked by the writer against the state that includes earlier transactions of the batch.
public struct KeyCondition: Sendable, Hashable {
    /// What the key's state must be for the transaction to commit.
    public enum Requirement: Sendable, Hashable {
        /// Set by ``ExpectedVersion``.
        case expected(ExpectedVersion)
        /// Recorded by a read inside an interactive transaction: the version that was read (0: never written).
        case unchangedSinceRead(Version)
    }

    public var agentID: String
    public var key: String
    public var requirement: Requirement

    public init(agentID: String, key: String, requirement: Requirement) {
        self.agentID = agentID
        self.key = key
        self.requirement = requirement
    }

    /// Whether a key whose state is `current` satisfies this condition.
    package func isSatisfied(by current: KeyVersionState?) -> Bool {
        switch self.requirement {
        case .expected(.absent):
            return current == nil || current!.deleted
        case .expected(.version(let version)):
            return current?.version == version
        case .unchangedSinceRead(let version):
            return (current?.version ?? 0) == version
        }
    }

    /// The version this condition expected, for the conflict error.
    package var expectedVersion: Version? {
        switch self.requirement {
        case .expected(.absent): return nil
        case .expected(.version(let version)): return version
        case .unchangedSinceRead(let version): return version == 0 ? nil : version
        }
    }
}

/// The latest version of a key and whether it is a tombstone.
public struct KeyVersionState: Sendable, Hashable {
    public var version: Version
    public var deleted: Bool

    public init(version: Version, deleted: Bool) {
        self.version = version
        self.deleted = deleted
    }
}

/// The end of a namespace's log.
public struct LogHead: Sendable, Hashable {
    public var namespace: String
    /// The last commit_ts; 0 when the namespace has no commits.
    public var commitTS: CommitTS
    /// The hash of the last event; ``EventHash/zero`` when the namespace has no commits.
    public var hash: EventHash
    /// When the last event was committed; 0 when the namespace has no commits.
    public var committedAt: Microseconds

    public init(namespace: String, commitTS: CommitTS, hash: EventHash, committedAt: Microseconds) {
        self.namespace = namespace
        self.commitTS = commitTS
        self.hash = hash
        self.committedAt = committedAt
    }

    /// The head of a namespace that has no commits yet.
    public static func empty(_ namespace: String) -> Self {
        Self(namespace: namespace, commitTS: 0, hash: .zero, committedAt: 0)  // the genesis hash
    }
}

/// One committed transaction, as stored in its namespace's log.
public struct Event: Sendable, Hashable {
    public var namespace: String
    public var commitTS: CommitTS
    public var txnID: String
    public var committedAt: Microseconds
    public var operations: [AppliedOperation]
    public var metadata: CommitMetadata
    public var prevHash: EventHash
    public var hash: EventHash

    public init(
        namespace: String,
        commitTS: CommitTS,
        txnID: String,
        committedAt: Microseconds,
        operations: [AppliedOperation],
        metadata: CommitMetadata,
        prevHash: EventHash,
        hash: EventHash
    ) {
        self.namespace = namespace
        self.commitTS = commitTS
        self.txnID = txnID
        self.committedAt = committedAt
        self.operations = operations
        self.metadata = metadata
        self.prevHash = prevHash
        self.hash = hash
    }
}

/// What a successful commit returns; a retried commit returns the same value.
public struct CommitResult: Sendable, Hashable {
    public var namespace: String
    public var txnID: String
    public var commitTS: CommitTS
    public var committedAt: Microseconds
    /// The new version of each operation's key, in the order of the operations.
    public var versions: [Version]
    public var hash: EventHash

    public init(
        namespace: String,
        txnID: String,
        commitTS: CommitTS,
        committedAt: Microseconds,
        versions: [Version],
        hash: EventHash
    ) {
        self.namespace = namespace
        self.txnID = txnID
        self.commitTS = commitTS
        self.committedAt = committedAt
        self.versions = versions
        self.hash = hash
    }

    /// The result of the commit that produced `event`.
    public init(event: Event) {
        self.init(
            namespace: event.namespace,
            txnID: event.txnID,
            commitTS: event.commitTS,
            committedAt: event.committedAt,
            versions: event.operations.map(\.version),
            hash: event.hash
        )
    }
}

/// The state of one key at one point in history. A missing key is a normal result with `exists == false`.
public struct StateRecord: Sendable, Hashable {
    public var agentID: String
    public var key: String
    /// The value, or `nil` when the key does not exist at that point (never written, or deleted).
    public var value: JSONValue?
    /// The key's version at that point: 0 when never written, a tombstone version when deleted.
    public var version: Version
    /// The commit that wrote this version; 0 when never written.
    public var commitTS: CommitTS
    /// When that commit happened; 0 when never written.
    public var committedAt: Microseconds
    /// Whether this version is a delete.
    public var deleted: Bool
    /// When this version's value expires; `nil`: never.
    public var expiresAt: Microseconds?
    /// Whether this version was a put whose value the retention policy removed (only in history listings; a read of
    /// such a version fails with ``StatehouseError/failedPrecondition(_:)``).
    public var valueRemoved: Bool = false

    /// Whether the key has a value at that point (it was written and its newest version there is not a delete). A
    /// version whose value retention removed existed too (``valueRemoved``; history only): it has no value here.
    public var exists: Bool { self.value != nil || self.valueRemoved }

    public init(
        agentID: String,
        key: String,
        value: JSONValue?,
        version: Version,
        commitTS: CommitTS,
        committedAt: Microseconds,
        deleted: Bool,
        expiresAt: Microseconds? = nil
    ) {
        self.agentID = agentID
        self.key = key
        self.value = value
        self.version = version
        self.commitTS = commitTS
        self.committedAt = committedAt
        self.deleted = deleted
        self.expiresAt = expiresAt
    }

    /// The record of a key that has never been written (at the requested point).
    public static func missing(agentID: String, key: String) -> Self {
        Self(agentID: agentID, key: key, value: nil, version: 0, commitTS: 0, committedAt: 0, deleted: false)
    }
}

/// A key in a listing, without its value.
public struct KeyEntry: Sendable, Hashable {
    public var key: String
    public var version: Version
    public var deleted: Bool

    public init(key: String, version: Version, deleted: Bool) {
        self.key = key
        self.version = version
        self.deleted = deleted
    }
}

/// A namespace and the end of its log.
public typealias NamespaceInfo = LogHead

/// One page of a paginated read; `nextCursor` is `nil` on the last page.
public struct Page<Element: Sendable>: Sendable {
    public var items: [Element]
    /// Pass this back to get the next page; opaque.
    public var nextCursor: String?

    public init(items: [Element], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

extension Page: Equatable where Element: Equatable {}

/// The point in history a read is pinned to.
public enum ReadPoint: Sendable, Hashable {
    /// The latest committed state.
    case latest
    /// A key's version N (only meaningful for a single-key read).
    case version(Version)
    /// The state as of commit_ts S: every commit with commit_ts ≤ S applied.
    case commit(CommitTS)
    /// The state as of wall-clock time T: every commit with committed_at ≤ T applied.
    case time(Microseconds)
}
