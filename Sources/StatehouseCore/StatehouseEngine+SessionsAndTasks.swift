extension StatehouseEngine {
    /// Starts a session of an agent (status `active`); one commit to `@sessions`.
    ///
    /// - Parameter id: the session's id; `nil` for a time-ordered UUID the daemon makes.
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for an id already used.
    public func startSession(
        namespace: String = "default", agentID: String, id: String? = nil, metadata: JSONValue? = nil
    ) async throws -> AgentSession {
        try self.validateAgent(namespace: namespace, agentID: agentID)
        let now = self.clock.wallMicroseconds()
        let id = id ?? TransactionID.make(wallMicroseconds: now)
        try self.validateRecordID(id, field: "session id")
        let session = AgentSession(
            id: id, agentID: agentID, status: "active", metadata: metadata, startedAt: now, endedAt: nil)
        try await self.createRecord(
            namespace: namespace, agent: ReservedNames.sessionsAgent, id: id, what: "session",
            value: LifecycleRecordCodec.value(session), reason: "start session '\(id.prefix(64))'")
        return session
    }

    /// Ends a session with a status (`ended` by default).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` for an unknown session;
    ///   ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for one already ended.
    public func endSession(
        namespace: String = "default", id: String, status: String = "ended"
    ) async throws
        -> AgentSession
    {
        try NameValidation.validateText(status, field: "status", maxBytes: 256, allowEmpty: false)
        let (stored, current) = try await self.readSession(namespace: namespace, id: id)
        guard current.endedAt == nil else {
            throw StatehouseError.invalidArgument(
                "session '\(id.prefix(64))' already ended (status \(current.status))")
        }
        var session = current
        session.status = status
        session.endedAt = self.clock.wallMicroseconds()
        try await self.commitRecord(
            namespace: namespace, agent: ReservedNames.sessionsAgent, key: stored.key,
            value: LifecycleRecordCodec.value(session), readVersion: stored.version,
            reason: "end session '\(id.prefix(64))' (\(status))")
        return session
    }

    public func getSession(namespace: String = "default", id: String) async throws -> AgentSession {
        try await self.readSession(namespace: namespace, id: id).session
    }

    /// Sessions in id order (time order for ids the daemon made), narrowed to one agent or one status.
    public func listSessions(
        namespace: String = "default", agentID: String? = nil, status: String? = nil, limit: Int = 1000,
        cursor: String? = nil
    ) async throws -> Page<AgentSession> {
        try await self.recordPage(
            namespace: namespace, agent: ReservedNames.sessionsAgent, query: [agentID ?? "", status ?? ""],
            limit: limit, cursor: cursor
        ) { record in
            guard let value = record.value else { return nil }
            let session = try LifecycleRecordCodec.session(value, id: record.key)
            return (agentID == nil || session.agentID == agentID) && (status == nil || session.status == status)
                ? session : nil
        }
    }

    /// Creates a task; one commit to `@tasks`.
    public func createTask(
        namespace: String = "default", title: String, description: String = "", status: String = "pending",
        assignedTo: String? = nil, metadata: JSONValue? = nil, id: String? = nil
    ) async throws -> AgentTask {
        try self.validateNamespace(namespace)
        let now = self.clock.wallMicroseconds()
        let id = id ?? TransactionID.make(wallMicroseconds: now)
        try self.validateRecordID(id, field: "task id")
        let task = AgentTask(
            id: id, title: title, description: description, status: status, assignedTo: assignedTo,
            metadata: metadata, createdAt: now, updatedAt: now)
        try self.validate(task)
        try await self.createRecord(
            namespace: namespace, agent: ReservedNames.tasksAgent, id: id, what: "task",
            value: LifecycleRecordCodec.value(task), reason: "create task '\(id.prefix(64))'")
        return task
    }

    /// Changes a task's fields (`nil` ones keep their value).
    public func updateTask(
        namespace: String = "default", id: String, _ update: AgentTaskUpdate
    ) async throws
        -> AgentTask
    {
        let (stored, current) = try await self.readTask(namespace: namespace, id: id)
        var task = current
        if let title = update.title { task.title = title }
        if let description = update.description { task.description = description }
        if let status = update.status { task.status = status }
        if let assignee = update.assignedTo { task.assignedTo = assignee }
        if let metadata = update.metadata { task.metadata = metadata }
        task.updatedAt = max(self.clock.wallMicroseconds(), current.updatedAt)
        try self.validate(task)
        try await self.commitRecord(
            namespace: namespace, agent: ReservedNames.tasksAgent, key: stored.key,
            value: LifecycleRecordCodec.value(task), readVersion: stored.version,
            reason: "update task '\(id.prefix(64))'")
        return task
    }

    public func getTask(namespace: String = "default", id: String) async throws -> AgentTask {
        try await self.readTask(namespace: namespace, id: id).task
    }

    /// Tasks in id order, narrowed to one status or one assignee.
    public func listTasks(
        namespace: String = "default", status: String? = nil, assignedTo: String? = nil, limit: Int = 1000,
        cursor: String? = nil
    ) async throws -> Page<AgentTask> {
        try await self.recordPage(
            namespace: namespace, agent: ReservedNames.tasksAgent, query: [status ?? "", assignedTo ?? ""],
            limit: limit, cursor: cursor
        ) { record in
            guard let value = record.value else { return nil }
            let task = try LifecycleRecordCodec.task(value, id: record.key)
            return (status == nil || task.status == status) && (assignedTo == nil || task.assignedTo == assignedTo)
                ? task : nil
        }
    }

    // MARK: Records

    private func readSession(namespace: String, id: String) async throws -> (stored: StateRecord, session: AgentSession)
    {
        let stored = try await self.readRecord(
            namespace: namespace, agent: ReservedNames.sessionsAgent, id: id, what: "session")
        return (stored, try LifecycleRecordCodec.session(stored.value!, id: id))
    }

    private func readTask(namespace: String, id: String) async throws -> (stored: StateRecord, task: AgentTask) {
        let stored = try await self.readRecord(
            namespace: namespace, agent: ReservedNames.tasksAgent, id: id, what: "task")
        return (stored, try LifecycleRecordCodec.task(stored.value!, id: id))
    }

    private func readRecord(namespace: String, agent: String, id: String, what: String) async throws -> StateRecord {
        try self.validateNamespace(namespace)
        try self.validateRecordID(id, field: "\(what) id")
        let stored = try await self.backend.get(namespace: namespace, agentID: agent, key: id, at: .latest)
        guard stored.exists else {
            throw StatehouseError.notFound("no \(what) '\(id.prefix(64))' in namespace '\(namespace)'")
        }
        return stored
    }

    /// Writes a new record, refusing an id in use (checked first for a clear error, and by the commit's condition).
    private func createRecord(
        namespace: String, agent: String, id: String, what: String, value: JSONValue, reason: String
    ) async throws {
        let existing = try await self.backend.get(namespace: namespace, agentID: agent, key: id, at: .latest)
        guard !existing.exists else {
            throw StatehouseError.invalidArgument(
                "\(what) '\(id.prefix(64))' already exists in namespace '\(namespace)'")
        }
        try await self.commitRecord(
            namespace: namespace, agent: agent, key: id, value: value, readVersion: existing.version, reason: reason)
    }

    private func validateRecordID(_ id: String, field: String) throws {
        try NameValidation.validateText(id, field: field, maxBytes: 256, allowEmpty: false)
    }

    private func validate(_ task: AgentTask) throws {
        let maxBytes = self.limits.maxMetadataStringBytes
        try NameValidation.validateText(task.title, field: "task title", maxBytes: maxBytes, allowEmpty: false)
        try NameValidation.validateText(task.status, field: "task status", maxBytes: 256, allowEmpty: false)
        if let assignee = task.assignedTo {
            try NameValidation.validateText(assignee, field: "assigned_to", maxBytes: 256, allowEmpty: false)
        }
        guard task.description.utf8.count <= self.limits.maxValueBytes / 2 else {
            throw StatehouseError.invalidArgument(
                "task description is \(task.description.utf8.count) bytes; the limit is \(self.limits.maxValueBytes / 2)"
            )
        }
    }
}
