/// A one-shot atomic commit: operations, conditions, idempotency key and metadata in one request.
public struct AtomicCommit: Sendable, Hashable {
    /// A condition on one key's current version.
    public struct Condition: Sendable, Hashable {
        public var agentID: String
        public var key: String
        public var expected: ExpectedVersion

        public init(agentID: String, key: String, expected: ExpectedVersion) {
            self.agentID = agentID
            self.key = key
            self.expected = expected
        }
    }

    public var namespace: String
    /// The writes; at most one per (agent_id, key).
    public var operations: [WriteOperation]
    /// Every condition must hold when the transaction commits, or nothing is applied.
    public var conditions: [Condition]
    /// Makes retries safe: a second commit with the same key and content returns the first result.
    public var idempotencyKey: String?
    public var metadata: CommitMetadata
    /// Agent events recorded in the same transaction (each becomes a put under `@events`).
    public var events: [AgentEventDraft]

    public init(
        namespace: String = "default",
        operations: [WriteOperation],
        conditions: [Condition] = [],
        idempotencyKey: String? = nil,
        metadata: CommitMetadata = CommitMetadata(),
        events: [AgentEventDraft] = []
    ) {
        self.namespace = namespace
        self.operations = operations
        self.conditions = conditions
        self.idempotencyKey = idempotencyKey
        self.metadata = metadata
        self.events = events
    }
}

/// One key of one agent, for multi-key reads.
public struct KeyAddress: Sendable, Hashable {
    public var agentID: String
    public var key: String

    public init(agentID: String, key: String) {
        self.agentID = agentID
        self.key = key
    }
}

/// An interactive transaction as returned by `StatehouseEngine.beginTransaction(namespace:timeout:)`.
public struct TransactionInfo: Sendable, Hashable {
    public var txnID: String
    /// nil for a transaction begun without one: its first staged write names it.
    public var namespace: String?
    /// The transaction's timeout; it is rolled back if not committed within it.
    public var timeout: Duration

    public init(txnID: String, namespace: String?, timeout: Duration) {
        self.txnID = txnID
        self.namespace = namespace
        self.timeout = timeout
    }
}

/// What the engine knows about a transaction id (`StatehouseEngine.transactionStatus(_:)`).
public enum TransactionStatus: Sendable, Equatable {
    case open
    case committed(CommitResult)
    case aborted
    case expired
    case failed(StatehouseError)
    /// Never began, or finished long enough ago to be forgotten (a bounded number of finished transactions are
    /// remembered; a committed one is still found by `StatehouseEngine.commit(txnID:staging:conditions:metadata:)`).
    case unknown
}
