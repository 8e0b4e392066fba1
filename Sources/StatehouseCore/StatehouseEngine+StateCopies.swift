extension StatehouseEngine {
    /// Makes the current state of a snapshot's agent (or of the whole namespace) equal to the snapshot's, in one new
    /// commit: puts for keys changed or removed since, deletes for keys created since. History is kept; the commit's
    /// metadata names the snapshot. When nothing differs no event is written and the result is the current head.
    ///
    /// A namespace snapshot restores every agent and the agents' records, never the snapshots themselves.
    ///
    /// - Parameter force: write even if the agent (or namespace) changes while the restore runs; without it such a
    ///   change fails the restore with a conflict and nothing is written.
    public func restoreSnapshot(
        namespace: String = "default", name: String, force: Bool = false,
        metadata commitMetadata: CommitMetadata = CommitMetadata()
    ) async throws -> StateCopyResult {
        let snapshot = try await self.getSnapshot(namespace: namespace, name: name)
        let head = try await self.backend.head(namespace: namespace).commitTS
        var agents: [String]
        if let agentID = snapshot.agentID {
            agents = [agentID]
        } else {
            agents = []
            var cursor: String?
            repeat {
                let page = try await self.listAgents(
                    namespace: namespace, limit: self.limits.maxPageSize, cursor: cursor, includeReserved: true)
                agents += page.items.filter { $0 != ReservedNames.snapshotsAgent }
                cursor = page.nextCursor
            } while cursor != nil
        }
        var operations: [WriteOperation] = []
        for agentID in agents {
            // The two states are read on two reader threads at once.
            async let current = self.agentState(namespace: namespace, agentID: agentID, at: head)
            async let wanted = self.agentState(namespace: namespace, agentID: agentID, at: snapshot.commitTS)
            operations += Self.operations(
                making: try await current, equalTo: try await wanted, agentID: agentID, deleteOthers: true)
        }
        var metadata = commitMetadata
        if metadata.reason == nil {
            metadata.reason = "restore snapshot '\(name.prefix(64))' (commit_ts \(snapshot.commitTS))"
        }
        metadata.tags["statehouse.restore.snapshot"] = name
        metadata.tags["statehouse.restore.commit_ts"] = "\(snapshot.commitTS)"
        let scope = force ? [] : [ScopeCondition(agentID: snapshot.agentID, unchangedSince: head)]
        let result = try await self.systemCommit(
            namespace: namespace, operations: operations, scopeConditions: scope, metadata: metadata)
        return Self.copyResult(result, operations: operations, source: snapshot.commitTS)
    }

    /// Copies an agent's state at a point into another agent (in the same or another namespace), in one commit whose
    /// metadata names the source.
    ///
    /// - Parameter overwrite: replace the target's state (its other keys are deleted); without it the target must
    ///   have no live key.
    public func fork(
        namespace: String = "default", agentID: String, at point: StatePoint = .latest, targetNamespace: String? = nil,
        targetAgentID: String, overwrite: Bool = false, metadata commitMetadata: CommitMetadata = CommitMetadata()
    ) async throws -> StateCopyResult {
        let targetNamespace = targetNamespace ?? namespace
        try self.validateAgent(namespace: namespace, agentID: agentID)
        try self.validateAgent(namespace: targetNamespace, agentID: targetAgentID)
        guard namespace != targetNamespace || agentID != targetAgentID else {
            throw StatehouseError.invalidArgument("an agent cannot be forked into itself")
        }
        let sourceHead = try await self.backend.head(namespace: namespace).commitTS
        let source = try await self.resolve(point, namespace: namespace, head: sourceHead)
        let state = try await self.agentState(namespace: namespace, agentID: agentID, at: source)
        let targetHead = try await self.backend.head(namespace: targetNamespace).commitTS
        let target = try await self.agentState(namespace: targetNamespace, agentID: targetAgentID, at: targetHead)
        guard overwrite || target.isEmpty else {
            throw StatehouseError.invalidArgument(
                "target agent '\(targetAgentID.prefix(64))' in namespace '\(targetNamespace)' has \(target.count) "
                    + "keys; fork into an agent with none, or overwrite it")
        }
        let operations = Self.operations(making: target, equalTo: state, agentID: targetAgentID, deleteOthers: true)
        var metadata = commitMetadata
        if metadata.reason == nil {
            metadata.reason = "fork of agent '\(agentID.prefix(64))' in '\(namespace)' at commit_ts \(source)"
        }
        metadata.tags["statehouse.fork.namespace"] = namespace
        metadata.tags["statehouse.fork.agent_id"] = agentID
        metadata.tags["statehouse.fork.commit_ts"] = "\(source)"
        let result = try await self.systemCommit(
            namespace: targetNamespace, operations: operations,
            scopeConditions: [ScopeCondition(agentID: targetAgentID, unchangedSince: targetHead)], metadata: metadata)
        return Self.copyResult(result, operations: operations, source: source)
    }

    /// What changed in an agent's state between two points: keys added, removed and changed (with an RFC 6902 JSON
    /// Patch from the old value to the new), in key order.
    public func diff(
        namespace: String = "default", agentID: String, from: StatePoint, to: StatePoint = .latest
    ) async throws -> StateDiff {
        try self.validateNamespace(namespace)
        try NameValidation.validateAgentID(agentID, limits: self.limits)
        let head = try await self.backend.head(namespace: namespace).commitTS
        let fromTS = try await self.resolve(from, namespace: namespace, head: head)
        let toTS = try await self.resolve(to, namespace: namespace, head: head)
        let before = try await self.agentState(namespace: namespace, agentID: agentID, at: fromTS)
        let after = try await self.agentState(namespace: namespace, agentID: agentID, at: toTS)
        var differences: [KeyDifference] = []
        var (i, j) = (0, 0)
        while i < before.count || j < after.count {
            let old = i < before.count ? before[i] : nil
            let new = j < after.count ? after[j] : nil
            if let old, new == nil || old.key.utf8.lexicographicallyPrecedes(new!.key.utf8) {
                differences.append(
                    KeyDifference(agentID: agentID, key: old.key, change: .removed, before: old, after: nil, patch: nil)
                )
                i += 1
            } else if let new, old == nil || new.key.utf8.lexicographicallyPrecedes(old!.key.utf8) {
                differences.append(
                    KeyDifference(agentID: agentID, key: new.key, change: .added, before: nil, after: new, patch: nil))
                j += 1
            } else if let old, let new {
                if old.value != new.value, let oldValue = old.value, let newValue = new.value {
                    differences.append(
                        KeyDifference(
                            agentID: agentID, key: new.key, change: .changed, before: old, after: new,
                            patch: JSONPatch.diff(from: oldValue, to: newValue)))
                }
                i += 1
                j += 1
            }
        }
        return StateDiff(
            namespace: namespace, agentID: agentID, fromCommitTS: fromTS, toCommitTS: toTS, differences: differences)
    }

    /// The writes that turn `current` (live keys in key order) into `wanted`: puts where a value differs or is
    /// missing, and deletes of keys `wanted` lacks when `deleteOthers`.
    static func operations(
        making current: [StateRecord], equalTo wanted: [StateRecord], agentID: String, deleteOthers: Bool
    ) -> [WriteOperation] {
        var now: [String: JSONValue] = [:]
        now.reserveCapacity(current.count)
        for record in current { now[record.key] = record.value }
        var operations: [WriteOperation] = []
        for record in wanted {
            guard let value = record.value else { continue }
            if now.removeValue(forKey: record.key) != value {
                operations.append(.put(agentID: agentID, key: record.key, value: value))
            }
        }
        if deleteOthers {
            operations += current.filter { now[$0.key] != nil }.map { .delete(agentID: agentID, key: $0.key) }
        }
        return operations
    }

    static func copyResult(_ commit: CommitResult, operations: [WriteOperation], source: CommitTS) -> StateCopyResult {
        let deletes = operations.count { $0.kind == .delete }
        return StateCopyResult(
            commit: commit, puts: operations.count - deletes, deletes: deletes, sourceCommitTS: source)
    }
}
