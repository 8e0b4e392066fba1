package import Foundation
package import StatehouseModel
package import StatehouseProto

// Agents, snapshots, restores, forks and diffs in both directions (the server encodes, the client decodes).
extension Wire {
    // MARK: Model → proto

    package static func proto(_ agent: AgentRecord) -> Statehouse_V2_AgentRecord {
        var proto = Statehouse_V2_AgentRecord()
        proto.agentID = agent.agentID
        if let name = agent.displayName { proto.displayName = name }
        proto.status = agent.status
        if let metadata = agent.metadata { proto.metadata = Data(metadata.utf8) }
        proto.createdAtMicros = agent.createdAt
        proto.updatedAtMicros = agent.updatedAt
        proto.keyCount = UInt64(agent.keyCount)
        proto.versionCount = UInt64(agent.versionCount)
        proto.deleted = agent.deleted
        return proto
    }

    package static func proto(_ snapshot: SnapshotRecord) -> Statehouse_V2_Snapshot {
        var proto = Statehouse_V2_Snapshot()
        proto.namespace = snapshot.namespace
        proto.name = snapshot.name
        proto.agentID = snapshot.agentID ?? ""
        proto.commitTs = snapshot.commitTS
        proto.description_p = snapshot.description
        if let metadata = snapshot.metadata { proto.metadata = Data(metadata.utf8) }
        proto.createdAtMicros = snapshot.createdAt
        proto.expiresAtMicros = snapshot.expiresAt ?? 0
        return proto
    }

    package static func proto(_ copy: StateCopyResult) -> Statehouse_V2_StateCopyResponse {
        var proto = Statehouse_V2_StateCopyResponse()
        proto.result = self.proto(copy.commit).result
        proto.puts = UInt64(copy.puts)
        proto.deletes = UInt64(copy.deletes)
        proto.sourceCommitTs = copy.sourceCommitTS
        return proto
    }

    package static func proto(_ diff: StateDiff) -> Statehouse_V2_DiffResponse {
        var proto = Statehouse_V2_DiffResponse()
        proto.namespace = diff.namespace
        proto.agentID = diff.agentID
        proto.fromCommitTs = diff.fromCommitTS
        proto.toCommitTs = diff.toCommitTS
        proto.differences = diff.differences.map { difference in
            var entry = Statehouse_V2_KeyDifference()
            entry.key = difference.key
            entry.change = difference.change.rawValue
            if let before = difference.before { entry.before = self.proto(before) }
            if let after = difference.after { entry.after = self.proto(after) }
            if let patch = difference.patch { entry.patch = Data(patch.utf8) }
            return entry
        }
        return proto
    }

    package static func proto(_ point: StatePoint) -> Statehouse_V2_StatePoint? {
        var proto = Statehouse_V2_StatePoint()
        switch point {
        case .latest: return nil
        case .commit(let commitTS): proto.commitTs = commitTS
        case .time(let time): proto.asOfMicros = time
        case .snapshot(let name): proto.snapshot = name
        }
        return proto
    }

    // MARK: Proto → model (requests are validated by the engine; JSON by `value(_:limits:)`)

    /// No point set means the latest state.
    package static func statePoint(_ proto: Statehouse_V2_StatePoint?) -> StatePoint {
        switch proto?.point {
        case .commitTs(let commitTS): .commit(commitTS)
        case .asOfMicros(let time): .time(time)
        case .snapshot(let name): .snapshot(name)
        case nil: .latest
        }
    }

    /// Optional JSON metadata: empty bytes mean none.
    package static func optionalValue(_ data: Data, limits: EngineLimits) throws -> JSONValue? {
        data.isEmpty ? nil : try self.value(data, limits: limits)
    }

    package static func agentRecord(_ proto: Statehouse_V2_AgentRecord) -> AgentRecord {
        AgentRecord(
            agentID: proto.agentID, displayName: proto.hasDisplayName ? proto.displayName : nil, status: proto.status,
            metadata: self.storedValue(proto.metadata), createdAt: proto.createdAtMicros,
            updatedAt: proto.updatedAtMicros, keyCount: Int(proto.keyCount), versionCount: Int(proto.versionCount),
            deleted: proto.deleted)
    }

    package static func snapshot(_ proto: Statehouse_V2_Snapshot) -> SnapshotRecord {
        SnapshotRecord(
            namespace: proto.namespace, name: proto.name, agentID: proto.agentID.isEmpty ? nil : proto.agentID,
            commitTS: proto.commitTs, description: proto.description_p, metadata: self.storedValue(proto.metadata),
            createdAt: proto.createdAtMicros, expiresAt: proto.expiresAtMicros == 0 ? nil : proto.expiresAtMicros)
    }

    package static func stateCopy(_ proto: Statehouse_V2_StateCopyResponse) -> StateCopyResult {
        var response = Statehouse_V2_CommitResponse()
        response.result = proto.result
        return StateCopyResult(
            commit: self.result(response), puts: Int(proto.puts), deletes: Int(proto.deletes),
            sourceCommitTS: proto.sourceCommitTs)
    }

    package static func diff(_ proto: Statehouse_V2_DiffResponse) -> StateDiff {
        StateDiff(
            namespace: proto.namespace, agentID: proto.agentID, fromCommitTS: proto.fromCommitTs,
            toCommitTS: proto.toCommitTs,
            differences: proto.differences.map { entry in
                KeyDifference(
                    agentID: proto.agentID, key: entry.key,
                    change: KeyDifference.Change(rawValue: entry.change) ?? .changed,
                    before: entry.hasBefore ? self.record(entry.before) : nil,
                    after: entry.hasAfter ? self.record(entry.after) : nil, patch: self.storedValue(entry.patch))
            })
    }
}

// Agent events in both directions.
extension Wire {
    package static func proto(_ event: AgentEvent) -> Statehouse_V2_AgentEvent {
        var proto = Statehouse_V2_AgentEvent()
        proto.id = event.id
        proto.agentID = event.agentID
        proto.type = event.type
        if let session = event.sessionID { proto.sessionID = session }
        if let actor = event.actor { proto.actor = actor }
        proto.content = Data(event.content.utf8)
        if let metadata = event.metadata { proto.metadata = Data(metadata.utf8) }
        proto.occurredAtMicros = event.occurredAt
        proto.commitTs = event.commitTS
        proto.committedAtMicros = event.committedAt
        return proto
    }

    package static func proto(_ draft: AgentEventDraft) -> Statehouse_V2_AgentEventDraft {
        var proto = Statehouse_V2_AgentEventDraft()
        proto.id = draft.id ?? ""
        proto.agentID = draft.agentID
        proto.type = draft.type
        if let session = draft.sessionID { proto.sessionID = session }
        if let actor = draft.actor { proto.actor = actor }
        proto.content = Data(draft.content.utf8)
        if let metadata = draft.metadata { proto.metadata = Data(metadata.utf8) }
        if let occurredAt = draft.occurredAt { proto.occurredAtMicros = occurredAt }
        return proto
    }

    package static func proto(_ filter: AgentEventFilter) -> Statehouse_V2_AgentEventFilter {
        var proto = Statehouse_V2_AgentEventFilter()
        proto.agentID = filter.agentID ?? ""
        proto.sessionID = filter.sessionID ?? ""
        proto.type = filter.type ?? ""
        proto.actor = filter.actor ?? ""
        if let since = filter.since { proto.sinceMicros = since }
        if let until = filter.until { proto.untilMicros = until }
        return proto
    }

    /// A request's event: content and metadata are validated JSON within the value limits.
    package static func eventDraft(
        _ proto: Statehouse_V2_AgentEventDraft, limits: EngineLimits
    ) throws -> AgentEventDraft {
        guard !proto.content.isEmpty else {
            throw StatehouseError.invalidArgument("an event needs content (a JSON text)")
        }
        return AgentEventDraft(
            agentID: proto.agentID, type: proto.type, content: try self.value(proto.content, limits: limits),
            sessionID: proto.hasSessionID ? proto.sessionID : nil, actor: proto.hasActor ? proto.actor : nil,
            metadata: try self.optionalValue(proto.metadata, limits: limits),
            occurredAt: proto.hasOccurredAtMicros ? proto.occurredAtMicros : nil, id: proto.id.isEmpty ? nil : proto.id)
    }

    package static func eventFilter(_ proto: Statehouse_V2_AgentEventFilter?) -> AgentEventFilter {
        guard let proto else { return AgentEventFilter() }
        return AgentEventFilter(
            agentID: proto.agentID.isEmpty ? nil : proto.agentID,
            sessionID: proto.sessionID.isEmpty ? nil : proto.sessionID, type: proto.type.isEmpty ? nil : proto.type,
            actor: proto.actor.isEmpty ? nil : proto.actor, since: proto.hasSinceMicros ? proto.sinceMicros : nil,
            until: proto.hasUntilMicros ? proto.untilMicros : nil)
    }

    package static func agentEvent(_ proto: Statehouse_V2_AgentEvent) -> AgentEvent {
        AgentEvent(
            id: proto.id, agentID: proto.agentID, type: proto.type,
            sessionID: proto.hasSessionID ? proto.sessionID : nil,
            actor: proto.hasActor ? proto.actor : nil, content: JSONValue(trusted: [UInt8](proto.content)),
            metadata: self.storedValue(proto.metadata), occurredAt: proto.occurredAtMicros, commitTS: proto.commitTs,
            committedAt: proto.committedAtMicros)
    }
}

// Sessions and tasks.
extension Wire {
    package static func proto(_ session: AgentSession) -> Statehouse_V2_AgentSession {
        var proto = Statehouse_V2_AgentSession()
        proto.id = session.id
        proto.agentID = session.agentID
        proto.status = session.status
        if let metadata = session.metadata { proto.metadata = Data(metadata.utf8) }
        proto.startedAtMicros = session.startedAt
        proto.endedAtMicros = session.endedAt ?? 0
        return proto
    }

    package static func proto(_ task: AgentTask) -> Statehouse_V2_AgentTask {
        var proto = Statehouse_V2_AgentTask()
        proto.id = task.id
        proto.title = task.title
        proto.description_p = task.description
        proto.status = task.status
        if let assignee = task.assignedTo { proto.assignedTo = assignee }
        if let metadata = task.metadata { proto.metadata = Data(metadata.utf8) }
        proto.createdAtMicros = task.createdAt
        proto.updatedAtMicros = task.updatedAt
        return proto
    }

    package static func session(_ proto: Statehouse_V2_AgentSession) -> AgentSession {
        AgentSession(
            id: proto.id, agentID: proto.agentID, status: proto.status, metadata: self.storedValue(proto.metadata),
            startedAt: proto.startedAtMicros, endedAt: proto.endedAtMicros == 0 ? nil : proto.endedAtMicros)
    }

    package static func task(_ proto: Statehouse_V2_AgentTask) -> AgentTask {
        AgentTask(
            id: proto.id, title: proto.title, description: proto.description_p, status: proto.status,
            assignedTo: proto.hasAssignedTo ? proto.assignedTo : nil, metadata: self.storedValue(proto.metadata),
            createdAt: proto.createdAtMicros, updatedAt: proto.updatedAtMicros)
    }
}

// Search.
extension Wire {
    package static func searchQuery(_ proto: Statehouse_V2_SearchRequest) throws -> SearchQuery {
        let kinds = try proto.kinds.map { name -> SearchQuery.Kind in
            guard let kind = SearchQuery.Kind(rawValue: name) else {
                throw StatehouseError.invalidArgument("search kind must be state, event or commit; got '\(name)'")
            }
            return kind
        }
        return SearchQuery(
            proto.query, kinds: Set(kinds), agentID: proto.agentID.isEmpty ? nil : proto.agentID,
            keyPrefix: proto.keyPrefix.isEmpty ? nil : proto.keyPrefix, type: proto.type.isEmpty ? nil : proto.type,
            sessionID: proto.sessionID.isEmpty ? nil : proto.sessionID, actor: proto.actor.isEmpty ? nil : proto.actor,
            since: proto.hasSinceMicros ? proto.sinceMicros : nil,
            until: proto.hasUntilMicros ? proto.untilMicros : nil,
            history: proto.history)
    }

    package static func proto(_ query: SearchQuery) -> Statehouse_V2_SearchRequest {
        var proto = Statehouse_V2_SearchRequest()
        proto.query = query.text
        proto.kinds = query.kinds.map(\.rawValue).sorted()
        proto.agentID = query.agentID ?? ""
        proto.keyPrefix = query.keyPrefix ?? ""
        proto.type = query.type ?? ""
        proto.sessionID = query.sessionID ?? ""
        proto.actor = query.actor ?? ""
        if let since = query.since { proto.sinceMicros = since }
        if let until = query.until { proto.untilMicros = until }
        proto.history = query.history
        return proto
    }

    package static func proto(_ hit: SearchHit) -> Statehouse_V2_SearchHit {
        var proto = Statehouse_V2_SearchHit()
        proto.kind = hit.kind.rawValue
        proto.score = hit.score
        proto.snippet = hit.snippet
        proto.commitTs = hit.commitTS
        proto.committedAtMicros = hit.committedAt
        proto.agentID = hit.agentID ?? ""
        proto.key = hit.key ?? ""
        proto.version = hit.version ?? 0
        proto.eventID = hit.eventID ?? ""
        proto.type = hit.type ?? ""
        proto.sessionID = hit.sessionID ?? ""
        proto.actor = hit.actor ?? ""
        return proto
    }

    package static func searchHit(_ proto: Statehouse_V2_SearchHit) -> SearchHit {
        func optional(_ text: String) -> String? { text.isEmpty ? nil : text }
        return SearchHit(
            kind: SearchQuery.Kind(rawValue: proto.kind) ?? .state, score: proto.score, snippet: proto.snippet,
            commitTS: proto.commitTs, committedAt: proto.committedAtMicros, agentID: optional(proto.agentID),
            key: optional(proto.key), version: proto.version == 0 ? nil : proto.version,
            eventID: optional(proto.eventID), type: optional(proto.type), sessionID: optional(proto.sessionID),
            actor: optional(proto.actor))
    }
}
