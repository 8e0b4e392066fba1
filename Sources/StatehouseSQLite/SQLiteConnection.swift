import CSQLite
import StatehouseCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SQLite's "copy this buffer now" destructor, which the C macro `SQLITE_TRANSIENT` cannot express in Swift.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A failed sqlite3 call: its result code, SQLite's message and the OS error behind it, kept for the operator's
/// log only.
struct SQLiteError: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    /// `errno` behind the failure when known, else 0: what SQLite recorded (`sqlite3_system_errno`), or what a
    /// probe of the data directory found after an I/O error (see ``SQLiteConnection/explainingIOError(_:)``). It
    /// tells a read-only filesystem (EROFS) from a failing disk, which SQLite reports alike.
    var systemErrno: Int32 = 0

    init(code: Int32, message: String, systemErrno: Int32 = 0) {
        self.code = code
        self.message = message
        self.systemErrno = systemErrno
    }

    /// The error SQLite last reported on `connection`, with the OS error behind it.
    init(code: Int32, connection: OpaquePointer) {
        self.init(
            code: code,
            message: String(cString: sqlite3_errmsg(connection)),
            systemErrno: sqlite3_system_errno(connection)
        )
    }

    var description: String {
        let system =
            self.systemErrno == 0 ? "" : " (errno \(self.systemErrno): \(String(cString: strerror(self.systemErrno))))"
        return "SQLite error \(self.code): \(self.message)\(system)"
    }

    private static let diskFull = "the disk holding the data directory is full; free space and retry"

    /// The client-safe error for this failure: no SQL, no paths, no stored values.
    var statehouseError: StatehouseError {
        switch self.code & 0xFF {
        case SQLITE_FULL:
            return .resourceExhausted(Self.diskFull)
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM:
            return .unavailable("the data directory is not writable; the store cannot accept writes")
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return .dataCorruption(
                commitTS: 0,
                reason:
                    "the database file is corrupt; stop the daemon, run statehousectl verify and restore from a backup"
            )
        case SQLITE_BUSY, SQLITE_LOCKED:
            return .unavailable("the store is busy; retry")
        case SQLITE_IOERR where self.systemErrno == EROFS:
            return .unavailable(
                "the filesystem holding the data directory has become read-only; reads go on, writes are refused "
                    + "until it is repaired and the daemon restarted"
            )
        case SQLITE_IOERR where self.systemErrno == ENOSPC || self.systemErrno == EDQUOT:
            return .resourceExhausted(Self.diskFull)
        case SQLITE_IOERR:
            return .unavailable("the store had an I/O error; retry later")
        case SQLITE_INTERRUPT:
            return .unavailable("the read was interrupted")
        default:
            return .internalError("internal storage error")
        }
    }
}

/// `close(2)`, under a name that the connection's own `close()` does not shadow.
private func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}

/// One SQLite connection, confined to the thread of the worker that owns it.
///
/// Not `Sendable`: a connection is only touched by its worker thread (see ``SQLiteWorkerPool``). Prepared
/// statements are cached by SQL text, so hot paths never re-parse SQL.
final class SQLiteConnection {
    let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    /// Library-wide settings, made once before the first connection opens (they must precede SQLite's initialization).
    private static let configureLibrary: Void = {
        _ = statehouse_sqlite3_disable_memory_statistics()
    }()

    /// Opens `path` with `flags` (the connection is used from one thread at a time, so SQLite's own mutexes
    /// are off).
    init(path: String, flags: Int32) throws {
        _ = Self.configureLibrary
        var handle: OpaquePointer?
        let result = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard result == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteError(code: result, message: message)
        }
        self.handle = handle
        self.interruptHandle = SQLiteInterruptHandle(handle: handle)
        sqlite3_extended_result_codes(handle, 1)
        // Every 1,000 virtual-machine steps, a raised interrupt stops the statement: this catches an interrupt raised
        // between two statements of a job, which `sqlite3_interrupt` alone would lose (SQLite clears it when a
        // statement starts while none runs).
        sqlite3_progress_handler(
            handle, 1000,
            { context in
                guard let context else { return 0 }
                return Unmanaged<SQLiteInterruptHandle>.fromOpaque(context).takeUnretainedValue().isRaised ? 1 : 0
            }, Unmanaged.passUnretained(self.interruptHandle).toOpaque())
    }

    deinit {
        self.close()
    }

    private var closed = false

    /// What another thread may use to stop the statements this connection runs for a job.
    let interruptHandle: SQLiteInterruptHandle

    func close() {
        guard !self.closed else { return }
        self.closed = true
        for statement in self.statements.values { statement.finalize() }
        self.statements = [:]
        sqlite3_close_v2(self.handle)
    }

    /// `error`, with its OS cause filled in when SQLite reported an I/O error without one.
    ///
    /// SQLite records no errno for a write that fails while committing, yet the client and the operator need to
    /// know whether the filesystem went read-only (EROFS) or the disk is failing: creating (and removing) an empty
    /// file beside the database tells. Runs on the connection's thread, on the error path only.
    func explainingIOError(_ error: SQLiteError) -> SQLiteError {
        guard error.code & 0xFF == SQLITE_IOERR, error.systemErrno == 0,
            let name = sqlite3_db_filename(self.handle, "main"), name.pointee != 0
        else { return error }
        let probe = String(cString: name) + "-write-probe"
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor < 0 else {
            closeDescriptor(descriptor)
            unlink(probe)
            return error
        }
        var explained = error
        explained.systemErrno = errno
        return explained
    }

    func error(_ code: Int32) -> SQLiteError {
        SQLiteError(code: code, connection: self.handle)
    }

    /// Runs SQL that returns no rows (may contain several statements).
    func execute(_ sql: String) throws {
        let result = sqlite3_exec(self.handle, sql, nil, nil, nil)
        guard result == SQLITE_OK else { throw self.error(result) }
    }

    /// Runs a single-row, single-column query and returns its text (for PRAGMAs).
    func scalarText(_ sql: String) throws -> String? {
        let statement = try self.prepare(sql)
        defer { statement.finalize() }
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.text(0)
    }

    /// Statements handed out since the last ``releaseStatements()``.
    private var inUse: [SQLiteStatement] = []

    /// A cached prepared statement for `sql`, reset and with its bindings cleared.
    ///
    /// The statement stays "in use" until ``releaseStatements()``, which every job calls when it ends: a statement
    /// left mid-iteration would keep a read transaction (and so an old snapshot) open on this connection.
    func statement(_ sql: String) throws -> SQLiteStatement {
        let statement: SQLiteStatement
        if let cached = self.statements[sql] {
            cached.reset()
            statement = cached
        } else {
            statement = try self.prepare(sql)
            self.statements[sql] = statement
        }
        self.inUse.append(statement)
        return statement
    }

    /// Resets every statement handed out since the last call, ending any implicit read transaction.
    func releaseStatements() {
        for statement in self.inUse { statement.reset() }
        self.inUse.removeAll(keepingCapacity: true)
    }

    private func prepare(_ sql: String) throws -> SQLiteStatement {
        var handle: OpaquePointer?
        let result = sqlite3_prepare_v3(self.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard result == SQLITE_OK, let handle else { throw self.error(result) }
        return SQLiteStatement(handle: handle, connection: self.handle)
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(self.handle) }
}

/// A prepared statement; binding and column indexes are zero-based here (SQLite binds from 1).
final class SQLiteStatement {
    let handle: OpaquePointer
    private let connection: OpaquePointer

    init(handle: OpaquePointer, connection: OpaquePointer) {
        self.handle = handle
        self.connection = connection
    }

    func finalize() {
        sqlite3_finalize(self.handle)
    }

    func reset() {
        sqlite3_reset(self.handle)
        sqlite3_clear_bindings(self.handle)
    }

    /// Resets without clearing the bindings, for a statement run again with every parameter bound anew.
    func resetKeepingBindings() {
        sqlite3_reset(self.handle)
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(self.handle, index + 1, value)
    }

    func bind(_ index: Int32, _ value: UInt64) {
        sqlite3_bind_int64(self.handle, index + 1, Int64(bitPattern: value))
    }

    func bind(_ index: Int32, _ value: Bool) {
        sqlite3_bind_int64(self.handle, index + 1, value ? 1 : 0)
    }

    func bind(_ index: Int32, _ value: String) {
        var value = value
        value.withUTF8 { self.bindText(index, $0) }
    }

    /// Binds raw bytes as TEXT, without UTF-8 validation (used for range bounds above any valid key).
    func bindText(_ index: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        if bytes.isEmpty {
            sqlite3_bind_text(self.handle, index + 1, "", 0, sqliteTransient)
        } else {
            bytes.withMemoryRebound(to: CChar.self) {
                _ = sqlite3_bind_text(self.handle, index + 1, $0.baseAddress, Int32($0.count), sqliteTransient)
            }
        }
    }

    func bindTextBytes(_ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { self.bindText(index, $0) }
    }

    func bind(_ index: Int32, blob: [UInt8]?) {
        guard let blob else {
            sqlite3_bind_null(self.handle, index + 1)
            return
        }
        if blob.isEmpty {
            sqlite3_bind_zeroblob(self.handle, index + 1, 0)
            return
        }
        blob.withUnsafeBytes {
            _ = sqlite3_bind_blob(self.handle, index + 1, $0.baseAddress, Int32($0.count), sqliteTransient)
        }
    }

    func bindNull(_ index: Int32) {
        sqlite3_bind_null(self.handle, index + 1)
    }

    /// Steps once; `true` when a row is available, `false` when done.
    func step() throws -> Bool {
        let result = sqlite3_step(self.handle)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = SQLiteError(code: result, connection: self.connection)
            sqlite3_reset(self.handle)
            throw error
        }
    }

    /// Steps a statement that returns no rows.
    func run() throws {
        _ = try self.step()
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(self.handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(self.handle, column) }

    func double(_ column: Int32) -> Double { sqlite3_column_double(self.handle, column) }

    func uint64(_ column: Int32) -> UInt64 { UInt64(bitPattern: sqlite3_column_int64(self.handle, column)) }

    func bool(_ column: Int32) -> Bool { sqlite3_column_int64(self.handle, column) != 0 }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(self.handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(self.handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// A 32-byte hash column; `nil` when the stored blob has another length (tampered or corrupt).
    func hash(_ column: Int32) -> EventHash? {
        guard let pointer = sqlite3_column_blob(self.handle, column), sqlite3_column_bytes(self.handle, column) == 32
        else { return nil }
        return EventHash(unsafeBytes: pointer)
    }

    func bind(_ index: Int32, hash: EventHash) {
        self.bind(index, blob: hash.bytes)
    }

    func blob(_ column: Int32) -> [UInt8] {
        guard let pointer = sqlite3_column_blob(self.handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(self.handle, column))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count).bindMemory(to: UInt8.self))
    }
}

/// Stops the statements a connection runs, from any thread, with `SQLITE_INTERRUPT`, until lowered.
///
/// Raising it interrupts the running statement at once (`sqlite3_interrupt`) and, through the connection's progress
/// handler, every statement started after it, until the job ends and lowers it (see `JobCancellation`).
final class SQLiteInterruptHandle: @unchecked Sendable {
    // Safe: `sqlite3_interrupt` is the one SQLite call documented as safe from another thread while the connection
    // is in use; the handle is used for nothing else, and only while its job runs. `raised` is atomic.
    private let handle: OpaquePointer
    private let raised = Atomic<Bool>(false)

    fileprivate init(handle: OpaquePointer) {
        self.handle = handle
    }

    fileprivate var isRaised: Bool { self.raised.load(ordering: .relaxed) }

    func interrupt() {
        self.raised.store(true, ordering: .relaxed)
        sqlite3_interrupt(self.handle)
    }

    /// Lets the connection's next statements run; called when the interrupted job has ended.
    func lower() {
        self.raised.store(false, ordering: .relaxed)
    }
}
