extension StatehouseEngine {
    /// Records agent events in one commit and returns them with their ids and commit.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a bad draft (nothing is recorded);
    ///   ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` for an id already recorded.
    public func recordEvents(
        namespace: String = "default", _ drafts: [AgentEventDraft], metadata: CommitMetadata = CommitMetadata()
    ) async throws -> [AgentEvent] {
        guard !drafts.isEmpty else { throw StatehouseError.invalidArgument("record at least one event") }
        let now = self.clock.wallMicroseconds()
        let drafts = drafts.map { draft in
            var draft = draft
            if draft.id == nil { draft.id = TransactionID.make(wallMicroseconds: now) }
            if draft.occurredAt == nil { draft.occurredAt = now }
            return draft
        }
        let result = try await self.commit(
            AtomicCommit(namespace: namespace, operations: [], metadata: metadata, events: drafts))
        return drafts.map { draft in
            AgentEvent(
                id: draft.id!, agentID: draft.agentID, type: draft.type, sessionID: draft.sessionID,
                actor: draft.actor, content: draft.content, metadata: draft.metadata, occurredAt: draft.occurredAt!,
                commitTS: result.commitTS, committedAt: result.committedAt)
        }
    }

    /// Recorded events in the order they were recorded, narrowed by `filter`.
    public func events(
        namespace: String = "default", filter: AgentEventFilter = AgentEventFilter(), limit: Int = 1000,
        cursor: String? = nil
    ) async throws -> Page<AgentEvent> {
        try self.validateNamespace(namespace)
        let limit = try self.validatePageSize(limit)
        for (field, text) in [
            ("agent_id", filter.agentID), ("session_id", filter.sessionID), ("type", filter.type),
            ("actor", filter.actor),
        ] {
            if let text { try NameValidation.validateText(text, field: field, maxBytes: 1024, allowEmpty: false) }
        }
        let query = [
            namespace, filter.agentID ?? "", filter.sessionID ?? "", filter.type ?? "", filter.actor ?? "",
            filter.since.map { "\($0)" } ?? "", filter.until.map { "\($0)" } ?? "",
        ]
        let after = try cursor.map { try PageCursor.decodeNumber($0, kind: .log, query: query) }
        let rows = try await self.backend.agentEvents(
            namespace: namespace, filter: filter, after: after.map { Int64(bitPattern: $0) }, limit: limit + 1)
        let events = try rows.map { try AgentEventCodec.event($0.record) }
        let page = self.page(Array(zip(rows.map(\.sequence), events)), limit: limit) {
            PageCursor.encodeNumber(kind: .log, query: query, position: UInt64(bitPattern: $0.0))
        }
        return Page(items: page.items.map(\.1), nextCursor: page.nextCursor)
    }

    /// One recorded event by id.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` when no event has that id.
    public func event(namespace: String = "default", id: String) async throws -> AgentEvent {
        try self.validateNamespace(namespace)
        try NameValidation.validateKey(id, limits: self.limits)
        let record = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.eventsAgent, key: id, at: .latest)
        guard record.exists else {
            throw StatehouseError.notFound("no event '\(id.prefix(64))' in namespace '\(namespace)'")
        }
        return try AgentEventCodec.event(record)
    }

    /// The writes that record `drafts`: a put under `@events` per event, each on condition that its id is new.
    func eventWrites(_ drafts: [AgentEventDraft]) throws -> [(WriteOperation, KeyCondition)] {
        let now = self.clock.wallMicroseconds()
        return try drafts.map { draft in
            try NameValidation.validateAgentID(draft.agentID, limits: self.limits)
            guard !ReservedNames.isReserved(draft.agentID) else {
                throw StatehouseError.invalidArgument("agent_id '\(draft.agentID.prefix(64))' is reserved")
            }
            try NameValidation.validateText(draft.type, field: "event type", maxBytes: 256, allowEmpty: false)
            if let session = draft.sessionID {
                try NameValidation.validateText(session, field: "session_id", maxBytes: 256, allowEmpty: false)
            }
            if let actor = draft.actor {
                try NameValidation.validateText(actor, field: "actor", maxBytes: 256, allowEmpty: false)
            }
            let id = draft.id ?? TransactionID.make(wallMicroseconds: now)
            guard TransactionID.isWellFormed(id) else {
                throw StatehouseError.invalidArgument(
                    "event id '\(id.prefix(64))' is not a lowercase version 7 UUID (leave it out to get one)")
            }
            let value = AgentEventCodec.value(draft, id: id, occurredAt: draft.occurredAt ?? now)
            guard value.utf8.count <= self.limits.maxValueBytes else {
                throw StatehouseError.invalidArgument(
                    "event '\(id)' is \(value.utf8.count) bytes with its fields; the limit is "
                        + "\(self.limits.maxValueBytes) bytes")
            }
            return (
                .put(agentID: ReservedNames.eventsAgent, key: id, value: value),
                KeyCondition(agentID: ReservedNames.eventsAgent, key: id, requirement: .expected(.absent))
            )
        }
    }
}
