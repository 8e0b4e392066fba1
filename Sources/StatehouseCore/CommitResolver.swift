/// Read access to the state a writer is about to change, from inside its storage transaction.
///
/// Implemented by each backend over its write connection. Calls are synchronous: they run on the writer's own
/// thread, never on Swift's cooperative pool.
public protocol CommitStateReader {
    /// The end of a namespace's log; ``StatehouseModel/LogHead/empty(_:)`` when it has no commits.
    func head(namespace: String) throws -> LogHead
    /// The latest version of a key, or `nil` if it was never written.
    func latestVersion(namespace: String, agentID: String, key: String) throws -> KeyVersionState?
    /// The commit_ts of the last write to any key of the agent; 0 when it has none.
    func lastCommitTS(namespace: String, agentID: String) throws -> CommitTS
    /// The result of an earlier commit of `txnID`.
    func committedResult(txnID: String) throws -> CommitResult?
    /// The digest and result of an earlier commit that used `idempotencyKey` in `namespace`.
    func idempotentCommit(namespace: String, idempotencyKey: String) throws -> (digest: [UInt8], result: CommitResult)?
}

/// Decides a batch of commits: exactly-once checks, conditions, versions, commit_ts, committed_at and hashes.
///
/// This is the single place where commit semantics live. Each transaction is checked against the state that
/// includes every earlier transaction of the same batch, so group commit is indistinguishable from committing
/// one at a time. A transaction whose condition fails gets a conflict and changes nothing; the others go on.
public enum CommitResolver {
    private struct KeyRef: Hashable {
        var namespace: String
        var agentID: String
        var key: String
    }

    private struct AgentRef: Hashable {
        var namespace: String
        var agentID: String
    }

    private struct IdempotencyRef: Hashable {
        var namespace: String
        var key: String
    }

    /// Resolves `batch` against `reader`.
    ///
    /// - Parameters:
    ///   - batch: transactions in arrival order.
    ///   - reader: the writer's view of stored state.
    ///   - now: the wall clock; committed_at never goes below the namespace's previous committed_at.
    /// - Throws: only what `reader` throws (a storage failure, which fails the whole batch).
    public static func resolve(
        _ batch: [CommitRequest],
        reader: some CommitStateReader,
        now: Microseconds
    ) throws -> BatchResolution {
        var results: [Result<CommitResult, StatehouseError>] = []
        results.reserveCapacity(batch.count)
        var events: [Event] = []
        events.reserveCapacity(batch.count)
        var eventRequestIndices: [Int] = []
        eventRequestIndices.reserveCapacity(batch.count)
        var heads: [String: LogHead] = [:]
        // Key states as of the end of the previous transaction of this batch; version 0 means never written.
        var keyStates: [KeyRef: KeyVersionState] = [:]
        // The last commit_ts that wrote each agent, as of the end of the previous transaction of this batch (for
        // scope conditions; read from storage when first needed).
        var agentLastCommit: [AgentRef: CommitTS] = [:]
        // Only a batch with a scope condition needs them: the others skip a dictionary write per operation.
        let tracksAgents = batch.contains { !$0.scopeConditions.isEmpty }
        var resultIndexByTxnID: [String: Int] = [:]
        var idempotencyInBatch: [IdempotencyRef: (digest: [UInt8], index: Int)] = [:]

        func currentState(_ ref: KeyRef) throws -> KeyVersionState {
            if let known = keyStates[ref] { return known }
            let stored =
                try reader.latestVersion(namespace: ref.namespace, agentID: ref.agentID, key: ref.key)
                ?? KeyVersionState(version: 0, deleted: false)
            keyStates[ref] = stored
            return stored
        }

        requests: for request in batch {
            let index = results.count
            if let earlier = resultIndexByTxnID[request.txnID] {
                results.append(results[earlier])
                continue
            }
            resultIndexByTxnID[request.txnID] = index
            if request.mayBeRetry, let prior = try reader.committedResult(txnID: request.txnID) {
                results.append(.success(prior))
                continue
            }
            if let idempotencyKey = request.idempotencyKey {
                let ref = IdempotencyRef(namespace: request.namespace, key: idempotencyKey)
                let earlier: (digest: [UInt8], result: Result<CommitResult, StatehouseError>)?
                if let inBatch = idempotencyInBatch[ref] {
                    earlier = (inBatch.digest, results[inBatch.index])
                } else if let stored = try reader.idempotentCommit(
                    namespace: request.namespace,
                    idempotencyKey: idempotencyKey
                ) {
                    earlier = (stored.digest, .success(stored.result))
                } else {
                    earlier = nil
                }
                if let earlier {
                    if earlier.digest == request.requestDigest {
                        results.append(earlier.result)
                    } else {
                        results.append(
                            .failure(
                                .invalidArgument(
                                    "idempotency key '\(idempotencyKey.prefix(64))' was already used for a "
                                        + "different request in namespace '\(request.namespace)'"
                                )
                            )
                        )
                    }
                    continue
                }
                idempotencyInBatch[ref] = (request.requestDigest, index)
            }

            for condition in request.conditions {
                let ref = KeyRef(namespace: request.namespace, agentID: condition.agentID, key: condition.key)
                let state = try currentState(ref)
                let current: KeyVersionState? = state.version == 0 ? nil : state
                if !condition.isSatisfied(by: current) {
                    results.append(
                        .failure(
                            .conflict(
                                agentID: condition.agentID,
                                key: condition.key,
                                expected: condition.expectedVersion,
                                actual: current?.version
                            )
                        )
                    )
                    continue requests
                }
            }

            let head = try heads[request.namespace] ?? reader.head(namespace: request.namespace)
            for scope in request.scopeConditions {
                let last: CommitTS
                if let agentID = scope.agentID {
                    let ref = AgentRef(namespace: request.namespace, agentID: agentID)
                    last =
                        try agentLastCommit[ref] ?? reader.lastCommitTS(namespace: request.namespace, agentID: agentID)
                } else {
                    last = head.commitTS
                }
                if last > scope.unchangedSince {
                    results.append(
                        .failure(
                            .conflict(
                                agentID: scope.agentID ?? "", key: "", expected: scope.unchangedSince, actual: last)))
                    continue requests
                }
            }
            if request.operations.isEmpty {
                // A transaction that only read (or only asserted versions): validated, but it writes no event.
                results.append(
                    .success(
                        CommitResult(
                            namespace: request.namespace,
                            txnID: request.txnID,
                            commitTS: head.commitTS,
                            committedAt: head.committedAt,
                            versions: [],
                            hash: head.hash
                        )
                    )
                )
                continue
            }
            var applied: [AppliedOperation] = []
            applied.reserveCapacity(request.operations.count)
            for operation in request.operations {
                let ref = KeyRef(namespace: request.namespace, agentID: operation.agentID, key: operation.key)
                let version = try currentState(ref).version + 1
                keyStates[ref] = KeyVersionState(version: version, deleted: operation.kind == .delete)
                applied.append(
                    AppliedOperation(
                        agentID: operation.agentID,
                        key: operation.key,
                        kind: operation.kind,
                        value: operation.value,
                        version: version,
                        expiresAt: operation.expiresAt
                    )
                )
            }
            let commitTS = head.commitTS + 1
            let committedAt = max(request.committedAt ?? now, head.committedAt)
            if tracksAgents {
                for operation in applied {
                    agentLastCommit[AgentRef(namespace: request.namespace, agentID: operation.agentID)] = commitTS
                }
            }
            let hash = HashChain.hash(
                prevHash: head.hash,
                commitTS: commitTS,
                namespace: request.namespace,
                txnID: request.txnID,
                committedAt: committedAt,
                metadata: request.metadata,
                operations: applied
            )
            let event = Event(
                namespace: request.namespace,
                commitTS: commitTS,
                txnID: request.txnID,
                committedAt: committedAt,
                operations: applied,
                metadata: request.metadata,
                prevHash: head.hash,
                hash: hash
            )
            heads[request.namespace] = LogHead(
                namespace: request.namespace,
                commitTS: commitTS,
                hash: hash,
                committedAt: committedAt
            )
            events.append(event)
            eventRequestIndices.append(index)
            results.append(.success(CommitResult(event: event)))
        }
        return BatchResolution(
            results: results,
            events: events,
            eventRequestIndices: eventRequestIndices,
            heads: heads
        )
    }
}
