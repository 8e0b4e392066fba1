import CSQLite
import Foundation
public import Logging
public import StatehouseCore

/// The embedded default store: one SQLite database in WAL mode with `synchronous=FULL`.
///
/// One writer thread owns the only write connection and applies each commit batch in one SQLite transaction (one
/// fsync); a pool of read-only connections on their own threads serves every read, so reads never wait for the
/// writer. Open it with ``open(configuration:logger:)``.
public final class SQLiteBackend: StorageBackend {
    let writer: SQLiteWorkerPool<SQLiteWriter>
    let readers: SQLiteWorkerPool<SQLiteReader>
    private let lock: DataDirectoryLock?
    /// The database file; `nil` for a store in memory.
    let databasePath: String?
    let logger: Logger
    private let closeState = CloseFlag()

    private init(
        writer: SQLiteWorkerPool<SQLiteWriter>,
        readers: SQLiteWorkerPool<SQLiteReader>,
        lock: DataDirectoryLock?,
        databasePath: String?,
        logger: Logger
    ) {
        self.writer = writer
        self.readers = readers
        self.lock = lock
        self.databasePath = databasePath
        self.logger = logger
    }

    /// Opens (creating if needed) the database, applies migrations and starts the writer and reader threads.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/unavailable(_:)`` with a one-line cause: the directory cannot be
    ///   created or written, it is locked by another process, the file is not a Statehouse database or is corrupt, or
    ///   its schema is newer than this build.
    public static func open(configuration: SQLiteConfiguration, logger: Logger) async throws -> SQLiteBackend {
        // Opening does blocking file I/O; do it on a thread of its own rather than the cooperative pool.
        let opened = try await withCheckedThrowingContinuation {
            (
                continuation: CheckedContinuation<
                    UncheckedBox<(SQLiteWriter, [SQLiteReader], DataDirectoryLock?)>, any Error
                >
            ) in
            let thread = Thread {
                continuation.resume(with: Result { UncheckedBox(try Self.openConnections(configuration, logger)) })
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        let (writerContext, readerContexts, lock) = opened.value
        let readers = SQLiteWorkerPool(
            name: "statehouse-sqlite-reader",
            contexts: readerContexts,
            spinNanoseconds: UInt64(max(0, configuration.readerIdleSpin.nanoseconds))
        )
        // Before the writer thread starts, which owns the checkpointer from then on.
        writerContext.checkpointer.readers = readers
        return SQLiteBackend(
            writer: SQLiteWorkerPool(
                name: "statehouse-sqlite-writer",
                contexts: [writerContext],
                spinNanoseconds: UInt64(max(0, configuration.writerIdleSpin.nanoseconds))
            ),
            readers: readers,
            lock: lock,
            databasePath: configuration.location.databasePath,
            logger: logger
        )
    }

    private static func openConnections(
        _ configuration: SQLiteConfiguration,
        _ logger: Logger
    ) throws -> (SQLiteWriter, [SQLiteReader], DataDirectoryLock?) {
        let path: String
        var lock: DataDirectoryLock?
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        switch configuration.location {
        case .memory:
            var generator = SystemRandomNumberGenerator()
            path = "file:/statehouse-memory-\(generator.next() as UInt64)?vfs=memdb"
            flags |= SQLITE_OPEN_URI
        case .directory(let directory):
            try Self.prepareDirectory(directory)
            lock = try DataDirectoryLock(directory: directory)
            path = directory + "/" + SQLiteConfiguration.databaseFileName
        }
        do {
            let writerConnection = try SQLiteConnection(path: path, flags: flags)
            try Self.configure(writerConnection, configuration, isWriter: true)
            if configuration.checkOnOpen, case .directory = configuration.location {
                try Self.checkIntegrity(writerConnection, logger)
            }
            let applied = try SQLiteSchema.migrate(writerConnection, now: SystemClock().wallMicroseconds())
            if !applied.isEmpty {
                logger.info("Applied schema migrations", metadata: ["migrations": "\(applied)"])
            }
            let writer = try SQLiteWriter(
                connection: writerConnection, searchState: configuration.searchState, logger: logger)
            var readers: [SQLiteReader] = []
            for _ in 0..<max(1, configuration.readerCount) {
                let connection = try SQLiteConnection(path: path, flags: flags & ~SQLITE_OPEN_CREATE)
                try Self.configure(connection, configuration, isWriter: false)
                readers.append(SQLiteReader(connection: connection, clock: configuration.clock))
            }
            return (writer, readers, lock)
        } catch let error as SQLiteError {
            lock?.release()
            logger.error("Cannot open the database", metadata: ["error": "\(error)"])
            switch error.code & 0xFF {
            case SQLITE_NOTADB, SQLITE_CORRUPT:
                throw StatehouseError.unavailable(
                    "the database file in the data directory is corrupt or not a Statehouse database; "
                        + Self.recoveryHint
                )
            case SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM:
                throw StatehouseError.unavailable(
                    "the database file in the data directory cannot be opened for writing")
            default:
                throw StatehouseError.unavailable("cannot open the database: \(error.description)")
            }
        } catch {
            lock?.release()
            throw error
        }
    }

    static let recoveryHint = "restore it from a backup (docs/operations.md, \"Recovery\")"

    /// Refuses a database file whose pages do not hold together (truncated, overwritten, bit rot), so that the daemon
    /// never starts serving from it.
    private static func checkIntegrity(_ connection: SQLiteConnection, _ logger: Logger) throws {
        let started = ContinuousClock.now
        let result = try connection.scalarText("PRAGMA quick_check(1)") ?? "no answer"
        guard result == "ok" else {
            logger.error("The database failed its integrity check", metadata: ["quick_check": "\(result)"])
            throw StatehouseError.unavailable(
                "the database file in the data directory is corrupt (integrity check: \(result.prefix(120))); "
                    + Self.recoveryHint
            )
        }
        logger.info("Integrity check passed", metadata: ["duration": "\(ContinuousClock.now - started)"])
    }

    private static func prepareDirectory(_ directory: String) throws {
        // mkdir one level at a time, so that the error names the level that failed and why (errno), which
        // FileManager's error does not.
        var path = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") {
            path += (path.isEmpty || path.hasSuffix("/") ? "" : "/") + component
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                let reason = String(cString: strerror(errno))
                let level = path == directory ? "" : " (at \(path))"
                throw StatehouseError.unavailable("cannot create data directory \(directory)\(level): \(reason)")
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StatehouseError.unavailable("cannot use data directory \(directory): it is not a directory")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw StatehouseError.unavailable("data directory \(directory) is not writable")
        }
    }

    private static func configure(
        _ connection: SQLiteConnection,
        _ configuration: SQLiteConfiguration,
        isWriter: Bool
    ) throws {
        try connection.execute("PRAGMA busy_timeout = 10000")
        try connection.execute("PRAGMA cache_size = -\(configuration.cacheSizeKiB)")
        if configuration.location != .memory && isWriter {
            let mode = try connection.scalarText("PRAGMA journal_mode = WAL")
            guard mode?.lowercased() == "wal" else {
                throw SQLiteError(code: SQLITE_ERROR, message: "cannot switch to WAL mode (got \(mode ?? "nil"))")
            }
            // A checkpoint that starts the WAL over leaves the file at its largest size; this truncates it back,
            // so one burst (a bulk load, a checkpoint held off by a long read) does not keep its disk space.
            try connection.execute("PRAGMA journal_size_limit = \(SQLiteConfiguration.walSizeLimitBytes)")
        }
        let synchronous = configuration.durability == .full ? "FULL" : "NORMAL"
        try connection.execute("PRAGMA synchronous = \(synchronous)")
        if !isWriter {
            try connection.execute("PRAGMA query_only = 1")
        }
        // Touch the schema so that a file that is not a database fails here, at open.
        _ = try connection.scalarText("SELECT count(*) FROM sqlite_schema")
    }

    public func close() async {
        guard self.closeState.close() else { return }
        await self.readers.shutdown()
        await self.writer.shutdown()
        self.lock?.release()
        self.logger.info("SQLite store closed")
    }

    /// Runs a writer job and maps SQLite failures to client-safe errors (logging the original).
    func onWriter<T: Sendable>(_ body: @escaping (SQLiteWriter) throws -> T) async throws -> T {
        try await self.mapErrors {
            try await self.writer.run(interruptible: false) { writer in
                defer { writer.connection.releaseStatements() }
                do {
                    return try body(writer)
                } catch let error as SQLiteError {
                    throw writer.connection.explainingIOError(error)
                }
            }
        }
    }

    /// Runs a reader job and maps SQLite failures to client-safe errors (logging the original).
    func onReader<T: Sendable>(_ body: @escaping (SQLiteReader) throws -> T) async throws -> T {
        try await self.mapErrors {
            try await self.readers.run { reader in
                defer { reader.connection.releaseStatements() }
                return try body(reader)
            }
        }
    }

    private func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SQLiteError {
            self.logger.error("Storage operation failed", metadata: ["error": "\(error)"])
            throw error.statehouseError
        }
    }
}

/// Remembers that a backend was closed, so closing twice is harmless.
private final class CloseFlag: @unchecked Sendable {
    // Safe: `closed` is only read and written while holding `lock`.
    private let lock = NSLock()
    private var closed = false

    /// Returns `true` the first time only.
    func close() -> Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        if self.closed { return false }
        self.closed = true
        return true
    }
}
