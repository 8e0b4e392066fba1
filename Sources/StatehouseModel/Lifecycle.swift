/// The agent lifecycle's records: agents with a status, snapshots (named points), and what restore, fork and diff
/// return. They are stored as JSON values under reserved agents of the namespace (``ReservedNames``), so every change
/// to them is a commit: versioned, replayable, hash-chained and provable like any other state.

/// Names Statehouse keeps for its own records in every namespace.
///
/// Agent ids that start with `@` are reserved: user writes to them are refused, and listings of agents leave them out
/// unless asked. Reads of them are allowed (they are ordinary versioned keys).
public enum ReservedNames {
    /// The prefix of reserved agent ids.
    public static let prefix = "@"
    /// The agent that holds one record per agent (key = the agent id).
    public static let agentsAgent = "@agents"
    /// The agent that holds one record per snapshot (key = the snapshot's name).
    public static let snapshotsAgent = "@snapshots"
    /// The agent that holds one record per agent event (key = the event's id).
    public static let eventsAgent = "@events"
    /// The agent that holds one record per session (key = the session's id).
    public static let sessionsAgent = "@sessions"
    /// The agent that holds one record per task (key = the task's id).
    public static let tasksAgent = "@tasks"
    /// The agent that holds the namespace's settings; key ``retentionKey`` is its retention policy.
    public static let settingsAgent = "@settings"
    /// The agent that holds one record per provenance record (key = `KIND/ID`).
    public static let provenanceAgent = "@provenance"
    /// The agent that holds one record per run (key = the run's id).
    public static let runsAgent = "@runs"
    /// The key of the namespace's retention policy under ``settingsAgent``.
    public static let retentionKey = "retention"

    /// Whether an agent id is reserved.
    public static func isReserved(_ name: String) -> Bool { name.utf8.first == UInt8(ascii: "@") }
}

/// An agent: what its record says (name, status, metadata) and what its keys say (counts, first and last write).
public struct AgentRecord: Sendable, Hashable {
    public var agentID: String
    /// A display name; `nil` when none was set.
    public var displayName: String?
    /// Free text such as active, paused or done; `active` for an agent that never had a record.
    public var status: String
    /// A JSON object or any JSON value the caller set; `nil` when none was set.
    public var metadata: JSONValue?
    /// When the agent's first key or record was written (µs since the epoch).
    public var createdAt: Microseconds
    /// When the agent's last key or record was written.
    public var updatedAt: Microseconds
    /// Keys that exist now (not deleted).
    public var keyCount: Int
    /// Versions of all its keys, tombstones included.
    public var versionCount: Int
    /// Deleted with ``delete_agent``: its record says so and it has no live key.
    public var deleted: Bool

    public init(
        agentID: String, displayName: String?, status: String, metadata: JSONValue?, createdAt: Microseconds,
        updatedAt: Microseconds, keyCount: Int, versionCount: Int, deleted: Bool
    ) {
        self.agentID = agentID
        self.displayName = displayName
        self.status = status
        self.metadata = metadata
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.keyCount = keyCount
        self.versionCount = versionCount
        self.deleted = deleted
    }

    /// The status of an agent that never had a record.
    public static let defaultStatus = "active"
}

/// A change to an agent's record: `nil` fields stay as they are.
public struct AgentUpdate: Sendable, Hashable {
    public var displayName: String?
    public var status: String?
    public var metadata: JSONValue?

    public init(displayName: String? = nil, status: String? = nil, metadata: JSONValue? = nil) {
        self.displayName = displayName
        self.status = status
        self.metadata = metadata
    }
}

/// What an agent's keys say, read from storage (``AgentRecord`` adds the record's fields).
public struct AgentKeyStats: Sendable, Hashable {
    public var agentID: String
    public var liveKeys: Int
    public var versions: Int
    /// committed_at of the agent's first and last writes; 0 when it has none.
    public var firstCommittedAt: Microseconds
    public var lastCommittedAt: Microseconds

    public init(
        agentID: String, liveKeys: Int, versions: Int, firstCommittedAt: Microseconds, lastCommittedAt: Microseconds
    ) {
        self.agentID = agentID
        self.liveKeys = liveKeys
        self.versions = versions
        self.firstCommittedAt = firstCommittedAt
        self.lastCommittedAt = lastCommittedAt
    }
}

/// A named point in a namespace's log: the state of one agent (or of the whole namespace) as of `commitTS`.
///
/// Creating one copies nothing: every version is already stored, so a snapshot is its name and a commit_ts.
public struct SnapshotRecord: Sendable, Hashable {
    public var namespace: String
    public var name: String
    /// The agent whose state it names; `nil` for the whole namespace.
    public var agentID: String?
    /// The state it names is the state as of this commit_ts.
    public var commitTS: CommitTS
    public var description: String
    public var metadata: JSONValue?
    /// When it was created (µs since the epoch).
    public var createdAt: Microseconds
    /// When it stops being listed and is swept; `nil` for never.
    public var expiresAt: Microseconds?

    public init(
        namespace: String, name: String, agentID: String?, commitTS: CommitTS, description: String,
        metadata: JSONValue?, createdAt: Microseconds, expiresAt: Microseconds?
    ) {
        self.namespace = namespace
        self.name = name
        self.agentID = agentID
        self.commitTS = commitTS
        self.description = description
        self.metadata = metadata
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Whether it has expired at `now`.
    public func isExpired(at now: Microseconds) -> Bool {
        guard let expiresAt = self.expiresAt else { return false }
        return expiresAt <= now
    }
}

/// Where a restore, fork or diff reads an agent's state.
public enum StatePoint: Sendable, Hashable {
    /// The latest committed state.
    case latest
    /// The state as of commit_ts S.
    case commit(CommitTS)
    /// The state as of wall-clock time T.
    case time(Microseconds)
    /// The point a snapshot names.
    case snapshot(String)
}

/// One key that differs between two points of an agent's state.
public struct KeyDifference: Sendable, Hashable {
    public enum Change: String, Sendable, Hashable {
        case added, removed, changed
    }

    public var agentID: String
    public var key: String
    public var change: Change
    /// The key at the first point (`nil` when added).
    public var before: StateRecord?
    /// The key at the second point (`nil` when removed).
    public var after: StateRecord?
    /// For a changed key, the RFC 6902 JSON Patch from the old value to the new one.
    public var patch: JSONValue?

    public init(
        agentID: String, key: String, change: Change, before: StateRecord?, after: StateRecord?, patch: JSONValue?
    ) {
        self.agentID = agentID
        self.key = key
        self.change = change
        self.before = before
        self.after = after
        self.patch = patch
    }
}

/// The differences between two points of an agent's state, and the commit_ts each point resolved to.
public struct StateDiff: Sendable, Hashable {
    public var namespace: String
    public var agentID: String
    public var fromCommitTS: CommitTS
    public var toCommitTS: CommitTS
    /// In key byte order.
    public var differences: [KeyDifference]

    public init(
        namespace: String, agentID: String, fromCommitTS: CommitTS, toCommitTS: CommitTS,
        differences: [KeyDifference]
    ) {
        self.namespace = namespace
        self.agentID = agentID
        self.fromCommitTS = fromCommitTS
        self.toCommitTS = toCommitTS
        self.differences = differences
    }
}

/// What a restore or a fork wrote.
public struct StateCopyResult: Sendable, Hashable {
    /// The commit; when nothing differed, the head it was checked against (no event is written).
    public var commit: CommitResult
    /// Keys written with a value.
    public var puts: Int
    /// Keys deleted.
    public var deletes: Int
    /// The commit_ts the copied state was read at.
    public var sourceCommitTS: CommitTS

    public init(commit: CommitResult, puts: Int, deletes: Int, sourceCommitTS: CommitTS) {
        self.commit = commit
        self.puts = puts
        self.deletes = deletes
        self.sourceCommitTS = sourceCommitTS
    }
}

/// What an online backup wrote: a consistent copy of the store, as of one snapshot, while the daemon kept serving.
public struct BackupReport: Sendable, Hashable {
    /// The database file written (inside the backup directory).
    public var path: String
    public var bytes: Int
    /// Every namespace's head in the copy: a daemon started on the backup directory serves exactly these.
    public var heads: [LogHead]

    public init(path: String, bytes: Int, heads: [LogHead]) {
        self.path = path
        self.bytes = bytes
        self.heads = heads
    }
}
