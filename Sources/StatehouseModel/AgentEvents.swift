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

/// A session of an agent (a conversation, a run): started, then ended with a status. Stored under `@sessions`.
public struct AgentSession: Sendable, Hashable {
    public var id: String
    public var agentID: String
    /// `active` while open; `ended` (or the status given) once ended.
    public var status: String
    public var metadata: JSONValue?
    public var startedAt: Microseconds
    /// `nil` while open.
    public var endedAt: Microseconds?

    public init(
        id: String, agentID: String, status: String, metadata: JSONValue?, startedAt: Microseconds,
        endedAt: Microseconds?
    ) {
        self.id = id
        self.agentID = agentID
        self.status = status
        self.metadata = metadata
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}

/// A task (title, description, status, assignee). Stored under `@tasks`.
public struct AgentTask: Sendable, Hashable {
    public var id: String
    public var title: String
    public var description: String
    /// Free text; `pending` when created without one.
    public var status: String
    public var assignedTo: String?
    public var metadata: JSONValue?
    public var createdAt: Microseconds
    public var updatedAt: Microseconds

    public init(
        id: String, title: String, description: String, status: String, assignedTo: String?, metadata: JSONValue?,
        createdAt: Microseconds, updatedAt: Microseconds
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.status = status
        self.assignedTo = assignedTo
        self.metadata = metadata
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A change to a task: `nil` fields keep their value.
public struct AgentTaskUpdate: Sendable, Hashable {
    public var title: String?
    public var description: String?
    public var status: String?
    public var assignedTo: String?
    public var metadata: JSONValue?

    public init(
        title: String? = nil, description: String? = nil, status: String? = nil, assignedTo: String? = nil,
        metadata: JSONValue? = nil
    ) {
        self.title = title
        self.description = description
        self.status = status
        self.assignedTo = assignedTo
        self.metadata = metadata
    }
}
