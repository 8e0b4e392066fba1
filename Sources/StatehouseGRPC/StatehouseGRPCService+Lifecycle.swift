import GRPCCore
import GRPCProtobuf
import StatehouseAccess
import StatehouseCore
import StatehouseProto
import StatehouseWire

// Agents, snapshots, restore, fork and diff: validate the wire input, call the engine, encode the result.
extension ServiceImplementation {
    func getAgent(
        request: Statehouse_V2_GetAgentRequest, context: ServerContext
    ) async throws -> Statehouse_V2_AgentRecord {
        try self.authorize(.readState, request.namespace)
        return Wire.proto(
            try await self.engine.getAgent(namespace: Wire.namespace(request.namespace), agentID: request.agentID))
    }

    func listAgentRecords(
        request: Statehouse_V2_ListAgentRecordsRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ListAgentRecordsResponse {
        try self.authorize(.readState, request.namespace)
        let page = try await self.engine.listAgentRecords(
            namespace: Wire.namespace(request.namespace), status: request.status.isEmpty ? nil : request.status,
            includeDeleted: request.includeDeleted, limit: request.limit == 0 ? 100 : Int(request.limit),
            cursor: Wire.cursor(request.cursor))
        var response = Statehouse_V2_ListAgentRecordsResponse()
        response.agents = page.items.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        return response
    }

    func updateAgent(
        request: Statehouse_V2_UpdateAgentRequest, context: ServerContext
    ) async throws -> Statehouse_V2_AgentRecord {
        try self.authorize(.changeAgents, request.namespace)
        let update = AgentUpdate(
            displayName: request.hasDisplayName ? request.displayName : nil,
            status: request.hasStatus ? request.status : nil,
            metadata: try Wire.optionalValue(request.metadata, limits: self.limits))
        return Wire.proto(
            try await self.engine.updateAgent(
                namespace: Wire.namespace(request.namespace), agentID: request.agentID, update,
                metadata: request.hasCommitMetadata ? Wire.metadata(request.commitMetadata) : CommitMetadata()))
    }

    func deleteAgent(
        request: Statehouse_V2_DeleteAgentRequest, context: ServerContext
    ) async throws -> Statehouse_V2_CommitResponse {
        try self.authorize(.changeAgents, request.namespace)
        return Wire.proto(
            try await self.engine.deleteAgent(
                namespace: Wire.namespace(request.namespace), agentID: request.agentID,
                metadata: request.hasMetadata ? Wire.metadata(request.metadata) : CommitMetadata()))
    }

    func createSnapshot(
        request: Statehouse_V2_CreateSnapshotRequest, context: ServerContext
    ) async throws -> Statehouse_V2_Snapshot {
        try self.authorize(.changeSnapshots, request.namespace)
        return Wire.proto(
            try await self.engine.createSnapshot(
                namespace: Wire.namespace(request.namespace), name: request.name,
                agentID: request.agentID.isEmpty ? nil : request.agentID, description: request.description_p,
                metadata: try Wire.optionalValue(request.metadata, limits: self.limits),
                expiresAt: request.expiresAtMicros == 0 ? nil : request.expiresAtMicros,
                at: Wire.statePoint(request.hasAt ? request.at : nil)))
    }

    func getSnapshot(
        request: Statehouse_V2_GetSnapshotRequest, context: ServerContext
    ) async throws -> Statehouse_V2_Snapshot {
        try self.authorize(.readState, request.namespace)
        return Wire.proto(
            try await self.engine.getSnapshot(namespace: Wire.namespace(request.namespace), name: request.name))
    }

    func listSnapshots(
        request: Statehouse_V2_ListSnapshotsRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ListSnapshotsResponse {
        try self.authorize(.readState, request.namespace)
        let page = try await self.engine.listSnapshots(
            namespace: Wire.namespace(request.namespace), agentID: request.agentID.isEmpty ? nil : request.agentID,
            limit: Wire.limit(request.limit), cursor: Wire.cursor(request.cursor))
        var response = Statehouse_V2_ListSnapshotsResponse()
        response.snapshots = page.items.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        return response
    }

    func deleteSnapshot(
        request: Statehouse_V2_DeleteSnapshotRequest, context: ServerContext
    ) async throws -> Statehouse_V2_CommitResponse {
        try self.authorize(.changeSnapshots, request.namespace)
        return Wire.proto(
            try await self.engine.deleteSnapshot(namespace: Wire.namespace(request.namespace), name: request.name))
    }

    func restoreSnapshot(
        request: Statehouse_V2_RestoreSnapshotRequest, context: ServerContext
    ) async throws -> Statehouse_V2_StateCopyResponse {
        try self.authorize(.changeSnapshots, request.namespace)
        return Wire.proto(
            try await self.engine.restoreSnapshot(
                namespace: Wire.namespace(request.namespace), name: request.name, force: request.force,
                metadata: request.hasMetadata ? Wire.metadata(request.metadata) : CommitMetadata()))
    }

    func fork(
        request: Statehouse_V2_ForkRequest, context: ServerContext
    ) async throws -> Statehouse_V2_StateCopyResponse {
        try self.authorize(.readState, request.namespace)
        try self.authorize(
            .changeSnapshots, request.targetNamespace.isEmpty ? request.namespace : request.targetNamespace)
        return Wire.proto(
            try await self.engine.fork(
                namespace: Wire.namespace(request.namespace), agentID: request.agentID,
                at: Wire.statePoint(request.hasAt ? request.at : nil),
                targetNamespace: request.targetNamespace.isEmpty ? nil : request.targetNamespace,
                targetAgentID: request.targetAgentID, overwrite: request.overwrite,
                metadata: request.hasMetadata ? Wire.metadata(request.metadata) : CommitMetadata()))
    }

    func diff(request: Statehouse_V2_DiffRequest, context: ServerContext) async throws -> Statehouse_V2_DiffResponse {
        try self.authorize(.readState, request.namespace)
        guard request.hasFrom else {
            throw StatehouseError.invalidArgument("a diff needs a from point (commit_ts, time or snapshot)")
        }
        return Wire.proto(
            try await self.engine.diff(
                namespace: Wire.namespace(request.namespace), agentID: request.agentID,
                from: Wire.statePoint(request.from), to: Wire.statePoint(request.hasTo ? request.to : nil)))
    }
}

// Agent events.
extension ServiceImplementation {
    func recordEvents(
        request: Statehouse_V2_RecordEventsRequest, context: ServerContext
    ) async throws -> Statehouse_V2_RecordEventsResponse {
        try self.authorize(.recordEvents, request.namespace)
        guard request.events.count <= self.limits.maxOperationsPerTransaction else {
            throw StatehouseError.invalidArgument(
                "\(request.events.count) events in one request; the limit is \(self.limits.maxOperationsPerTransaction)"
            )
        }
        let events = try await self.engine.recordEvents(
            namespace: Wire.namespace(request.namespace),
            try request.events.map { try Wire.eventDraft($0, limits: self.limits) },
            metadata: request.hasMetadata ? Wire.metadata(request.metadata) : CommitMetadata())
        var response = Statehouse_V2_RecordEventsResponse()
        response.events = events.map(Wire.proto)
        return response
    }

    func getEvents(
        request: Statehouse_V2_GetEventsRequest, context: ServerContext
    ) async throws -> Statehouse_V2_GetEventsResponse {
        try self.authorize(.readState, request.namespace)
        let page = try await self.engine.events(
            namespace: Wire.namespace(request.namespace),
            filter: Wire.eventFilter(request.hasFilter ? request.filter : nil),
            limit: Wire.limit(request.limit), cursor: Wire.cursor(request.cursor))
        var response = Statehouse_V2_GetEventsResponse()
        response.events = page.items.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        return response
    }

    func getEvent(
        request: Statehouse_V2_GetEventRequest, context: ServerContext
    ) async throws -> Statehouse_V2_AgentEvent {
        try self.authorize(.readState, request.namespace)
        return Wire.proto(try await self.engine.event(namespace: Wire.namespace(request.namespace), id: request.id))
    }
}

// Sessions and tasks.
extension ServiceImplementation {
    func startSession(
        request: Statehouse_V2_StartSessionRequest, context: ServerContext
    ) async throws -> Statehouse_V2_AgentSession {
        try self.authorize(.recordEvents, request.namespace)
        return Wire.proto(
            try await self.engine.startSession(
                namespace: Wire.namespace(request.namespace), agentID: request.agentID,
                id: request.id.isEmpty ? nil : request.id,
                metadata: try Wire.optionalValue(request.metadata, limits: self.limits)))
    }

    func endSession(
        request: Statehouse_V2_EndSessionRequest, context: ServerContext
    ) async throws -> Statehouse_V2_AgentSession {
        try self.authorize(.recordEvents, request.namespace)
        return Wire.proto(
            try await self.engine.endSession(
                namespace: Wire.namespace(request.namespace), id: request.id,
                status: request.status.isEmpty ? "ended" : request.status))
    }

    func getSession(
        request: Statehouse_V2_GetSessionRequest, context: ServerContext
    ) async throws -> Statehouse_V2_AgentSession {
        try self.authorize(.readState, request.namespace)
        return Wire.proto(
            try await self.engine.getSession(namespace: Wire.namespace(request.namespace), id: request.id))
    }

    func listSessions(
        request: Statehouse_V2_ListSessionsRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ListSessionsResponse {
        try self.authorize(.readState, request.namespace)
        let page = try await self.engine.listSessions(
            namespace: Wire.namespace(request.namespace), agentID: request.agentID.isEmpty ? nil : request.agentID,
            status: request.status.isEmpty ? nil : request.status, limit: Wire.limit(request.limit),
            cursor: Wire.cursor(request.cursor))
        var response = Statehouse_V2_ListSessionsResponse()
        response.sessions = page.items.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        return response
    }

    func createTask(
        request: Statehouse_V2_CreateTaskRequest, context: ServerContext
    ) async throws -> Statehouse_V2_AgentTask {
        try self.authorize(.recordEvents, request.namespace)
        return Wire.proto(
            try await self.engine.createTask(
                namespace: Wire.namespace(request.namespace), title: request.title,
                description: request.description_p, status: request.status.isEmpty ? "pending" : request.status,
                assignedTo: request.hasAssignedTo ? request.assignedTo : nil,
                metadata: try Wire.optionalValue(request.metadata, limits: self.limits),
                id: request.id.isEmpty ? nil : request.id))
    }

    func updateTask(
        request: Statehouse_V2_UpdateTaskRequest, context: ServerContext
    ) async throws -> Statehouse_V2_AgentTask {
        try self.authorize(.recordEvents, request.namespace)
        let update = AgentTaskUpdate(
            title: request.hasTitle ? request.title : nil,
            description: request.hasDescription_p ? request.description_p : nil,
            status: request.hasStatus ? request.status : nil,
            assignedTo: request.hasAssignedTo ? request.assignedTo : nil,
            metadata: try Wire.optionalValue(request.metadata, limits: self.limits))
        return Wire.proto(
            try await self.engine.updateTask(namespace: Wire.namespace(request.namespace), id: request.id, update))
    }

    func getTask(request: Statehouse_V2_GetTaskRequest, context: ServerContext) async throws -> Statehouse_V2_AgentTask
    {
        try self.authorize(.readState, request.namespace)
        return Wire.proto(try await self.engine.getTask(namespace: Wire.namespace(request.namespace), id: request.id))
    }

    func listTasks(
        request: Statehouse_V2_ListTasksRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ListTasksResponse {
        try self.authorize(.readState, request.namespace)
        let page = try await self.engine.listTasks(
            namespace: Wire.namespace(request.namespace), status: request.status.isEmpty ? nil : request.status,
            assignedTo: request.assignedTo.isEmpty ? nil : request.assignedTo, limit: Wire.limit(request.limit),
            cursor: Wire.cursor(request.cursor))
        var response = Statehouse_V2_ListTasksResponse()
        response.tasks = page.items.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        return response
    }
}

// Search.
extension ServiceImplementation {
    func search(
        request: Statehouse_V2_SearchRequest, context: ServerContext
    ) async throws -> Statehouse_V2_SearchResponse {
        try self.authorize(.search, request.namespace)
        let page = try await self.engine.search(
            namespace: Wire.namespace(request.namespace), try Wire.searchQuery(request),
            limit: request.limit == 0 ? 20 : Int(request.limit), cursor: Wire.cursor(request.cursor))
        var response = Statehouse_V2_SearchResponse()
        response.hits = page.items.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        return response
    }
}

// Backup.
extension ServiceImplementation {
    func backup(
        request: Statehouse_V2_BackupRequest, context: ServerContext
    ) async throws -> Statehouse_V2_BackupResponse {
        try self.access.authorizeEverywhere(.backup)
        let report = try await self.engine.backup(toDirectory: request.destination)
        await self.access.audit(
            action: "backup", namespace: nil,
            details: [("destination", request.destination), ("bytes", "\(report.bytes)")])
        var response = Statehouse_V2_BackupResponse()
        response.path = report.path
        response.bytes = UInt64(report.bytes)
        response.heads = report.heads.map(Wire.proto)
        return response
    }
}

// Retention and compaction.
extension ServiceImplementation {
    func setRetention(
        request: Statehouse_V2_SetRetentionRequest, context: ServerContext
    ) async throws -> Statehouse_V2_RetentionPolicy {
        try self.authorize(.retention, request.namespace)
        return Wire.proto(
            try await self.engine.setRetention(
                namespace: Wire.namespace(request.namespace), policy: try Wire.retentionPolicy(request),
                metadata: Wire.metadata(request.metadata)))
    }

    func getRetention(
        request: Statehouse_V2_GetRetentionRequest, context: ServerContext
    ) async throws -> Statehouse_V2_RetentionPolicy {
        try self.authorize(.readState, request.namespace)
        return Wire.proto(try await self.engine.retention(namespace: Wire.namespace(request.namespace)))
    }

    func compact(
        request: Statehouse_V2_CompactRequest, context: ServerContext
    ) async throws -> Statehouse_V2_CompactResponse {
        try self.authorize(.retention, request.namespace)
        let namespace = Wire.namespace(request.namespace)
        let report = try await self.engine.compact(namespace: namespace, vacuum: request.vacuum)
        self.access.quotas.recountStoredBytes(namespace: namespace)
        await self.access.audit(action: "compact", namespace: namespace, details: [("vacuum", "\(request.vacuum)")])
        return Wire.proto(report)
    }
}

// Import of an exported log.
extension ServiceImplementation {
    /// `ImportLog` registered again over the generated one (as `Replay` and `Watch` are, ``registerEventStreams``):
    /// its events are read straight into the model (``StatehouseWire/ImportLogMessageDeserializer``).
    func registerImportLog<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Statehouse_V2_StatehouseService.Method.ImportLog.descriptor,
            deserializer: ImportLogMessageDeserializer(),
            serializer: ProtobufSerializer<Statehouse_V2_ImportLogResponse>()
        ) { request, context in
            StreamingServerResponse(
                single: ServerResponse(message: try await self.importLog(messages: request.messages)))
        }
    }

    /// The generated protocol's `ImportLog` (what ``registerImportLog(with:)`` replaces), through the generated
    /// messages.
    func importLog(
        request: RPCAsyncSequence<Statehouse_V2_ImportLogRequest, any Error>, context: ServerContext
    ) async throws -> Statehouse_V2_ImportLogResponse {
        try await self.importLog(
            messages: request.map {
                ImportLogMessage(
                    namespace: $0.namespace, sourceNamespace: $0.sourceNamespace, events: $0.events.map(Wire.event))
            })
    }

    func importLog<Messages: AsyncSequence>(
        messages: Messages
    ) async throws -> Statehouse_V2_ImportLogResponse where Messages.Element == ImportLogMessage {
        var importer: LogImport?
        for try await message in messages {
            if importer == nil {
                guard !message.sourceNamespace.isEmpty else {
                    throw StatehouseError.invalidArgument("the first import message names the source namespace")
                }
                try self.authorize(.importLog, message.namespace)
                importer = try await self.engine.beginImport(
                    into: Wire.namespace(message.namespace), from: message.sourceNamespace)
            }
            if !message.events.isEmpty { try await importer!.append(message.events) }
        }
        guard let importer else { throw StatehouseError.invalidArgument("the import sent no message") }
        var response = Statehouse_V2_ImportLogResponse()
        let head = try await importer.finish()
        response.head = Wire.proto(head)
        response.events = UInt64(importer.imported)
        await self.access.audit(
            action: "import", namespace: head.namespace, details: [("events", "\(importer.imported)")])
        return response
    }
}
