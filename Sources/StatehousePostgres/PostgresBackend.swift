public import Logging
import PostgresNIO
import StatehouseCore
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
    private let runner: Task<Void, Never>
    /// The Merkle frontier of each namespace this daemon last committed to, with the head it belongs to. Another
    /// daemon's commit moves the head, and the frontier is then read again from the stored nodes.
    let frontiers = Mutex<[String: (head: LogHead, frontier: MerkleFrontier)]>([:])

    /// Connects (the client's pool of `settings`), and brings the schema up to date.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/unavailable(_:)`` when the database cannot be reached or holds a
    ///   schema newer than this build.
    public init(settings: PostgresConnectionSettings, logger: Logger) async throws {
        self.client = PostgresClient(configuration: settings.clientConfiguration(), backgroundLogger: logger)
        self.logger = logger
        let client = self.client
        self.runner = Task { await client.run() }
        do {
            try await PostgresSchema.migrate(client, logger: logger)
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

    /// Runs `body` in one database transaction, PostgreSQL's errors translated (naming `what`).
    func transaction<Result: Sendable>(
        _ what: String, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await PostgresErrors.translating(what) {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await body(connection)
            }
        }
    }

    /// Runs `body` on a pooled connection outside a transaction (each statement its own snapshot).
    func read<Result: Sendable>(
        _ what: String, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await PostgresErrors.translating(what) {
            try await self.client.withConnection { connection in try await body(connection) }
        }
    }
}
