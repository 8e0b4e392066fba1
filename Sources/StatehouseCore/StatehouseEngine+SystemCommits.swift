extension StatehouseEngine {
    /// Most keys one restore, fork or agent delete writes in its single commit. Above the per-transaction limit a
    /// client has (``StatehouseModel/EngineLimits/maxOperationsPerTransaction``): the commit is composed here from
    /// stored state, and splitting it would make it non-atomic.
    static let maxSystemOperations = 1_000_000

    /// Commits operations Statehouse composes itself (agent records, snapshots, restores, forks, agent deletes).
    ///
    /// Unlike ``commit(_:)`` it may write the reserved agents, and its size is bounded by ``maxSystemOperations``
    /// rather than the client limits; names and values are validated as for any commit.
    func systemCommit(
        namespace: String,
        operations: [WriteOperation],
        conditions: [KeyCondition] = [],
        scopeConditions: [ScopeCondition] = [],
        metadata: CommitMetadata
    ) async throws -> CommitResult {
        try self.validateNamespace(namespace)
        guard operations.count <= Self.maxSystemOperations else {
            throw StatehouseError.invalidArgument(
                "the commit would write \(operations.count) keys; the limit for one restore, fork or delete is "
                    + "\(Self.maxSystemOperations)")
        }
        for operation in operations {
            try NameValidation.validateAgentID(operation.agentID, limits: self.limits)
            try self.validateUnreserved(operation)
        }
        try self.validateClientMetadata(metadata)
        let request = CommitRequest(
            namespace: namespace,
            txnID: TransactionID.make(wallMicroseconds: self.clock.wallMicroseconds()),
            operations: operations,
            conditions: conditions,
            scopeConditions: scopeConditions,
            metadata: self.attributed(metadata),
            mayBeRetry: false
        )
        return try await self.admitted(request)
    }

    /// Writes one record under a reserved agent (a delete when `value` is `nil`), on condition that it is still at the
    /// version the caller read: a concurrent change to the same record is a conflict, never a lost update.
    @discardableResult
    func commitRecord(
        namespace: String, agent: String, key: String, value: JSONValue?, readVersion: Version, reason: String,
        metadata: CommitMetadata = CommitMetadata()
    ) async throws -> CommitResult {
        var metadata = metadata
        if metadata.reason == nil { metadata.reason = reason }
        return try await self.systemCommit(
            namespace: namespace,
            operations: [value.map { .put(agentID: agent, key: key, value: $0) } ?? .delete(agentID: agent, key: key)],
            conditions: [KeyCondition(agentID: agent, key: key, requirement: .unchangedSinceRead(readVersion))],
            metadata: metadata)
    }

    /// Every live key of an agent as of a commit_ts, in key order, read page by page (each page is a consistent
    /// point-in-time read, so the pages together are one state).
    func agentState(namespace: String, agentID: String, at commitTS: CommitTS) async throws -> [StateRecord] {
        var records: [StateRecord] = []
        var after: String?
        let pageSize = self.limits.maxPageSize
        while true {
            let page = try await self.backend.scan(
                namespace: namespace, agentID: agentID, prefix: "", after: after, atCommit: commitTS,
                limit: pageSize)
            records += page
            guard page.count == pageSize, let last = page.last else { return records }
            guard records.count <= Self.maxSystemOperations else {
                throw StatehouseError.resourceExhausted(
                    "agent '\(agentID.prefix(64))' has more than \(Self.maxSystemOperations) keys; it is too large "
                        + "to copy in one commit")
            }
            after = last.key
        }
    }
}

extension StatehouseEngine {
    /// A page of the records under a reserved agent, in key order, decoded and filtered (`decode` returns `nil` to
    /// leave one out); reads batches until the page is full or the records end.
    func recordPage<Record>(
        namespace: String, agent: String, query: [String], limit: Int, cursor: String?,
        decode: (StateRecord) throws -> Record?
    ) async throws -> Page<Record> {
        try self.validateNamespace(namespace)
        let limit = try self.validatePageSize(limit)
        var after = try cursor.map { try PageCursor.decodeString($0, kind: .scan, query: [agent] + query) }
        var found: [(key: String, record: Record)] = []
        while found.count <= limit {
            let batch = try await self.backend.scan(
                namespace: namespace, agentID: agent, prefix: "", after: after, atCommit: nil, limit: limit + 1)
            for stored in batch {
                if let record = try decode(stored) { found.append((stored.key, record)) }
            }
            guard batch.count == limit + 1, let last = batch.last else { break }
            after = last.key
        }
        let page = self.page(found, limit: limit) {
            PageCursor.encodeString(kind: .scan, query: [agent] + query, position: $0.key)
        }
        return Page(items: page.items.map(\.record), nextCursor: page.nextCursor)
    }
}

extension StatehouseEngine {
    /// Writes a consistent copy of the store into `directory` on the daemon's machine (absolute; created, or empty)
    /// while commits and reads go on; a daemon started on it serves every namespace as of the copy's snapshot.
    ///
    /// The ledger signing key is not part of the store: keep its file with the backups (it is created once).
    public func backup(toDirectory directory: String) async throws -> BackupReport {
        try await self.backend.backup(toDirectory: directory)
    }
}
