/// Which part of a namespace's log to read.
public struct LogFilter: Sendable, Hashable {
    public var namespace: String
    /// Only this agent's operations, and only events that have one.
    public var agentID: String?
    /// Only operations on keys with this prefix, and only events that have one.
    public var keyPrefix: String?
    /// First commit_ts (inclusive); default 1.
    public var fromCommitTS: CommitTS?
    /// Last commit_ts (inclusive); default the end of the log.
    public var toCommitTS: CommitTS?
    /// Only events committed at or after this time (µs since the epoch).
    public var since: Microseconds?
    /// Only events committed at or before this time (µs since the epoch).
    public var until: Microseconds?

    public init(
        namespace: String = "default",
        agentID: String? = nil,
        keyPrefix: String? = nil,
        fromCommitTS: CommitTS? = nil,
        toCommitTS: CommitTS? = nil,
        since: Microseconds? = nil,
        until: Microseconds? = nil
    ) {
        self.namespace = namespace
        self.agentID = agentID
        self.keyPrefix = keyPrefix
        self.fromCommitTS = fromCommitTS
        self.toCommitTS = toCommitTS
        self.since = since
        self.until = until
    }
}

/// The outcome of `StatehouseEngine.verify(namespace:from:to:)`.
public struct VerificationReport: Sendable, Hashable {
    public var namespace: String
    public var fromCommitTS: CommitTS
    public var toCommitTS: CommitTS
    /// Events whose hash and link were recomputed and matched.
    public var eventsChecked: Int
    /// The end of the log when verification ran.
    public var head: LogHead
    /// The first commit_ts whose stored content or link does not match; `nil` when everything verified.
    public var firstBadCommitTS: CommitTS?
    /// Why that commit_ts failed.
    public var reason: String?
    /// Of the events checked, those holding a value the retention policy removed: their chain hash cannot be
    /// recomputed without it, so each was checked by its leaf (value digests) against the stored Merkle tree, and
    /// by its link.
    public var eventsWithRemovedValues = 0

    public var isValid: Bool { self.firstBadCommitTS == nil }

    public init(
        namespace: String,
        fromCommitTS: CommitTS,
        toCommitTS: CommitTS,
        eventsChecked: Int,
        head: LogHead,
        firstBadCommitTS: CommitTS?,
        reason: String?
    ) {
        self.namespace = namespace
        self.fromCommitTS = fromCommitTS
        self.toCommitTS = toCommitTS
        self.eventsChecked = eventsChecked
        self.head = head
        self.firstBadCommitTS = firstBadCommitTS
        self.reason = reason
    }
}
