import Foundation
import GRPCCore
import GRPCProtobuf
public import StatehouseModel
import StatehouseProto
import StatehouseWire

// Agents, snapshots, restore, fork and diff (docs/api.md, "The agent lifecycle").
extension StatehouseClient {
    /// An agent's record: name, status, metadata, counts and times.
    public func getAgent(namespace: String = "default", agentID: String) async throws -> AgentRecord {
        var request = Statehouse_V2_GetAgentRequest()
        request.namespace = namespace
        request.agentID = agentID
        return try await self.call { Wire.agentRecord(try await self.stub.getAgent(request)) }
    }

    /// Agents with their records, sorted by id; only those with `status` when given; deleted ones when asked for.
    public func listAgentRecords(
        namespace: String = "default", status: String? = nil, includeDeleted: Bool = false, limit: Int = 100,
        cursor: String? = nil
    ) async throws -> Page<AgentRecord> {
        var request = Statehouse_V2_ListAgentRecordsRequest()
        request.namespace = namespace
        request.status = status ?? ""
        request.includeDeleted = includeDeleted
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        let response = try await self.call { try await self.stub.listAgentRecords(request) }
        return Page(
            items: response.agents.map(Wire.agentRecord),
            nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }

    /// Changes an agent's display name, status or metadata (`nil` fields keep their value).
    @discardableResult
    public func updateAgent(
        namespace: String = "default", agentID: String, _ update: AgentUpdate,
        metadata: CommitMetadata = CommitMetadata()
    ) async throws -> AgentRecord {
        var request = Statehouse_V2_UpdateAgentRequest()
        request.namespace = namespace
        request.agentID = agentID
        if let name = update.displayName { request.displayName = name }
        if let status = update.status { request.status = status }
        if let value = update.metadata { request.metadata = Data(value.utf8) }
        request.commitMetadata = Wire.proto(metadata)
        return try await self.call { Wire.agentRecord(try await self.stub.updateAgent(request)) }
    }

    /// Tombstones every key of the agent in one commit and marks its record deleted; history is kept.
    @discardableResult
    public func deleteAgent(
        namespace: String = "default", agentID: String, metadata: CommitMetadata = CommitMetadata()
    ) async throws -> CommitResult {
        var request = Statehouse_V2_DeleteAgentRequest()
        request.namespace = namespace
        request.agentID = agentID
        request.metadata = Wire.proto(metadata)
        return try await self.call { Wire.result(try await self.stub.deleteAgent(request)) }
    }

    /// Names the state of an agent (or of the namespace, `agentID` nil) at a point; copies nothing.
    @discardableResult
    public func createSnapshot(
        namespace: String = "default", name: String, agentID: String?, description: String = "",
        metadata: JSONValue? = nil, expiresAt: Microseconds? = nil, at point: StatePoint = .latest
    ) async throws -> SnapshotRecord {
        var request = Statehouse_V2_CreateSnapshotRequest()
        request.namespace = namespace
        request.name = name
        request.agentID = agentID ?? ""
        request.description_p = description
        if let metadata { request.metadata = Data(metadata.utf8) }
        request.expiresAtMicros = expiresAt ?? 0
        if let at = Wire.proto(point) { request.at = at }
        return try await self.call { Wire.snapshot(try await self.stub.createSnapshot(request)) }
    }

    public func getSnapshot(namespace: String = "default", name: String) async throws -> SnapshotRecord {
        var request = Statehouse_V2_GetSnapshotRequest()
        request.namespace = namespace
        request.name = name
        return try await self.call { Wire.snapshot(try await self.stub.getSnapshot(request)) }
    }

    /// Snapshots sorted by name (expired ones left out); only one agent's when `agentID` is given.
    public func listSnapshots(
        namespace: String = "default", agentID: String? = nil, limit: Int = 1000, cursor: String? = nil
    ) async throws -> Page<SnapshotRecord> {
        var request = Statehouse_V2_ListSnapshotsRequest()
        request.namespace = namespace
        request.agentID = agentID ?? ""
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        let response = try await self.call { try await self.stub.listSnapshots(request) }
        return Page(
            items: response.snapshots.map(Wire.snapshot),
            nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }

    @discardableResult
    public func deleteSnapshot(namespace: String = "default", name: String) async throws -> CommitResult {
        var request = Statehouse_V2_DeleteSnapshotRequest()
        request.namespace = namespace
        request.name = name
        return try await self.call { Wire.result(try await self.stub.deleteSnapshot(request)) }
    }

    /// One commit making the current state equal to the snapshot's; a conflict if it changes meanwhile, unless forced.
    @discardableResult
    public func restoreSnapshot(
        namespace: String = "default", name: String, force: Bool = false, metadata: CommitMetadata = CommitMetadata()
    ) async throws -> StateCopyResult {
        var request = Statehouse_V2_RestoreSnapshotRequest()
        request.namespace = namespace
        request.name = name
        request.force = force
        request.metadata = Wire.proto(metadata)
        return try await self.call { Wire.stateCopy(try await self.stub.restoreSnapshot(request)) }
    }

    /// Copies an agent's state at a point into another agent (possibly in another namespace) in one commit.
    @discardableResult
    public func fork(
        namespace: String = "default", agentID: String, at point: StatePoint = .latest,
        targetNamespace: String? = nil, targetAgentID: String, overwrite: Bool = false,
        metadata: CommitMetadata = CommitMetadata()
    ) async throws -> StateCopyResult {
        var request = Statehouse_V2_ForkRequest()
        request.namespace = namespace
        request.agentID = agentID
        if let at = Wire.proto(point) { request.at = at }
        request.targetNamespace = targetNamespace ?? ""
        request.targetAgentID = targetAgentID
        request.overwrite = overwrite
        request.metadata = Wire.proto(metadata)
        return try await self.call { Wire.stateCopy(try await self.stub.fork(request)) }
    }

    /// Keys added, removed and changed (with an RFC 6902 JSON Patch) between two points of an agent's state.
    public func diff(
        namespace: String = "default", agentID: String, from: StatePoint, to: StatePoint = .latest
    ) async throws -> StateDiff {
        var request = Statehouse_V2_DiffRequest()
        request.namespace = namespace
        request.agentID = agentID
        request.from = Wire.proto(from) ?? Statehouse_V2_StatePoint()
        if let to = Wire.proto(to) { request.to = to }
        return try await self.call { Wire.diff(try await self.stub.diff(request)) }
    }
}

// Agent events.
extension StatehouseClient {
    /// Records events in one commit; returns them with their ids and commit. To record events with state writes in
    /// one transaction, put them in ``commit(_:)``'s `AtomicCommit.events`.
    @discardableResult
    public func recordEvents(
        namespace: String = "default", _ events: [AgentEventDraft], metadata: CommitMetadata = CommitMetadata()
    ) async throws -> [AgentEvent] {
        var request = Statehouse_V2_RecordEventsRequest()
        request.namespace = namespace
        request.events = events.map(Wire.proto)
        if !metadata.isEmpty { request.metadata = Wire.proto(metadata) }
        let response = try await self.call { try await self.stub.recordEvents(request) }
        return response.events.map(Wire.agentEvent)
    }

    /// Recorded events in the order they were recorded, narrowed by `filter`.
    public func events(
        namespace: String = "default", filter: AgentEventFilter = AgentEventFilter(), limit: Int = 1000,
        cursor: String? = nil
    ) async throws -> Page<AgentEvent> {
        var request = Statehouse_V2_GetEventsRequest()
        request.namespace = namespace
        request.filter = Wire.proto(filter)
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        let response = try await self.call { try await self.stub.getEvents(request) }
        return Page(
            items: response.events.map(Wire.agentEvent),
            nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }

    /// One recorded event by id.
    public func event(namespace: String = "default", id: String) async throws -> AgentEvent {
        var request = Statehouse_V2_GetEventRequest()
        request.namespace = namespace
        request.id = id
        return try await self.call { Wire.agentEvent(try await self.stub.getEvent(request)) }
    }
}

// Sessions and tasks.
extension StatehouseClient {
    @discardableResult
    public func startSession(
        namespace: String = "default", agentID: String, id: String? = nil, metadata: JSONValue? = nil
    ) async throws -> AgentSession {
        var request = Statehouse_V2_StartSessionRequest()
        request.namespace = namespace
        request.agentID = agentID
        request.id = id ?? ""
        if let metadata { request.metadata = Data(metadata.utf8) }
        return try await self.call { Wire.session(try await self.stub.startSession(request)) }
    }

    @discardableResult
    public func endSession(
        namespace: String = "default", id: String, status: String = "ended"
    ) async throws
        -> AgentSession
    {
        var request = Statehouse_V2_EndSessionRequest()
        request.namespace = namespace
        request.id = id
        request.status = status
        return try await self.call { Wire.session(try await self.stub.endSession(request)) }
    }

    public func listSessions(
        namespace: String = "default", agentID: String? = nil, status: String? = nil, limit: Int = 1000,
        cursor: String? = nil
    ) async throws -> Page<AgentSession> {
        var request = Statehouse_V2_ListSessionsRequest()
        request.namespace = namespace
        request.agentID = agentID ?? ""
        request.status = status ?? ""
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        let response = try await self.call { try await self.stub.listSessions(request) }
        return Page(
            items: response.sessions.map(Wire.session),
            nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }

    @discardableResult
    public func createTask(
        namespace: String = "default", title: String, description: String = "", status: String = "pending",
        assignedTo: String? = nil, metadata: JSONValue? = nil, id: String? = nil
    ) async throws -> AgentTask {
        var request = Statehouse_V2_CreateTaskRequest()
        request.namespace = namespace
        request.title = title
        request.description_p = description
        request.status = status
        if let assignedTo { request.assignedTo = assignedTo }
        if let metadata { request.metadata = Data(metadata.utf8) }
        request.id = id ?? ""
        return try await self.call { Wire.task(try await self.stub.createTask(request)) }
    }

    @discardableResult
    public func updateTask(
        namespace: String = "default", id: String, _ update: AgentTaskUpdate
    ) async throws
        -> AgentTask
    {
        var request = Statehouse_V2_UpdateTaskRequest()
        request.namespace = namespace
        request.id = id
        if let title = update.title { request.title = title }
        if let description = update.description { request.description_p = description }
        if let status = update.status { request.status = status }
        if let assignee = update.assignedTo { request.assignedTo = assignee }
        if let metadata = update.metadata { request.metadata = Data(metadata.utf8) }
        return try await self.call { Wire.task(try await self.stub.updateTask(request)) }
    }

    public func listTasks(
        namespace: String = "default", status: String? = nil, assignedTo: String? = nil, limit: Int = 1000,
        cursor: String? = nil
    ) async throws -> Page<AgentTask> {
        var request = Statehouse_V2_ListTasksRequest()
        request.namespace = namespace
        request.status = status ?? ""
        request.assignedTo = assignedTo ?? ""
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        let response = try await self.call { try await self.stub.listTasks(request) }
        return Page(
            items: response.tasks.map(Wire.task), nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }
}

extension StatehouseClient {
    public func getSession(namespace: String = "default", id: String) async throws -> AgentSession {
        var request = Statehouse_V2_GetSessionRequest()
        request.namespace = namespace
        request.id = id
        return try await self.call { Wire.session(try await self.stub.getSession(request)) }
    }

    public func getTask(namespace: String = "default", id: String) async throws -> AgentTask {
        var request = Statehouse_V2_GetTaskRequest()
        request.namespace = namespace
        request.id = id
        return try await self.call { Wire.task(try await self.stub.getTask(request)) }
    }
}

extension StatehouseClient {
    /// Full-text search in a namespace, best first (FTS5 syntax; a malformed query is an invalid argument).
    public func search(
        namespace: String = "default", _ query: SearchQuery, limit: Int = 20, cursor: String? = nil
    ) async throws -> Page<SearchHit> {
        var request = Wire.proto(query)
        request.namespace = namespace
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        let response = try await self.call { try await self.stub.search(request) }
        return Page(
            items: response.hits.map(Wire.searchHit),
            nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }
}

extension StatehouseClient {
    /// An online, consistent copy of the daemon's store into `destination`, a new or empty directory on the daemon's
    /// machine (absolute path).
    public func backup(to destination: String) async throws -> BackupReport {
        var request = Statehouse_V2_BackupRequest()
        request.destination = destination
        let response = try await self.call { try await self.stub.backup(request) }
        return BackupReport(path: response.path, bytes: Int(response.bytes), heads: response.heads.map(Wire.head))
    }
}

extension StatehouseClient {
    /// Sets the namespace's retention policy; `nil` removes it so the daemon's default applies again.
    @discardableResult
    public func setRetention(
        namespace: String = "default", policy: RetentionPolicy?, metadata: CommitMetadata = CommitMetadata()
    ) async throws -> ResolvedRetention {
        var request = Statehouse_V2_SetRetentionRequest()
        request.namespace = namespace
        if let policy {
            guard policy.keepVersions >= 0, policy.keepFor >= .zero else {
                throw StatehouseError.invalidArgument("retention rules cannot be negative")
            }
            request.keepVersions = UInt32(clamping: policy.keepVersions)
            request.keepForSeconds = UInt64(policy.keepFor.components.seconds)
        } else {
            request.useDefault = true
        }
        if !metadata.isEmpty { request.metadata = Wire.proto(metadata) }
        return Wire.retention(try await self.call { try await self.stub.setRetention(request) })
    }

    /// The namespace's retention policy in force and where it comes from.
    public func retention(namespace: String = "default") async throws -> ResolvedRetention {
        var request = Statehouse_V2_GetRetentionRequest()
        request.namespace = namespace
        return Wire.retention(try await self.call { try await self.stub.getRetention(request) })
    }

    /// Compacts the namespace now (and VACUUMs the store after, when asked).
    public func compact(namespace: String = "default", vacuum: Bool = false) async throws -> CompactionReport {
        var request = Statehouse_V2_CompactRequest()
        request.namespace = namespace
        request.vacuum = vacuum
        return Wire.report(try await self.call { try await self.stub.compact(request) })
    }
}

extension StatehouseClient {
    /// Replays exported events into `namespace` (which must have no commits), checking their hash chain: `events` is
    /// called for each next batch (in commit_ts order) until it returns `nil`.
    public func importLog(
        into namespace: String, from sourceNamespace: String,
        events: @escaping @Sendable () async throws -> [Event]?
    ) async throws -> (head: LogHead, events: Int) {
        // Written without generated messages (``StatehouseWire/ImportLogMessageSerializer``): the same bytes.
        try await self.call {
            try await self.streams.clientStreaming(
                request: StreamingClientRequest(of: ImportLogMessage.self) { writer in
                    try await writer.write(ImportLogMessage(namespace: namespace, sourceNamespace: sourceNamespace))
                    while let batch = try await events() { try await writer.write(ImportLogMessage(events: batch)) }
                },
                descriptor: Statehouse_V2_StatehouseService.Method.ImportLog.descriptor,
                serializer: ImportLogMessageSerializer(),
                deserializer: ProtobufDeserializer<Statehouse_V2_ImportLogResponse>(),
                options: .defaults,
                onResponse: { response in
                    let message = try response.message
                    return (Wire.head(message.head), Int(message.events))
                })
        }
    }
}
