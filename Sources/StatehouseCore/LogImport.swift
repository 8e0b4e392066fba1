import Synchronization

/// Replays an exported log into an empty namespace, checking the exported hash chain as it goes
/// (``StatehouseEngine/beginImport(into:from:)``).
///
/// Each exported event becomes one commit of the target namespace with the same operations, metadata and commit time,
/// so the target's commit_ts, versions and state equal the source's; its hashes differ (the namespace is part of every
/// hash) and its transaction ids are new (they are unique across namespaces). Events of a batch are queued in order
/// without waiting for each other, so the pipeline commits them in groups (one fsync for many), not one by one.
public final class LogImport: Sendable {
    private struct Progress {
        var nextCommitTS: CommitTS = 1
        var previousHash = HashChain.genesisHash
        var imported = 0
    }

    let engine: StatehouseEngine
    public let namespace: String
    public let sourceNamespace: String
    private let progress = Mutex(Progress())

    init(engine: StatehouseEngine, namespace: String, sourceNamespace: String) {
        self.engine = engine
        self.namespace = namespace
        self.sourceNamespace = sourceNamespace
    }

    /// Events imported so far.
    public var imported: Int { self.progress.withLock { $0.imported } }

    /// Checks and commits the next events of the export, in commit_ts order.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` naming the first event whose
    ///   hash, link or commit_ts does not follow the chain (nothing of it or after it is imported);
    ///   ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` when the target namespace was
    ///   written meanwhile; ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a bad name or value.
    public func append(_ events: [Event]) async throws {
        var requests: [CommitRequest] = []
        requests.reserveCapacity(events.count)
        var (expected, previous) = self.progress.withLock { ($0.nextCommitTS, $0.previousHash) }
        for event in events {
            guard event.commitTS == expected else {
                throw StatehouseError.dataCorruption(
                    commitTS: event.commitTS,
                    reason: "the export skips from commit_ts \(expected - 1) to \(event.commitTS)")
            }
            guard event.prevHash == previous else {
                throw StatehouseError.dataCorruption(
                    commitTS: event.commitTS, reason: "prev_hash does not match the previous event's hash")
            }
            let hash = HashChain.hash(
                prevHash: previous, commitTS: event.commitTS, namespace: self.sourceNamespace, txnID: event.txnID,
                committedAt: event.committedAt, metadata: event.metadata, operations: event.operations)
            guard hash == event.hash else {
                throw StatehouseError.dataCorruption(
                    commitTS: event.commitTS, reason: "the event's content does not match its hash")
            }
            requests.append(try self.request(for: event))
            expected += 1
            previous = hash
        }
        // Queued together and in order, so the pipeline writes them in groups (one fsync for many).
        let results = try await self.engine.pipeline.submitAll(requests).map { try $0.get() }
        for (event, result) in zip(events, results) {
            guard result.commitTS == event.commitTS, result.versions == event.operations.map(\.version) else {
                throw StatehouseError.conflict(
                    agentID: "", key: "", expected: event.commitTS - 1, actual: result.commitTS)
            }
        }
        self.progress.withLock {
            $0.nextCommitTS = expected
            $0.previousHash = previous
            $0.imported += events.count
        }
    }

    /// The target namespace's head once everything was imported.
    public func finish() async throws -> LogHead {
        try await self.engine.head(namespace: self.namespace)
    }

    private func request(for event: Event) throws -> CommitRequest {
        if let removed = event.operations.first(where: \.valueRemoved) {
            throw StatehouseError.invalidArgument(
                "event \(event.commitTS) holds no value for agent '\(removed.agentID.prefix(64))' key "
                    + "'\(removed.key.prefix(64))' version \(removed.version) (removed by retention before the export); "
                    + "a log can only be imported whole")
        }
        let operations = event.operations.map { operation -> WriteOperation in
            operation.kind == .put
                ? .put(
                    agentID: operation.agentID, key: operation.key, value: operation.value ?? JSONValue(trusted: []),
                    expiresAt: operation.expiresAt)
                : .delete(agentID: operation.agentID, key: operation.key)
        }
        for operation in operations {
            try NameValidation.validateAgentID(operation.agentID, limits: self.engine.limits)
            try self.engine.validateUnreserved(operation)
            if operation.kind == .put {
                _ = try JSONValue(validating: operation.value?.utf8 ?? [], maxDepth: self.engine.limits.maxJSONDepth)
            }
        }
        try self.engine.validate(event.metadata)
        var request = CommitRequest(
            namespace: self.namespace,
            txnID: TransactionID.make(wallMicroseconds: self.engine.clock.wallMicroseconds()),
            operations: operations,
            // Every event lands at its commit_ts or not at all: the namespace must not move under the import.
            scopeConditions: [ScopeCondition(agentID: nil, unchangedSince: event.commitTS - 1)],
            metadata: event.metadata,
            mayBeRetry: false)
        request.committedAt = event.committedAt
        return request
    }
}

extension StatehouseEngine {
    /// Starts importing an exported log into `namespace`, which must have no commits; `sourceNamespace` is the one the
    /// log was exported from (its hashes are computed with it).
    public func beginImport(into namespace: String, from sourceNamespace: String) async throws -> LogImport {
        try self.validateNamespace(namespace)
        try self.validateNamespace(sourceNamespace)
        let head = try await self.backend.head(namespace: namespace)
        guard head.commitTS == 0 else {
            throw StatehouseError.invalidArgument(
                "namespace '\(namespace)' already has \(head.commitTS) commits; import into a new namespace")
        }
        return LogImport(engine: self, namespace: namespace, sourceNamespace: sourceNamespace)
    }
}
