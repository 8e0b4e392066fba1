extension StatehouseEngine {
    /// An agent's record: its name, status and metadata (from its record under ``StatehouseModel/ReservedNames``),
    /// and counts and times from its keys.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` when the agent has neither keys nor a record.
    public func getAgent(namespace: String = "default", agentID: String) async throws -> AgentRecord {
        try self.validateAgent(namespace: namespace, agentID: agentID)
        guard let agent = try await self.agentRecords(namespace: namespace, agentIDs: [agentID], counts: true).first
        else {
            throw StatehouseError.notFound(
                "agent '\(agentID.prefix(64))' has no keys and no record in namespace '\(namespace)'")
        }
        return agent
    }

    /// Agents with their records, sorted by id, filtered by status; deleted agents only when asked for.
    ///
    /// An agent is listed when it has written a key or has a record. Each record costs a count of the agent's
    /// versions (see ``StorageBackend/agentKeyStats(namespace:agentIDs:)``).
    public func listAgentRecords(
        namespace: String = "default", status: String? = nil, includeDeleted: Bool = false, limit: Int = 100,
        cursor: String? = nil
    ) async throws -> Page<AgentRecord> {
        try await self.agentListing(
            namespace: namespace, status: status, includeDeleted: includeDeleted, counts: true, limit: limit,
            cursor: cursor)
    }

    /// The listing behind ``listAgentRecords(namespace:status:includeDeleted:limit:cursor:)`` and
    /// ``listAgents(namespace:limit:cursor:includeReserved:)``; without `counts` only the agents whose record says
    /// deleted have their keys counted (to tell whether they still are).
    func agentListing(
        namespace: String, status: String?, includeDeleted: Bool, counts: Bool, limit: Int, cursor: String?
    ) async throws -> Page<AgentRecord> {
        try self.validateNamespace(namespace)
        let limit = try self.validatePageSize(limit)
        if let status {
            try NameValidation.validateText(
                status, field: "status", maxBytes: self.limits.maxMetadataStringBytes, allowEmpty: false)
        }
        let query = [namespace, status ?? "", includeDeleted ? "1" : "0", counts ? "records" : "ids"]
        var after = try cursor.map { try PageCursor.decodeString($0, kind: .agents, query: query) }
        var found: [AgentRecord] = []
        let batch = min(max(limit + 1, 100), self.limits.maxPageSize)
        while found.count <= limit {
            // Agents come from two sorted sources (keys and records); ids up to the smaller of the two sources' last
            // ids are complete whenever that source had more.
            let withKeys = try await self.backend.listAgents(
                namespace: namespace, after: after, limit: batch, includeReserved: false)
            let withRecords = try await self.backend.listKeys(
                namespace: namespace, agentID: ReservedNames.agentsAgent, prefix: "", after: after,
                includeDeleted: false, limit: batch
            ).map(\.key)
            var ids = Array(Set(withKeys).union(withRecords)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let bounds = [
                withKeys.count == batch ? withKeys.last : nil, withRecords.count == batch ? withRecords.last : nil,
            ]
            .compactMap { $0 }
            if let bound = bounds.min(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                ids = ids.filter { !bound.utf8.lexicographicallyPrecedes($0.utf8) }
            }
            guard let last = ids.last else { break }
            for record in try await self.agentRecords(namespace: namespace, agentIDs: ids, counts: counts)
            where (includeDeleted || !record.deleted) && (status == nil || record.status == status) {
                found.append(record)
            }
            after = last
            if bounds.isEmpty { break }
        }
        return self.page(found, limit: limit) {
            PageCursor.encodeString(kind: .agents, query: query, position: $0.agentID)
        }
    }

    /// Changes an agent's display name, status or metadata (fields left `nil` keep their value), creating its record
    /// if it has none. One commit to the agent's record, so the change is versioned and in the log.
    @discardableResult
    public func updateAgent(
        namespace: String = "default", agentID: String, _ update: AgentUpdate,
        metadata commitMetadata: CommitMetadata = CommitMetadata()
    ) async throws -> AgentRecord {
        try self.validateAgent(namespace: namespace, agentID: agentID)
        if let status = update.status {
            try NameValidation.validateText(
                status, field: "status", maxBytes: self.limits.maxMetadataStringBytes, allowEmpty: false)
        }
        if let name = update.displayName {
            try NameValidation.validateText(
                name, field: "display_name", maxBytes: self.limits.maxMetadataStringBytes, allowEmpty: true)
        }
        let stored = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.agentsAgent, key: agentID, at: .latest)
        var fields =
            try stored.value.map { try LifecycleRecordCodec.agentFields($0) } ?? LifecycleRecordCodec.AgentFields()
        if let name = update.displayName { fields.displayName = name }
        if let status = update.status { fields.status = status }
        if let metadata = update.metadata { fields.metadata = metadata }
        fields.deleted = false
        try await self.commitRecord(
            namespace: namespace, agent: ReservedNames.agentsAgent, key: agentID,
            value: LifecycleRecordCodec.value(fields),
            readVersion: stored.version, reason: "update agent '\(agentID.prefix(64))'", metadata: commitMetadata)
        return try await self.getAgent(namespace: namespace, agentID: agentID)
    }

    /// Sets an agent's status (StateStore's `update_agent_status`).
    @discardableResult
    public func updateAgentStatus(
        namespace: String = "default", agentID: String, status: String
    ) async throws
        -> AgentRecord
    {
        try await self.updateAgent(namespace: namespace, agentID: agentID, AgentUpdate(status: status))
    }

    /// Deletes an agent: one commit that tombstones every live key and marks its record deleted. History is kept
    /// (every version stays readable); the agent is no longer listed unless deleted agents are asked for.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` for an agent with neither keys nor a record;
    ///   ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` when the agent was written while
    ///   the delete read it (nothing is deleted then).
    @discardableResult
    public func deleteAgent(
        namespace: String = "default", agentID: String, metadata commitMetadata: CommitMetadata = CommitMetadata()
    ) async throws -> CommitResult {
        let agent = try await self.getAgent(namespace: namespace, agentID: agentID)
        let head = try await self.backend.head(namespace: namespace)
        let keys = try await self.agentState(namespace: namespace, agentID: agentID, at: head.commitTS)
        let stored = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.agentsAgent, key: agentID, at: .commit(head.commitTS))
        var fields =
            try stored.value.map { try LifecycleRecordCodec.agentFields($0) } ?? LifecycleRecordCodec.AgentFields()
        fields.deleted = true
        var reason = commitMetadata
        if reason.reason == nil { reason.reason = "delete agent '\(agentID.prefix(64))' (\(agent.keyCount) keys)" }
        return try await self.systemCommit(
            namespace: namespace,
            operations: keys.map { .delete(agentID: agentID, key: $0.key) }
                + [.put(agentID: ReservedNames.agentsAgent, key: agentID, value: LifecycleRecordCodec.value(fields))],
            conditions: [
                KeyCondition(
                    agentID: ReservedNames.agentsAgent, key: agentID, requirement: .unchangedSinceRead(stored.version))
            ],
            scopeConditions: [ScopeCondition(agentID: agentID, unchangedSince: head.commitTS)],
            metadata: reason)
    }

    /// The records of `agentIDs` (in order), leaving out agents with neither keys nor a record. Without `counts`, only
    /// agents whose record says deleted get their keys counted (the rest keep zero counts and the record's times), and
    /// every agent is taken to exist (the caller listed it).
    func agentRecords(namespace: String, agentIDs: [String], counts: Bool) async throws -> [AgentRecord] {
        guard !agentIDs.isEmpty else { return [] }
        let stored = try await self.backend.get(
            namespace: namespace, keys: agentIDs.map { KeyAddress(agentID: ReservedNames.agentsAgent, key: $0) },
            at: .latest)
        let fields = try stored.map {
            try $0.value.map { try LifecycleRecordCodec.agentFields($0) } ?? LifecycleRecordCodec.AgentFields()
        }
        let counted = counts ? agentIDs : agentIDs.indices.filter { fields[$0].deleted }.map { agentIDs[$0] }
        var stats: [String: AgentKeyStats] = [:]
        for entry in try await self.backend.agentKeyStats(namespace: namespace, agentIDs: counted) {
            stats[entry.agentID] = entry
        }
        var records: [AgentRecord] = []
        for (index, agentID) in agentIDs.enumerated() {
            let record = stored[index]
            let keys = stats[agentID]
            if counts, !record.exists, keys?.versions ?? 0 == 0 { continue }
            var createdAt =
                keys.map { $0.versions > 0 ? $0.firstCommittedAt : record.committedAt } ?? record.committedAt
            if counts, record.exists {
                let first = try await self.backend.get(
                    namespace: namespace, agentID: ReservedNames.agentsAgent, key: agentID, at: .version(1))
                if keys?.versions ?? 0 == 0 || first.committedAt < createdAt { createdAt = first.committedAt }
            }
            let liveKeys = keys?.liveKeys ?? 0
            records.append(
                AgentRecord(
                    agentID: agentID, displayName: fields[index].displayName, status: fields[index].status,
                    metadata: fields[index].metadata, createdAt: createdAt,
                    updatedAt: max(keys?.lastCommittedAt ?? 0, record.committedAt), keyCount: liveKeys,
                    versionCount: keys?.versions ?? 0, deleted: fields[index].deleted && liveKeys == 0))
        }
        return records
    }

    func validateAgent(namespace: String, agentID: String) throws {
        try self.validateNamespace(namespace)
        try NameValidation.validateAgentID(agentID, limits: self.limits)
        guard !ReservedNames.isReserved(agentID) else {
            throw StatehouseError.invalidArgument(
                "agent_id '\(agentID.prefix(64))' is reserved (agent ids starting with '@' hold Statehouse's records)")
        }
    }
}
