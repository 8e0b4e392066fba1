import CoreMetrics
import StatehouseLedger
import Synchronization

/// Replays an exported log into an empty namespace, checking the exported hash chain as it goes
/// (``StatehouseEngine/beginImport(into:from:)``).
///
/// Each exported event becomes one event of the target namespace with the same operations, versions, metadata and
/// commit time, so the target's commit_ts, versions and state equal the source's; its hashes differ (the namespace is
/// part of every hash) and its transaction ids are new (they are unique across namespaces).
///
/// An import does not go through the commit pipeline: an exported event was already decided, so this checks it (its
/// place in the chain, its hash, names, values, and that each version follows the key's previous one) and hands the
/// events of a batch to ``StorageBackend/append(_:tree:after:)``, which stores them in one transaction. The next batch
/// is checked while the previous one is written, so the two halves of the work run side by side; the Merkle tree's
/// growth (each event's leaf hash and the nodes it completes) is computed here too, on the checking side, so that the
/// storage's writer only writes rows.
///
/// Memory: the latest version of every key imported so far is kept to check versions without reading storage, about
/// a hundred bytes per distinct key.
public final class LogImport: Sendable {
    private struct KeyRef: Hashable {
        var agentID: String
        var key: String
    }

    /// What the checks of the next batch start from; changed only by ``decide(_:)``.
    private struct Decisions {
        var nextCommitTS: CommitTS = 1
        var sourceHash = HashChain.genesisHash
        var targetHash = HashChain.genesisHash
        var committedAt: Microseconds = 0
        var versions: [KeyRef: UInt64] = [:]
        /// The target namespace's Merkle frontier (empty when the import begins, as the namespace is).
        var frontier = MerkleFrontier()
    }

    private struct Writes {
        /// Checked events not yet handed to storage, the nodes each completes in the tree, the frontier after them,
        /// and the head they follow.
        var buffer: [Event] = []
        var nodeHashes: [[UInt8]] = []
        var frontier = MerkleFrontier()
        var bufferBytes = 0
        var bufferAfter: LogHead?
        /// The batch being stored, if any.
        var pending: Task<Void, any Error>?
        var imported = 0
    }

    /// Events per storage transaction of an import by default. Larger than a commit group: an index page that many
    /// events touch is then written once for all of them (measured in docs/benchmarks.md, "Export and import": 25.6k
    /// events/s with 1,000 per transaction, 36k with 4,096, 39k with 65,536; later, with cheaper checks, 16,384 gained
    /// about 6 % over 4,096), while the writer, which other commits wait for, is held for about 40 ms at a time, not
    /// the 150 ms of 16,384 events.
    public static let defaultEventsPerTransaction = 4096
    /// A storage transaction of an import also ends once its values and names reach this many bytes.
    static let transactionBytes = 16 << 20

    let engine: StatehouseEngine
    public let namespace: String
    public let sourceNamespace: String
    let eventsPerTransaction: Int
    private let decisions = Mutex(Decisions())
    private let writes = Mutex(Writes())

    init(engine: StatehouseEngine, namespace: String, sourceNamespace: String, eventsPerTransaction: Int) {
        self.engine = engine
        self.namespace = namespace
        self.sourceNamespace = sourceNamespace
        self.eventsPerTransaction = max(1, eventsPerTransaction)
    }

    /// Events imported (durably stored) so far.
    public var imported: Int { self.writes.withLock { $0.imported } }

    /// Checks the next events of the export, in commit_ts order, and queues them for storage; a full storage
    /// transaction starts once the one before it is stored. ``finish()`` stores the rest.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` naming the first event whose
    ///   hash, link, commit_ts, time or versions do not follow the chain (nothing of its batch or after it is
    ///   imported); ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` when the target
    ///   namespace was written meanwhile; ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a bad name or
    ///   value; the storage's error when the previous batch could not be stored.
    public func append(_ events: [Event]) async throws {
        guard !events.isEmpty else { return }
        let decided: Decided
        do {
            decided = try self.decide(events)
        } catch {
            // Earlier batches stay: say so only once they are durable (or report why they are not).
            try await self.store(self.takeBuffer())
            try await self.waitForPendingWrite()
            throw error
        }
        let bytes = decided.events.reduce(0) { total, event in
            event.operations.reduce(total) {
                $0 + 64 + $1.agentID.utf8.count + $1.key.utf8.count + ($1.value?.utf8.count ?? 0)
            }
        }
        let full = self.writes.withLock { writes -> Batch? in
            if writes.buffer.isEmpty { writes.bufferAfter = decided.after }
            writes.buffer += decided.events
            writes.nodeHashes += decided.nodeHashes
            writes.frontier = decided.frontier
            writes.bufferBytes += bytes
            guard writes.buffer.count >= self.eventsPerTransaction || writes.bufferBytes >= Self.transactionBytes else {
                return nil
            }
            return Self.take(&writes)
        }
        if let full { try await self.store(full) }
    }

    /// The target namespace's head once everything was stored.
    public func finish() async throws -> LogHead {
        try await self.store(self.takeBuffer())
        try await self.waitForPendingWrite()
        return try await self.engine.head(namespace: self.namespace)
    }

    /// Events checked together for one storage transaction.
    private struct Batch {
        var events: [Event]
        var tree: AppendedTree
        var after: LogHead
    }

    /// Events that passed the checks, with the tree's growth over them and the head they follow.
    private struct Decided {
        var events: [Event]
        var nodeHashes: [[UInt8]]
        var frontier: MerkleFrontier
        var after: LogHead
    }

    private func takeBuffer() -> Batch? {
        self.writes.withLock { Self.take(&$0) }
    }

    private static func take(_ writes: inout Writes) -> Batch? {
        guard let after = writes.bufferAfter, !writes.buffer.isEmpty else { return nil }
        defer {
            writes.buffer = []
            writes.nodeHashes = []
            writes.bufferBytes = 0
            writes.bufferAfter = nil
        }
        return Batch(
            events: writes.buffer, tree: AppendedTree(nodeHashes: writes.nodeHashes, frontier: writes.frontier),
            after: after)
    }

    /// Starts storing `batch` once the batch before it is stored.
    private func store(_ batch: Batch?) async throws {
        guard let batch else { return }
        try await self.waitForPendingWrite()
        let engine = self.engine
        let write = Task {
            try await engine.backend.append(batch.events, tree: batch.tree, after: batch.after)
            engine.hub.publish(batch.events)
            engine.metrics.commits.increment(by: Int64(batch.events.count))
            self.writes.withLock { $0.imported += batch.events.count }
        }
        self.writes.withLock { $0.pending = write }
    }

    private func waitForPendingWrite() async throws {
        guard let pending = self.writes.withLock({ $0.pending }) else { return }
        try await pending.value
    }

    /// Checks `events` against the chain so far and makes the target's events and the tree's growth over them; the
    /// chain and the tree move on only when every event of the batch passed.
    private func decide(_ events: [Event]) throws -> Decided {
        try self.decisions.withLock { state in
            let after = LogHead(
                namespace: self.namespace, commitTS: state.nextCommitTS - 1, hash: state.targetHash,
                committedAt: state.committedAt)
            // The batch's own version changes, merged only once all its events passed (copying the whole map per
            // batch instead would cost as much as the import).
            var batch = Decisions(
                nextCommitTS: state.nextCommitTS, sourceHash: state.sourceHash, targetHash: state.targetHash,
                committedAt: state.committedAt)
            var decided: [Event] = []
            decided.reserveCapacity(events.count)
            for event in events {
                decided.append(try self.decide(event, from: &batch, earlier: state.versions))
            }
            state.versions.merge(batch.versions) { $1 }
            state.nextCommitTS = batch.nextCommitTS
            state.sourceHash = batch.sourceHash
            state.targetHash = batch.targetHash
            state.committedAt = batch.committedAt
            let nodeHashes = decided.map { state.frontier.appendNodeHashes(leafHash: LeafEncoding.leafHash($0)) }
            return Decided(events: decided, nodeHashes: nodeHashes, frontier: state.frontier, after: after)
        }
    }

    private func decide(_ event: Event, from state: inout Decisions, earlier: [KeyRef: UInt64]) throws -> Event {
        guard event.commitTS == state.nextCommitTS else {
            throw StatehouseError.dataCorruption(
                commitTS: event.commitTS,
                reason: "the export skips from commit_ts \(state.nextCommitTS - 1) to \(event.commitTS)")
        }
        try HashChain.checkLink(event, previousHash: state.sourceHash, namespace: self.sourceNamespace)
        guard !event.operations.isEmpty else {
            throw StatehouseError.dataCorruption(commitTS: event.commitTS, reason: "the event has no operations")
        }
        guard event.committedAt >= state.committedAt else {
            throw StatehouseError.dataCorruption(
                commitTS: event.commitTS,
                reason: "committed_at \(event.committedAt) is earlier than the previous event's \(state.committedAt)")
        }
        try self.engine.validate(event.metadata)
        for operation in event.operations {
            try self.validate(operation, of: event)
            let ref = KeyRef(agentID: operation.agentID, key: operation.key)
            let previous = state.versions[ref] ?? earlier[ref] ?? 0
            guard operation.version == previous + 1 else {
                throw StatehouseError.dataCorruption(
                    commitTS: event.commitTS,
                    reason:
                        "agent '\(operation.agentID.prefix(64))' key '\(operation.key.prefix(64))' goes from version "
                        + "\(previous) to \(operation.version)")
            }
            state.versions[ref] = operation.version
        }
        let txnID = TransactionID.make(wallMicroseconds: self.engine.clock.wallMicroseconds())
        let hash = HashChain.hash(
            prevHash: state.targetHash, commitTS: event.commitTS, namespace: self.namespace, txnID: txnID,
            committedAt: event.committedAt, metadata: event.metadata, operations: event.operations)
        let decided = Event(
            namespace: self.namespace, commitTS: event.commitTS, txnID: txnID, committedAt: event.committedAt,
            operations: event.operations, metadata: event.metadata, prevHash: state.targetHash, hash: hash)
        state.nextCommitTS += 1
        state.sourceHash = event.hash  // checked above to be the recomputed one
        state.targetHash = hash
        state.committedAt = event.committedAt
        return decided
    }

    /// The checks a commit of the same operation would pass (names, value size, valid JSON).
    private func validate(_ operation: AppliedOperation, of event: Event) throws {
        if operation.valueRemoved {
            throw StatehouseError.invalidArgument(
                "event \(event.commitTS) holds no value for agent '\(operation.agentID.prefix(64))' key "
                    + "'\(operation.key.prefix(64))' version \(operation.version) (removed by retention before the "
                    + "export); a log can only be imported whole")
        }
        let write: WriteOperation =
            operation.kind == .put
            ? .put(
                agentID: operation.agentID, key: operation.key, value: operation.value ?? JSONValue(trusted: []),
                expiresAt: operation.expiresAt)
            : .delete(agentID: operation.agentID, key: operation.key)
        try NameValidation.validateAgentID(write.agentID, limits: self.engine.limits)
        try self.engine.validateUnreserved(write)
        if write.kind == .put {
            _ = try JSONValue(validating: write.value?.utf8 ?? [], maxDepth: self.engine.limits.maxJSONDepth)
        }
    }
}

extension StatehouseEngine {
    /// Starts importing an exported log into `namespace`, which must have no commits; `sourceNamespace` is the one the
    /// log was exported from (its hashes are computed with it).
    public func beginImport(
        into namespace: String, from sourceNamespace: String,
        eventsPerTransaction: Int = LogImport.defaultEventsPerTransaction
    ) async throws -> LogImport {
        try self.validateNamespace(namespace)
        try self.validateNamespace(sourceNamespace)
        let head = try await self.backend.head(namespace: namespace)
        guard head.commitTS == 0 else {
            throw StatehouseError.invalidArgument(
                "namespace '\(namespace)' already has \(head.commitTS) commits; import into a new namespace")
        }
        return LogImport(
            engine: self, namespace: namespace, sourceNamespace: sourceNamespace,
            eventsPerTransaction: eventsPerTransaction)
    }
}
