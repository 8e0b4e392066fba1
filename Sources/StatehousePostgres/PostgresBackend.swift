public import Logging
import PostgresNIO
public import StatehouseCore
public import StatehouseLedger
public import StatehouseModel
import Synchronization

/// The PostgreSQL store (docs/architecture.md, "PostgreSQL"): the same rows as SQLite's, in a database that several
/// daemons share.
///
/// Any daemon commits to any namespace. A commit batch is one database transaction that first locks the heads of
/// the namespaces it writes (`SELECT … FOR UPDATE` on their rows, in name order so that two daemons never wait on each
/// other in a cycle), then reads what ``CommitResolver`` will ask about (``PostgresCommitState``) and stores what it
/// decided. Under the lock each statement sees every commit made before it, whichever daemon made it, so commit_ts
/// stays gap-free and the chain and tree stay whole across daemons; the same SQL needs no advisory locks and so can run
/// on PostgreSQL-compatible distributed databases. Group commit stays per daemon (``CommitPipeline``).
public final class PostgresBackend: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// "Now" for reads of the latest state: a put whose expiry has passed reads as deleted.
    let clock: any StatehouseClock
    /// Whether puts to user agents get full-text documents (``PostgresSearchIndex``), as SQLite's
    /// `SQLiteConfiguration.searchState`; agent events and commit metadata always do.
    let searchState: Bool
    /// How long a request may wait for the database (a connection, then its statements) before it fails with
    /// UNAVAILABLE: postgres-nio's pool queues a request for as long as no connection can be made, and a daemon whose
    /// database is down must answer its clients, not hang them.
    let requestTimeout: Duration
    private let runner: Task<Void, Never>
    /// The Merkle frontier of each namespace this daemon last committed to, with the head it belongs to. Another
    /// daemon's commit moves the head, and the frontier is then read again from the stored nodes.
    let frontiers = Mutex<[String: (head: LogHead, frontier: MerkleFrontier)]>([:])
    /// Namespaces whose row this daemon has seen committed. Rows are never deleted, so a batch whose namespaces are
    /// all here locks their heads without first inserting them (one round trip less per batch).
    let knownNamespaces = Mutex<Set<String>>([])
    /// What this daemon knows of each namespace at the head its last commit made, to decide the next batch without
    /// reading (``PostgresCommitCache``).
    let commitCaches = Mutex(PostgresCommitCaches())
    private let cachedBatches = Atomic<Int>(0)

    /// Commit batches this daemon decided from its cache and stored with one statement (the others locked the heads).
    public var batchesCommittedFromCache: Int { self.cachedBatches.load(ordering: .relaxed) }

    func countBatchCommittedFromCache() { self.cachedBatches.add(1, ordering: .relaxed) }

    /// Connects (the client's pool of `settings`), and brings the schema up to date.
    ///
    /// `searchState` indexes the string values of state writes for full-text search (off by default: the documents
    /// cost every commit that writes text, which a deployment that never searches state should not pay); turning it
    /// off later stops indexing and leaves what was indexed findable.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/unavailable(_:)`` when the database cannot be reached or holds a
    ///   schema newer than this build.
    public init(
        settings: PostgresConnectionSettings, clock: any StatehouseClock = SystemClock(), searchState: Bool = false,
        requestTimeout: Duration = .seconds(30), logger: Logger
    ) async throws {
        var configuration = settings.clientConfiguration()
        // A transaction its daemon gave up on (past the request timeout, or on a connection that broke) must not keep
        // a namespace's head locked for every daemon: waits for a lock end at the request timeout, and a transaction
        // left idle ends at twice that.
        let milliseconds = requestTimeout.components.seconds * 1000
        configuration.options.additionalStartupParameters += [
            ("lock_timeout", "\(milliseconds)"), ("idle_in_transaction_session_timeout", "\(2 * milliseconds)"),
        ]
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.clock = clock
        self.searchState = searchState
        self.requestTimeout = requestTimeout
        let client = self.client
        self.runner = Task { await client.run() }
        do {
            try await Self.withinDeadline(requestTimeout, "opening the store at \(settings)") {
                try await PostgresSchema.migrate(client, logger: logger)
            }
        } catch {
            self.runner.cancel()
            throw error
        }
        logger.info("PostgreSQL store opened", metadata: ["database": "\(settings)"])
    }

    /// Closes the pool's connections.
    public func close() async {
        self.runner.cancel()
        _ = await self.runner.value
    }

    /// Runs `body` in one database transaction, PostgreSQL's errors translated (naming `what`), within
    /// ``requestTimeout``.
    func transaction<Result: Sendable>(
        _ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await Self.withinDeadline(self.requestTimeout, what) {
            try await PostgresErrors.translating(what) {
                try await self.client.withTransaction(logger: self.logger) { connection in
                    try await body(connection)
                }
            }
        }
    }

    /// Runs `body` in a read-only transaction that sees one snapshot of the database (REPEATABLE READ): a read made
    /// of several statements sees no commit made between them, as a SQLite reader's snapshot.
    func snapshot<Result: Sendable>(
        _ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.transaction(what) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: self.logger)
            return try await body(connection)
        }
    }

    /// Runs `body` on a pooled connection outside a transaction: each statement commits on its own, durably (the
    /// session's `synchronous_commit`), within ``requestTimeout``.
    func autocommit<Result: Sendable>(
        _ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.read(what, body)
    }

    /// Runs `body` on a pooled connection outside a transaction (each statement its own snapshot), within
    /// ``requestTimeout``.
    func read<Result: Sendable>(
        _ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await Self.withinDeadline(self.requestTimeout, what) {
            try await PostgresErrors.translating(what) {
                try await self.client.withConnection { connection in try await body(connection) }
            }
        }
    }

    /// Runs `body`, failing with UNAVAILABLE once `timeout` passed, whether or not the body notices: it is cancelled
    /// and left to finish on its own. (A task group would wait for it, and a statement on a connection that broke in
    /// the middle of a startup exchange was seen to hang there, holding the commit pipeline.)
    static func withinDeadline<Result: Sendable>(
        _ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let work = Task { try await body() }
        let answered = OnceFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
                let answer: @Sendable (Swift.Result<Result, any Error>) -> Void = { result in
                    if answered.claim() { continuation.resume(with: result) }
                }
                let timer = Task {
                    try await Task.sleep(for: timeout)
                    work.cancel()
                    answer(
                        .failure(
                            StatehouseError.unavailable(
                                "PostgreSQL did not answer within \(timeout.components.seconds) s while \(what)")))
                }
                Task {
                    let result = await work.result
                    timer.cancel()  // a finished request must not keep a sleeping timer (and its result) around
                    answer(result)
                }
            }
        } onCancel: {
            work.cancel()
        }
    }
}

/// True for the first caller of ``claim()`` only.
private final class OnceFlag: Sendable {
    private let claimed = Mutex(false)

    func claim() -> Bool {
        self.claimed.withLock { claimed in
            defer { claimed = true }
            return !claimed
        }
    }
}
