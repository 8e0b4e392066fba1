public import Logging
import Synchronization

/// The Statehouse engine: transactions, the commit pipeline, reads, the log and watches over one storage backend.
///
/// Everything the daemon serves is a method here; the gRPC layer only validates transport-level input and maps
/// errors. The engine does no I/O of its own: storage goes through the ``StorageBackend``, whose blocking work runs
/// on its own threads. Call ``run()`` (for example as a service) for as long as the engine should accept commits.
///
/// ```swift
/// let engine = StatehouseEngine(backend: try SQLiteBackend(configuration: .inMemory()), logger: logger)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { await engine.run() }
///     let result = try await engine.commit(AtomicCommit(operations: [
///         .put(agentID: "planner", key: "plan/1", value: try JSONValue(validating: #"{"step":1}"#)),
///     ]))
///     print(result.commitTS)
///     group.cancelAll()
/// }
/// ```
public final class StatehouseEngine: Sendable {
    public let configuration: EngineConfiguration
    let backend: any StorageBackend
    let clock: any StatehouseClock
    let logger: Logger
    let transactions: TransactionTable
    let hub: WatchHub
    let pipeline: CommitPipeline
    /// Signs tree heads (``signedTreeHead(namespace:size:)``).
    let signer: TreeHeadSigner
    /// The last head signed per namespace, reused while the tree has not grown.
    let signedHeads = Mutex<[String: SignedTreeHead]>([:])
    /// Expiries up to this time have had their deletes committed by the expiry sweep (docs/architecture.md,
    /// "Retention and expiry"); the next sweep looks from a minute before it. Starts at the beginning of time.
    let expirySweptUntil = Mutex<Microseconds>(.min)
    /// Serialises compactions: the background one and those asked for never run at the same time.
    let compactionGate = AsyncGate()
    /// Commit, read and replay counters (``EngineMetrics``).
    let metrics = EngineMetrics()
    /// The check client commits pass (``CommitAdmission``): the daemon's quotas; `nil` in an engine without them.
    let admission = Mutex<(any CommitAdmission)?>(nil)
    /// What runs after each background compaction (``setCompactionFollowUp(_:)``): the daemon's artifact collection.
    let compactionFollowUp = Mutex<(@Sendable ([CompactionReport]) async -> Void)?>(nil)
    /// 0 before ``run()``, 1 while it runs the commit pipeline, 2 after (``isRunning``).
    private let runPhase = Atomic<UInt8>(0)

    var limits: EngineLimits { self.configuration.limits }

    /// Creates an engine over `backend`.
    ///
    /// - Parameters:
    ///   - backend: where state is stored; the engine closes it when ``run()`` ends.
    ///   - configuration: limits and pipeline settings.
    ///   - clock: wall and monotonic time; inject a ``ManualClock`` in tests.
    ///   - logger: receives transaction lifecycle logs (info for lifecycle, debug for per-operation detail).
    public init(
        backend: any StorageBackend,
        configuration: EngineConfiguration = EngineConfiguration(),
        clock: any StatehouseClock = SystemClock(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.backend = backend
        self.clock = clock
        self.logger = logger
        self.signer = configuration.signer ?? TreeHeadSigner()
        self.transactions = TransactionTable(
            limits: configuration.limits,
            finishedMemory: configuration.finishedTransactionMemory
        )
        self.hub = WatchHub(maxWatchers: configuration.limits.maxWatchers, sharedLog: backend is any SharedLogStorage)
        self.pipeline = CommitPipeline(
            backend: backend,
            hub: self.hub,
            clock: clock,
            maxBatchTransactions: configuration.maxBatchTransactions,
            maxBatchBytes: max(configuration.limits.maxTransactionBytes, 64 << 20),
            metrics: self.metrics,
            logger: logger
        )
    }

    /// Runs the commit pipeline and the transaction reaper until the task is cancelled.
    ///
    /// On cancellation it stops taking new commits, finishes every commit already queued, ends watches with
    /// ``StatehouseModel/StatehouseError/unavailable(_:)`` and closes the backend. Commits submitted before `run()`
    /// starts wait for it.
    public func run() async {
        self.runPhase.store(1, ordering: .releasing)
        defer { self.runPhase.store(2, ordering: .releasing) }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.runReaper() }
            group.addTask { await self.runSnapshotSweeper() }
            group.addTask { await self.runExpirySweeper() }
            group.addTask { await self.runCompactor() }
            if let sequencer = self.hub.sequencer, let shared = self.backend as? any SharedLogStorage {
                let hub = self.hub
                group.addTask {
                    await sequencer.run(
                        backend: shared, logger: self.logger, isWatched: { hub.isWatched($0) },
                        deliver: { hub.deliver($0) })
                }
                group.addTask {
                    for await change in shared.logChanges() {
                        sequencer.submit(.moved(namespace: change.namespace, commitTS: change.commitTS))
                    }
                }
            }
            await self.pipeline.run()
            group.cancelAll()
        }
        self.endWatches()
        await self.backend.close()
        self.logger.info("Engine stopped")
    }

    private func runReaper() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: self.configuration.reapInterval)
            } catch {
                return
            }
            self.reapExpiredTransactions()
        }
    }

    /// Deletes expired snapshots every ``EngineConfiguration/snapshotSweepInterval``; a failed sweep is logged and
    /// tried again at the next tick (listings already leave expired snapshots out).
    private func runSnapshotSweeper() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: self.configuration.snapshotSweepInterval)
            } catch {
                return
            }
            do {
                let swept = try await self.sweepExpiredSnapshots()
                if swept > 0 { self.logger.info("Swept expired snapshots", metadata: ["snapshots": "\(swept)"]) }
            } catch {
                self.logger.warning("Sweeping expired snapshots failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Whether ``run()`` is running: commits are being applied (a readiness probe's question).
    public var isRunning: Bool { self.runPhase.load(ordering: .acquiring) == 1 }

    /// Ends every watch with ``StatehouseModel/StatehouseError/unavailable(_:)`` and refuses new ones.
    ///
    /// The first step of a graceful shutdown: a watch otherwise waits for the next commit forever, and a server that
    /// finishes its in-flight calls before stopping would wait with it.
    public func endWatches() {
        self.hub.close(with: .unavailable("Statehouse is shutting down; reconnect and resume the watch"))
    }

    /// Rolls back every interactive transaction whose deadline passed and frees its memory.
    ///
    /// - Returns: the ids of the transactions that expired.
    @discardableResult
    public func reapExpiredTransactions() -> [String] {
        let now = self.clock.monotonicNanoseconds()
        let expired = self.transactions.withState { $0.reapExpired(now: now) }
        for id in expired {
            self.logger.info("Transaction expired", metadata: ["txn.id": "\(id)"])
        }
        return expired
    }

    /// Number of interactive transactions currently open.
    public var openTransactionCount: Int { self.transactions.openCount }

    /// Number of watch subscriptions currently holding a slot.
    public var watcherCount: Int { self.hub.subscriberCount }

    /// Number of watch subscriptions that caught up and receive live events.
    public var liveWatcherCount: Int { self.hub.registeredCount }
}

extension StatehouseEngine {
    func validateNamespace(_ namespace: String) throws {
        try NameValidation.validateNamespace(namespace, limits: self.limits)
    }

    func validateAddress(namespace: String, agentID: String, key: String) throws {
        try NameValidation.validateNamespace(namespace, limits: self.limits)
        try NameValidation.validateAgentID(agentID, limits: self.limits)
        try NameValidation.validateKey(key, limits: self.limits)
    }

    /// Validates an operation's names and value against the limits.
    func validate(_ operation: WriteOperation) throws {
        try NameValidation.validateAgentID(operation.agentID, limits: self.limits)
        guard !ReservedNames.isReserved(operation.agentID) else {
            throw StatehouseError.invalidArgument(
                "agent_id '\(operation.agentID.prefix(64))' is reserved: agent ids starting with '@' hold Statehouse's "
                    + "own records (agents, snapshots); use the agent and snapshot calls to change them")
        }
        try self.validateUnreserved(operation)
        if let expiresAt = operation.expiresAt {
            let now = self.clock.wallMicroseconds()
            guard expiresAt > now else {
                throw StatehouseError.invalidArgument(
                    "expires_at \(expiresAt) of key '\(operation.key.prefix(64))' is not in the future (now is \(now))")
            }
        }
    }

    /// Validates an operation's key and value (the agent id was checked by the caller).
    func validateUnreserved(_ operation: WriteOperation) throws {
        try NameValidation.validateKey(operation.key, limits: self.limits)
        switch operation.kind {
        case .put:
            guard let value = operation.value else {
                throw StatehouseError.invalidArgument("a put needs a value")
            }
            guard value.utf8.count <= self.limits.maxValueBytes else {
                throw StatehouseError.invalidArgument(
                    "value of key '\(operation.key.prefix(64))' is \(value.utf8.count) bytes; "
                        + "the limit is \(self.limits.maxValueBytes) bytes: store large content as an artifact "
                        + "(PutArtifact, statehousectl artifact put) and keep its SHA-256 in the value"
                )
            }
        case .delete:
            guard operation.value == nil else {
                throw StatehouseError.invalidArgument("a delete takes no value")
            }
        }
    }

    func validate(_ metadata: CommitMetadata) throws {
        let maxBytes = self.limits.maxMetadataStringBytes
        if let actor = metadata.actor {
            try NameValidation.validateText(actor, field: "metadata actor", maxBytes: maxBytes, allowEmpty: true)
        }
        if let reason = metadata.reason {
            try NameValidation.validateText(reason, field: "metadata reason", maxBytes: maxBytes, allowEmpty: true)
        }
        guard metadata.tags.count <= self.limits.maxMetadataTags else {
            throw StatehouseError.invalidArgument(
                "metadata has \(metadata.tags.count) tags; the limit is \(self.limits.maxMetadataTags)"
            )
        }
        for (key, value) in metadata.tags {
            try NameValidation.validateText(key, field: "metadata tag name", maxBytes: maxBytes, allowEmpty: false)
            try NameValidation.validateText(value, field: "metadata tag value", maxBytes: maxBytes, allowEmpty: true)
        }
    }

    func validatePageSize(_ limit: Int) throws -> Int {
        guard limit >= 1 && limit <= self.limits.maxPageSize else {
            throw StatehouseError.invalidArgument(
                "page size must be between 1 and \(self.limits.maxPageSize); got \(limit)"
            )
        }
        return limit
    }
}
