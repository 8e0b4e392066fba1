import Logging
import StatehouseCore
import StatehouseLedger

/// The only writer of the database; lives on the writer thread of ``SQLiteBackend``.
///
/// It caches every namespace's id and head: being the only writer, its cache is always the truth, and a commit
/// needs no read of the heads table. The cache is updated only after a batch's COMMIT succeeded.
final class SQLiteWriter: CommitStateReader, SQLiteConnectionOwner {
    private struct NamespaceEntry {
        var id: Int64
        var head: LogHead
        /// The right edge of the namespace's Merkle tree, whose size is `head.commitTS`; the error instead when the
        /// stored tree could not be read at startup (a damaged log), which then refuses new commits to the
        /// namespace rather than growing a wrong tree, while reads and `verify` go on.
        var frontier: Result<MerkleFrontier, StatehouseError>
    }

    let connection: SQLiteConnection
    private let logger: Logger
    let checkpointer: WALCheckpointer
    private var namespaces: [String: NamespaceEntry] = [:]
    /// The time of the batch being decided: a put whose expiry has passed counts as deleted for its conditions.
    private var batchTime: Microseconds = 0
    /// Whether state values are indexed for search (``SQLiteConfiguration/searchState``).
    private let searchState: Bool

    init(connection: SQLiteConnection, searchState: Bool = false, logger: Logger) throws {
        self.connection = connection
        self.searchState = searchState
        self.logger = logger
        self.checkpointer = WALCheckpointer(connection: connection, logger: logger)
        let statement = try connection.statement(
            "SELECT id, name, last_commit_ts, last_hash, last_committed_at FROM namespaces"
        )
        var heads: [(id: Int64, head: LogHead)] = []
        while try statement.step() {
            heads.append(
                (
                    statement.int64(0),
                    LogHead(
                        namespace: statement.text(1),
                        commitTS: statement.uint64(2),
                        hash: try SQLiteQueries.hash(statement, column: 3, commitTS: statement.uint64(2)),
                        committedAt: statement.int64(4)
                    )
                ))
        }
        for (id, head) in heads {
            let frontier: Result<MerkleFrontier, StatehouseError>
            do {
                frontier = .success(
                    try MerkleFrontier(
                        size: head.commitTS, from: SQLiteMerkleNodes.Source(connection: connection, namespaceID: id)))
            } catch let error as StatehouseError {
                logger.error(
                    "The namespace's Merkle tree cannot be read; it takes no commits until repaired",
                    metadata: ["namespace": "\(head.namespace)", "error": "\(error)"])
                frontier = .failure(error)
            }
            self.namespaces[head.namespace] = NamespaceEntry(id: id, head: head, frontier: frontier)
        }
        connection.releaseStatements()
    }

    /// After each writer job: the WAL checkpoint its commits called for, once their callers have their results.
    func jobDidFinish() {
        self.checkpointer.checkpointIfDue()
    }

    /// Decides and stores a batch in one SQLite transaction; returns once COMMIT (and its fsync) returned.
    func commit(_ batch: [CommitRequest], now: Microseconds) throws -> BatchResolution {
        self.batchTime = now
        try self.connection.statement("BEGIN IMMEDIATE").run()
        do {
            let resolution = try CommitResolver.resolve(batch, reader: self, now: now)
            var newNamespaces: [String: Int64] = [:]
            // Frontiers grown by this batch; they replace the cached ones only once COMMIT succeeded.
            var frontiers: [String: MerkleFrontier] = [:]
            let rows = try RowStatements(on: self.connection)
            for (index, event) in resolution.events.enumerated() {
                let request = batch[resolution.eventRequestIndices[index]]
                let namespaceID =
                    try self.namespaces[event.namespace]?.id ?? newNamespaces[event.namespace]
                    ?? self.insertNamespace(event.namespace, into: &newNamespaces)
                var frontier =
                    try frontiers[event.namespace] ?? self.namespaces[event.namespace]?.frontier.get()
                    ?? MerkleFrontier()
                let nodes = frontier.appendNodeHashes(leafHash: LeafEncoding.leafHash(event))
                frontiers[event.namespace] = frontier
                try self.insert(
                    event, namespaceID: namespaceID, idempotencyKey: request.idempotencyKey,
                    requestDigest: request.requestDigest, merkleNodes: nodes, with: rows)
            }
            for head in resolution.heads.values {
                try self.store(head, namespaceID: self.namespaces[head.namespace]?.id ?? newNamespaces[head.namespace]!)
            }
            // Reset every statement of the batch first: a statement left mid-row keeps the connection in a read
            // transaction, and the WAL checkpoint after the job (``WALCheckpointer``) then fails silently
            // (SQLITE_LOCKED), so the WAL would grow without bound.
            self.connection.releaseStatements()
            try self.connection.statement("COMMIT").run()
            for (name, head) in resolution.heads {
                let id = self.namespaces[name]?.id ?? newNamespaces[name]!
                let frontier =
                    frontiers[name].map { .success($0) } ?? self.namespaces[name]?.frontier
                    ?? .success(MerkleFrontier())
                self.namespaces[name] = NamespaceEntry(id: id, head: head, frontier: frontier)
            }
            return resolution
        } catch {
            try? self.connection.statement("ROLLBACK").run()
            throw error
        }
    }

    /// Stores events an import decided and checked itself (``StatehouseCore/LogImport``), in one transaction, without
    /// resolving them: each already carries its commit_ts, versions, time and hashes. The rows are the ones
    /// ``commit(_:now:)`` would write for the same events, so an imported namespace cannot be told from one that was
    /// committed.
    ///
    /// `tree`, when given, is the tree's growth over the events, computed by the caller
    /// (``StatehouseCore/StorageBackend/append(_:tree:after:)``); it must start from this namespace's frontier.
    ///
    /// - Throws: a conflict when the namespace's head is not `expected` (it was written since the import began).
    func append(_ events: [Event], tree: AppendedTree?, after expected: LogHead) throws {
        guard let last = events.last else { return }
        let namespace = expected.namespace
        let current = self.namespaces[namespace]?.head ?? .empty(namespace)
        guard current.commitTS == expected.commitTS, current.hash == expected.hash else {
            throw StatehouseError.conflict(agentID: "", key: "", expected: expected.commitTS, actual: current.commitTS)
        }
        var frontier = try self.namespaces[namespace]?.frontier.get() ?? MerkleFrontier()
        if let tree, !tree.fits(events: events.count, after: frontier.size) {
            throw StatehouseError.internalError(
                "internal storage error: a tree of \(tree.frontier.size) leaves does not follow \(frontier.size) by "
                    + "\(events.count) events")
        }
        try self.connection.statement("BEGIN IMMEDIATE").run()
        do {
            var created: [String: Int64] = [:]
            let namespaceID = try self.namespaces[namespace]?.id ?? self.insertNamespace(namespace, into: &created)
            let rows = try RowStatements(on: self.connection)
            for (index, event) in events.enumerated() {
                let nodes = tree?.nodeHashes[index] ?? frontier.appendNodeHashes(leafHash: LeafEncoding.leafHash(event))
                try self.insert(
                    event, namespaceID: namespaceID, idempotencyKey: nil, requestDigest: [], merkleNodes: nodes,
                    with: rows)
            }
            if let tree { frontier = tree.frontier }
            let head = LogHead(
                namespace: namespace, commitTS: last.commitTS, hash: last.hash, committedAt: last.committedAt)
            try self.store(head, namespaceID: namespaceID)
            self.connection.releaseStatements()
            try self.connection.statement("COMMIT").run()
            self.namespaces[namespace] = NamespaceEntry(id: namespaceID, head: head, frontier: .success(frontier))
        } catch {
            try? self.connection.statement("ROLLBACK").run()
            throw error
        }
    }

    private func store(_ head: LogHead, namespaceID: Int64) throws {
        let updateHead = try self.connection.statement(
            "UPDATE namespaces SET last_commit_ts = ?, last_hash = ?, last_committed_at = ? WHERE id = ?"
        )
        updateHead.bind(0, head.commitTS)
        updateHead.bind(1, hash: head.hash)
        updateHead.bind(2, head.committedAt)
        updateHead.bind(3, namespaceID)
        try updateHead.run()
    }

    private func insertNamespace(_ name: String, into created: inout [String: Int64]) throws -> Int64 {
        let statement = try self.connection.statement(
            "INSERT INTO namespaces(name, last_commit_ts, last_hash, last_committed_at) VALUES (?, 0, ?, 0)"
        )
        statement.bind(0, name)
        statement.bind(1, hash: HashChain.genesisHash)
        try statement.run()
        let id = self.connection.lastInsertRowID
        created[name] = id
        return id
    }

    /// The two statements that store an event, looked up once per storage transaction instead of once per row (a
    /// lookup hashes the statement's text).
    private struct RowStatements {
        let version: SQLiteStatement
        let event: SQLiteStatement

        init(on connection: SQLiteConnection) throws {
            self.version = try connection.statement(
                """
                INSERT INTO versions(ns_id, agent_id, key, version, commit_ts, committed_at, deleted, value, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            )
            self.event = try connection.statement(
                """
                INSERT INTO events(ns_id, commit_ts, txn_id, committed_at, first_version_id, op_count, metadata,
                                   idempotency_key, request_digest, prev_hash, hash, merkle_nodes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            )
        }
    }

    /// Stores an event's rows; every parameter of both statements is bound again for each row.
    private func insert(
        _ event: Event, namespaceID: Int64, idempotencyKey: String?, requestDigest: [UInt8], merkleNodes: [UInt8],
        with rows: RowStatements
    ) throws {
        let insertVersion = rows.version
        var firstVersionID: Int64 = 0
        for (index, operation) in event.operations.enumerated() {
            let deleted = operation.kind == .delete
            insertVersion.resetKeepingBindings()
            insertVersion.bind(0, namespaceID)
            insertVersion.bind(1, operation.agentID)
            insertVersion.bind(2, operation.key)
            insertVersion.bind(3, operation.version)
            insertVersion.bind(4, event.commitTS)
            insertVersion.bind(5, event.committedAt)
            insertVersion.bind(6, deleted)
            insertVersion.bind(7, blob: deleted ? nil : operation.value?.utf8 ?? [])
            if let expiresAt = operation.expiresAt {
                insertVersion.bind(8, expiresAt)
            } else {
                insertVersion.bindNull(8)
            }
            try insertVersion.run()
            let versionID = self.connection.lastInsertRowID
            if index == 0 { firstVersionID = versionID }
            try SQLiteEventIndex.didStore(
                operation, versionID: versionID, commitTS: event.commitTS, committedAt: event.committedAt,
                namespaceID: namespaceID, indexState: self.searchState, on: self.connection)
            // Events find their operations as a contiguous id range; never store one that is not.
            guard versionID == firstVersionID + Int64(index) else {
                throw StatehouseError.internalError("internal storage error: version ids are not contiguous")
            }
        }
        let insertEvent = rows.event
        insertEvent.resetKeepingBindings()
        insertEvent.bind(0, namespaceID)
        insertEvent.bind(1, event.commitTS)
        insertEvent.bind(2, event.txnID)
        insertEvent.bind(3, event.committedAt)
        insertEvent.bind(4, firstVersionID)
        insertEvent.bind(5, Int64(event.operations.count))
        if event.metadata.isEmpty {
            insertEvent.bindNull(6)
        } else {
            var metadata: [UInt8] = []
            CanonicalEncoding.appendMetadata(event.metadata, to: &metadata)
            insertEvent.bind(6, blob: metadata)
        }
        if let idempotencyKey {
            insertEvent.bind(7, idempotencyKey)
            insertEvent.bind(8, blob: requestDigest)
        } else {
            insertEvent.bindNull(7)
            insertEvent.bindNull(8)
        }
        insertEvent.bind(9, hash: event.prevHash)
        insertEvent.bind(10, hash: event.hash)
        insertEvent.bind(11, blob: merkleNodes)
        try insertEvent.run()
        if !event.metadata.isEmpty {
            try SQLiteSearchIndex.didStore(
                event.metadata, commitTS: event.commitTS, committedAt: event.committedAt, namespaceID: namespaceID,
                on: self.connection)
        }
    }

    /// The id of a namespace with commits, from the writer's cache (always the truth: it is the only writer).
    func namespaceID(_ name: String) -> Int64? { self.namespaces[name]?.id }

    // MARK: CommitStateReader

    func head(namespace: String) throws -> LogHead {
        self.namespaces[namespace]?.head ?? .empty(namespace)
    }

    func latestVersion(namespace: String, agentID: String, key: String) throws -> KeyVersionState? {
        guard let namespaceID = self.namespaces[namespace]?.id else { return nil }
        let statement = try self.connection.statement(
            """
            SELECT version, deleted, expires_at FROM versions INDEXED BY versions_by_key
            WHERE ns_id = ? AND agent_id = ? AND key = ? ORDER BY version DESC LIMIT 1
            """
        )
        statement.bind(0, namespaceID)
        statement.bind(1, agentID)
        statement.bind(2, key)
        guard try statement.step() else { return nil }
        let expired = !statement.isNull(2) && statement.int64(2) <= self.batchTime
        return KeyVersionState(version: statement.uint64(0), deleted: statement.bool(1) || expired)
    }

    func lastCommitTS(namespace: String, agentID: String) throws -> CommitTS {
        guard let namespaceID = self.namespaces[namespace]?.id else { return 0 }
        return try SQLiteQueries.lastCommitTS(namespaceID: namespaceID, agentID: agentID, on: self.connection)
    }

    func committedResult(txnID: String) throws -> CommitResult? {
        try SQLiteQueries.committedResult(txnID: txnID, on: self.connection)
    }

    func idempotentCommit(namespace: String, idempotencyKey: String) throws -> (digest: [UInt8], result: CommitResult)?
    {
        guard let namespaceID = self.namespaces[namespace]?.id else { return nil }
        let statement = try self.connection.statement(
            "SELECT request_digest, txn_id FROM events WHERE ns_id = ? AND idempotency_key = ?"
        )
        statement.bind(0, namespaceID)
        statement.bind(1, idempotencyKey)
        guard try statement.step() else { return nil }
        let digest = statement.blob(0)
        let txnID = statement.text(1)
        statement.reset()
        guard let result = try self.committedResult(txnID: txnID) else { return nil }
        return (digest, result)
    }
}
