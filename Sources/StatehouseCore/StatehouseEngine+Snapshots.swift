extension StatehouseEngine {
    /// Names a point of an agent's (or the namespace's) state: records its commit_ts under a name, copying nothing.
    ///
    /// - Parameters:
    ///   - agentID: the agent whose state it names; `nil` for the whole namespace.
    ///   - at: the point (the latest state by default; a commit_ts or a time names an earlier one).
    ///   - expiresAt: when it stops being listed and is swept (µs since the epoch); `nil` for never.
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a name in use by a snapshot that has not
    ///   expired, a bad name, an expiry in the past or a point beyond the log.
    public func createSnapshot(
        namespace: String = "default", name: String, agentID: String?, description: String = "",
        metadata: JSONValue? = nil, expiresAt: Microseconds? = nil, at point: StatePoint = .latest
    ) async throws -> SnapshotRecord {
        try self.validateSnapshotName(namespace: namespace, name: name)
        if let agentID { try self.validateAgent(namespace: namespace, agentID: agentID) }
        try NameValidation.validateText(
            description, field: "description", maxBytes: self.limits.maxMetadataStringBytes, allowEmpty: true)
        let now = self.clock.wallMicroseconds()
        if let expiresAt, expiresAt <= now {
            throw StatehouseError.invalidArgument("expires_at \(expiresAt) is not in the future (now is \(now))")
        }
        if case .snapshot = point {
            throw StatehouseError.invalidArgument("a snapshot cannot be taken at another snapshot")
        }
        let head = try await self.backend.head(namespace: namespace)
        let commitTS = try await self.resolve(point, namespace: namespace, head: head.commitTS)
        let stored = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.snapshotsAgent, key: name, at: .latest)
        if let value = stored.value {
            let existing = try LifecycleRecordCodec.snapshot(value, namespace: namespace, name: name)
            guard existing.isExpired(at: now) else {
                throw StatehouseError.invalidArgument(
                    "snapshot '\(name)' already exists in namespace '\(namespace)' (commit_ts \(existing.commitTS)); "
                        + "delete it first or choose another name")
            }
        }
        let snapshot = SnapshotRecord(
            namespace: namespace, name: name, agentID: agentID, commitTS: commitTS, description: description,
            metadata: metadata, createdAt: now, expiresAt: expiresAt)
        try await self.commitRecord(
            namespace: namespace, agent: ReservedNames.snapshotsAgent, key: name,
            value: LifecycleRecordCodec.value(snapshot), readVersion: stored.version,
            reason: "create snapshot '\(name.prefix(64))' at commit_ts \(commitTS)")
        return snapshot
    }

    /// A snapshot by name.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` for a name with no snapshot, or an expired one.
    public func getSnapshot(namespace: String = "default", name: String) async throws -> SnapshotRecord {
        try self.validateSnapshotName(namespace: namespace, name: name)
        let stored = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.snapshotsAgent, key: name, at: .latest)
        guard let value = stored.value else {
            throw StatehouseError.notFound("no snapshot named '\(name.prefix(64))' in namespace '\(namespace)'")
        }
        let snapshot = try LifecycleRecordCodec.snapshot(value, namespace: namespace, name: name)
        guard !snapshot.isExpired(at: self.clock.wallMicroseconds()) else {
            throw StatehouseError.notFound(
                "snapshot '\(name.prefix(64))' in namespace '\(namespace)' expired at \(snapshot.expiresAt ?? 0)")
        }
        return snapshot
    }

    /// Snapshots sorted by name, expired ones left out; only those of one agent when `agentID` is given.
    public func listSnapshots(
        namespace: String = "default", agentID: String? = nil, limit: Int = 1000, cursor: String? = nil
    ) async throws -> Page<SnapshotRecord> {
        if let agentID { try NameValidation.validateAgentID(agentID, limits: self.limits) }
        let now = self.clock.wallMicroseconds()
        return try await self.recordPage(
            namespace: namespace, agent: ReservedNames.snapshotsAgent, query: [namespace, agentID ?? ""], limit: limit,
            cursor: cursor
        ) { record in
            guard let value = record.value else { return nil }
            let snapshot = try LifecycleRecordCodec.snapshot(value, namespace: namespace, name: record.key)
            return !snapshot.isExpired(at: now) && (agentID == nil || snapshot.agentID == agentID) ? snapshot : nil
        }
    }

    /// Deletes a snapshot (a tombstone on its record: the log keeps that it existed).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` for a name with no snapshot.
    @discardableResult
    public func deleteSnapshot(namespace: String = "default", name: String) async throws -> CommitResult {
        try self.validateSnapshotName(namespace: namespace, name: name)
        let stored = try await self.backend.get(
            namespace: namespace, agentID: ReservedNames.snapshotsAgent, key: name, at: .latest)
        guard stored.exists else {
            throw StatehouseError.notFound("no snapshot named '\(name.prefix(64))' in namespace '\(namespace)'")
        }
        return try await self.commitRecord(
            namespace: namespace, agent: ReservedNames.snapshotsAgent, key: name, value: nil,
            readVersion: stored.version, reason: "delete snapshot '\(name.prefix(64))'")
    }

    /// Deletes every expired snapshot of every namespace, one commit per namespace that has any; returns how many.
    @discardableResult
    public func sweepExpiredSnapshots() async throws -> Int {
        let now = self.clock.wallMicroseconds()
        var swept = 0
        try await self.forEachNamespace { namespace in
            let expired = try await self.snapshotRecords(namespace: namespace).filter { $0.isExpired(at: now) }
            guard !expired.isEmpty else { return }
            _ = try await self.systemCommit(
                namespace: namespace,
                operations: expired.map { .delete(agentID: ReservedNames.snapshotsAgent, key: $0.name) },
                metadata: CommitMetadata(reason: "sweep \(expired.count) expired snapshot(s)"))
            swept += expired.count
        }
        return swept
    }

    /// Every snapshot record of a namespace, expired ones included, in name order.
    func snapshotRecords(namespace: String) async throws -> [SnapshotRecord] {
        var snapshots: [SnapshotRecord] = []
        var after: String?
        while true {
            let batch = try await self.backend.scan(
                namespace: namespace, agentID: ReservedNames.snapshotsAgent, prefix: "", after: after, atCommit: nil,
                limit: self.limits.maxPageSize)
            for record in batch {
                guard let value = record.value else { continue }
                snapshots.append(try LifecycleRecordCodec.snapshot(value, namespace: namespace, name: record.key))
            }
            guard batch.count == self.limits.maxPageSize, let last = batch.last else { return snapshots }
            after = last.key
        }
    }

    /// Calls `body` with each namespace that has commits, in name order.
    func forEachNamespace(_ body: (String) async throws -> Void) async throws {
        var cursor: String?
        repeat {
            let namespaces = try await self.listNamespaces(limit: 1000, cursor: cursor)
            for head in namespaces.items { try await body(head.namespace) }
            cursor = namespaces.nextCursor
        } while cursor != nil
    }

    /// The commit_ts a point resolves to in a namespace whose head is `head`.
    func resolve(_ point: StatePoint, namespace: String, head: CommitTS) async throws -> CommitTS {
        switch point {
        case .latest:
            return head
        case .commit(let commitTS):
            guard commitTS <= head else {
                throw StatehouseError.invalidArgument(
                    "commit_ts \(commitTS) is beyond the log of namespace '\(namespace)' (head \(head))")
            }
            return commitTS
        case .time(let time):
            return try await self.backend.commitTS(namespace: namespace, atOrBefore: time)
        case .snapshot(let name):
            return try await self.getSnapshot(namespace: namespace, name: name).commitTS
        }
    }

    func validateSnapshotName(namespace: String, name: String) throws {
        try self.validateNamespace(namespace)
        try NameValidation.validateText(name, field: "snapshot name", maxBytes: 256, allowEmpty: false)
    }
}
