/// What happened to an agent (a message, a tool call, an error), recorded in its namespace's log.
///
/// An agent event is a commit like any other write: appended through the same pipeline (optionally in the same
/// transaction as state writes), hash-chained, in the Merkle tree, returned by replay and watch. It is stored as a put
/// under the reserved agent `@events` (docs/architecture.md, "Events, sessions and tasks").
public struct AgentEvent: Sendable, Hashable {
    /// A time-ordered UUID (version 7) given by the daemon; unique across namespaces.
    public var id: String
    public var agentID: String
    /// Free text such as message, tool_call, error.
    public var type: String
    public var sessionID: String?
    public var actor: String?
    /// Any JSON value.
    public var content: JSONValue
    public var metadata: JSONValue?
    /// When it happened, as the recorder says (µs since the epoch); the commit time when it says nothing.
    public var occurredAt: Microseconds
    /// The commit that recorded it.
    public var commitTS: CommitTS
    public var committedAt: Microseconds

    public init(
        id: String, agentID: String, type: String, sessionID: String?, actor: String?, content: JSONValue,
        metadata: JSONValue?, occurredAt: Microseconds, commitTS: CommitTS, committedAt: Microseconds
    ) {
        self.id = id
        self.agentID = agentID
        self.type = type
        self.sessionID = sessionID
        self.actor = actor
        self.content = content
        self.metadata = metadata
        self.occurredAt = occurredAt
        self.commitTS = commitTS
        self.committedAt = committedAt
    }
}

/// An event to record: ``AgentEvent`` before the daemon gives it an id and a commit.
public struct AgentEventDraft: Sendable, Hashable {
    /// The event's id: a UUID the recorder chose (so a retry cannot record it twice: a second commit with the same id
    /// fails with a conflict), or `nil` for one the daemon makes (time-ordered, version 7).
    public var id: String?
    public var agentID: String
    public var type: String
    public var sessionID: String?
    public var actor: String?
    public var content: JSONValue
    public var metadata: JSONValue?
    /// When it happened; `nil` for the time the daemon receives it.
    public var occurredAt: Microseconds?

    public init(
        agentID: String, type: String, content: JSONValue, sessionID: String? = nil, actor: String? = nil,
        metadata: JSONValue? = nil, occurredAt: Microseconds? = nil, id: String? = nil
    ) {
        self.id = id
        self.agentID = agentID
        self.type = type
        self.sessionID = sessionID
        self.actor = actor
        self.content = content
        self.metadata = metadata
        self.occurredAt = occurredAt
    }
}

/// Which events a query returns; every field set narrows it. Events come in the order they were recorded.
public struct AgentEventFilter: Sendable, Hashable {
    public var agentID: String?
    public var sessionID: String?
    public var type: String?
    public var actor: String?
    /// occurred_at at or after this (µs since the epoch).
    public var since: Microseconds?
    /// occurred_at at or before this.
    public var until: Microseconds?

    public init(
        agentID: String? = nil, sessionID: String? = nil, type: String? = nil, actor: String? = nil,
        since: Microseconds? = nil, until: Microseconds? = nil
    ) {
        self.agentID = agentID
        self.sessionID = sessionID
        self.type = type
        self.actor = actor
        self.since = since
        self.until = until
    }
}
