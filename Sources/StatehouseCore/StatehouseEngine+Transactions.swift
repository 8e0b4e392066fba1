import Logging

extension StatehouseEngine {
    /// Begins an interactive transaction in `namespace`.
    ///
    /// - Parameters:
    ///   - namespace: the namespace every operation of the transaction goes to; nil leaves it to the first staged
    ///     operation, which names it with ``put(txnID:namespace:agentID:key:value:)`` (the original Statehouse API
    ///     names the namespace per write). Later operations must name the same one; a transaction that stages
    ///     nothing commits to "default".
    ///   - timeout: how long the transaction may stay open; defaults to
    ///     ``StatehouseModel/EngineLimits/defaultTransactionTimeout``.
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a bad namespace or a timeout that is not
    ///   positive or above ``StatehouseModel/EngineLimits/maxTransactionTimeout``;
    ///   ``StatehouseModel/StatehouseError/resourceExhausted(_:)`` when too many transactions are open.
    public func beginTransaction(namespace: String? = "default", timeout: Duration? = nil) throws -> TransactionInfo {
        if let namespace { try self.validateNamespace(namespace) }
        let timeout = timeout ?? self.limits.defaultTransactionTimeout
        guard timeout > .zero else {
            throw StatehouseError.invalidArgument("transaction timeout must be positive")
        }
        guard timeout <= self.limits.maxTransactionTimeout else {
            throw StatehouseError.invalidArgument(
                "transaction timeout \(timeout) is above the limit of \(self.limits.maxTransactionTimeout)"
            )
        }
        let id = TransactionID.make(wallMicroseconds: self.clock.wallMicroseconds())
        let now = self.clock.monotonicNanoseconds()
        let owner = CommitAttribution.principalID
        try self.transactions.withState {
            try $0.begin(id: id, namespace: namespace, owner: owner, timeout: timeout, now: now)
        }
        self.logger.info("Transaction began", metadata: ["txn.id": "\(id)", "namespace": "\(namespace ?? "-")"])
        return TransactionInfo(txnID: id, namespace: namespace, timeout: timeout)
    }

    /// Stages a write of `value` to `key` in an open transaction; a later write of the same key replaces it.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for bad names, an oversized value or a
    ///   transaction over its operation or byte limit; ``StatehouseModel/StatehouseError/transactionNotFound(_:)`` or
    ///   ``StatehouseModel/StatehouseError/transactionExpired(_:)`` when the transaction is not open.
    ///
    /// - Parameters:
    ///   - namespace: nil, or the transaction's namespace: it binds a transaction begun without one, and must
    ///     match one that has one (else ``StatehouseModel/StatehouseError/invalidArgument(_:)``, and nothing is
    ///     staged).
    public func put(
        txnID: String, namespace: String? = nil, agentID: String, key: String, value: JSONValue,
        expiresAt: Microseconds? = nil
    ) throws {
        try self.stage(
            .put(agentID: agentID, key: key, value: value, expiresAt: expiresAt), txnID: txnID, namespace: namespace)
    }

    /// Stages a delete of `key` (a tombstone version) in an open transaction; `namespace` as in
    /// ``put(txnID:namespace:agentID:key:value:)``.
    public func delete(txnID: String, namespace: String? = nil, agentID: String, key: String) throws {
        try self.stage(.delete(agentID: agentID, key: key), txnID: txnID, namespace: namespace)
    }

    /// What is known about a transaction: open, committed (with its result), aborted, expired, failed, or unknown.
    ///
    /// The original API reports a second commit of a committed transaction as an error, where this engine returns
    /// the first result (exactly-once retries); its translation asks here first.
    public func transactionStatus(_ txnID: String) -> TransactionStatus {
        self.transactions.withState { $0.status(of: txnID) }
    }

    private func stage(_ operation: WriteOperation, txnID: String, namespace: String?) throws {
        try self.validate(operation)
        if let namespace { try self.validateNamespace(namespace) }
        let now = self.clock.monotonicNanoseconds()
        try self.transactions.withState { try $0.stage(operation, in: txnID, namespace: namespace, now: now) }
        self.logger.debug(
            "Staged operation",
            metadata: [
                "txn.id": "\(txnID)", "agent.id": "\(operation.agentID)", "key": "\(operation.key)",
            ])
    }

    /// Attaches metadata (actor, reason, tags) to the event an interactive transaction will commit.
    public func setMetadata(txnID: String, metadata: CommitMetadata) throws {
        try self.validateClientMetadata(metadata)
        let now = self.clock.monotonicNanoseconds()
        try self.transactions.withState { try $0.setMetadata(metadata, in: txnID, now: now) }
    }

    /// Reads a key inside a transaction: its own staged write if any, else the latest committed version.
    ///
    /// A staged write is returned with version and commit_ts 0 (it has neither until the commit) and is not added
    /// to the read set: writing a key without reading it never conflicts.
    ///
    /// A committed read is recorded in the transaction's read set: if that key changes before the commit, the
    /// commit fails with ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` and applies
    /// nothing.
    public func get(txnID: String, agentID: String, key: String) async throws -> StateRecord {
        try NameValidation.validateAgentID(agentID, limits: self.limits)
        try NameValidation.validateKey(key, limits: self.limits)
        let now = self.clock.monotonicNanoseconds()
        let lookup = try self.transactions.withState {
            try $0.lookupStaged(agentID: agentID, key: key, in: txnID, now: now)
        }
        switch lookup {
        case .staged(let operation):
            return StateRecord(
                agentID: agentID,
                key: key,
                value: operation.value,
                version: 0,
                commitTS: 0,
                committedAt: 0,
                deleted: operation.kind == .delete
            )
        case .notStaged(let namespace):
            let record = try await self.backend.get(namespace: namespace, agentID: agentID, key: key, at: .latest)
            let readAt = self.clock.monotonicNanoseconds()
            try self.transactions.withState {
                try $0.recordRead(agentID: agentID, key: key, version: record.version, in: txnID, now: readAt)
            }
            return record
        }
    }

    /// Commits an interactive transaction and returns once it is durable.
    ///
    /// - Parameters:
    ///   - metadata: stored with the event (replacing any set with ``setMetadata(txnID:metadata:)``); ignored when
    ///     the call is a retry of a commit that already happened.
    ///
    /// Retrying the commit of a transaction that already committed (for example after a lost reply, even across a
    /// restart) returns the original result and applies nothing twice.
    ///
    ///   - staging: writes and deletes to stage first, in order, as ``put(txnID:namespace:agentID:key:value:)`` and
    ///     ``delete(txnID:namespace:agentID:key:)`` would: lets a client send a buffered transaction with its commit.
    ///     All are checked before any is staged, so a bad one leaves the transaction as it was; ignored on a retry of a
    ///     commit that already happened or is in flight.
    ///   - conditions: checked at commit together with the reads the transaction recorded (the expected version of a
    ///     key, or that it must not exist); ignored on a retry like `staging`.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` when a key it read changed;
    ///   ``StatehouseModel/StatehouseError/transactionExpired(_:)`` after its timeout;
    ///   ``StatehouseModel/StatehouseError/transactionNotFound(_:)`` for an unknown or aborted transaction;
    ///   ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a bad staged operation.
    public func commit(
        txnID: String,
        staging operations: [WriteOperation] = [],
        conditions: [AtomicCommit.Condition] = [],
        metadata: CommitMetadata? = nil
    ) async throws -> CommitResult {
        if let metadata { try self.validateClientMetadata(metadata) }
        for operation in operations { try self.validate(operation) }
        guard conditions.count <= self.limits.maxOperationsPerTransaction else {
            throw StatehouseError.invalidArgument(
                "commit has \(conditions.count) conditions; the limit is \(self.limits.maxOperationsPerTransaction)"
            )
        }
        for condition in conditions {
            try NameValidation.validateAgentID(condition.agentID, limits: self.limits)
            try NameValidation.validateKey(condition.key, limits: self.limits)
        }
        let now = self.clock.monotonicNanoseconds()
        let decision = try self.transactions.withState {
            try $0.beginCommit(
                txnID,
                staging: operations,
                conditions: conditions.map {
                    KeyCondition(agentID: $0.agentID, key: $0.key, requirement: .expected($0.expected))
                },
                metadata: metadata,
                now: now
            )
        }
        switch decision {
        case .alreadyCommitted(let result):
            return result
        case .unknown:
            if let result = try await self.backend.committedResult(txnID: txnID) { return result }
            throw StatehouseError.transactionNotFound("transaction \(txnID) not found")
        case .submit(var request):
            request.metadata = self.attributed(request.metadata)
            do {
                let result = try await self.admitted(request)
                self.transactions.withState { $0.finishCommit(txnID, result: .success(result)) }
                self.logger.info(
                    "Transaction committed",
                    metadata: [
                        "txn.id": "\(txnID)", "namespace": "\(request.namespace)", "commit.ts": "\(result.commitTS)",
                        "operations": "\(request.operations.count)",
                    ])
                return result
            } catch let error as StatehouseError {
                self.transactions.withState { $0.finishCommit(txnID, result: .failure(error)) }
                self.logger.info("Transaction commit failed", metadata: ["txn.id": "\(txnID)", "error": "\(error)"])
                throw error
            }
        }
    }

    /// Commits a transaction the client began itself: it made the id, kept its writes, and recorded the versions of
    /// the keys it read as conditions, so the whole transaction is this one call.
    ///
    /// The commit is the one-shot ``commit(_:)`` of `commit` under the client's id, and exactly once by that id: a
    /// retry returns the first result, as a retried ``commit(txnID:staging:conditions:metadata:)`` does.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for an id that is not a version 7 UUID, that
    ///   names a transaction begun on the daemon, or that was already used in another namespace; otherwise what
    ///   ``commit(_:)`` throws (a conflict when a read or expected version no longer holds).
    public func commit(clientTransactionID txnID: String, _ commit: AtomicCommit) async throws -> CommitResult {
        guard TransactionID.isWellFormed(txnID) else {
            throw StatehouseError.invalidArgument(
                "a transaction begun by the client needs a version 7 UUID as its id (lowercase, 36 characters)"
            )
        }
        guard case .unknown = self.transactionStatus(txnID) else {
            throw StatehouseError.invalidArgument("transaction \(txnID) was begun on the daemon; commit it as such")
        }
        var request = try self.makeRequest(commit)
        request.txnID = txnID
        request.mayBeRetry = true
        let result = try await self.admitted(request)
        guard result.namespace == commit.namespace else {
            throw StatehouseError.invalidArgument("transaction id \(txnID) was already used in another namespace")
        }
        return result
    }

    /// Aborts an open transaction, discarding its staged writes.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/transactionNotFound(_:)`` or
    ///   ``StatehouseModel/StatehouseError/transactionExpired(_:)`` when it is not open.
    public func abort(txnID: String) throws {
        let now = self.clock.monotonicNanoseconds()
        try self.transactions.withState { try $0.abort(txnID, now: now) }
        self.logger.info("Transaction aborted", metadata: ["txn.id": "\(txnID)"])
    }
}
