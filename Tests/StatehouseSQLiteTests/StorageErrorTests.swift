import CSQLite
import StatehouseCore
import Testing

@testable import StatehouseSQLite

#if canImport(Glibc)
import Glibc
import StatehouseTesting
#endif

/// What a client is told when SQLite fails: the cause an operator can act on, never SQL or paths.
@Suite("Storage errors")
struct StorageErrorTests {
    // SQLite's extended codes are macros Swift does not import.
    let SQLITE_IOERR_WRITE = SQLITE_IOERR | (3 << 8)
    let SQLITE_IOERR_FSYNC = SQLITE_IOERR | (4 << 8)

    @Test("A write that fails on a read-only filesystem says so")
    func readOnlyFilesystem() {
        let error = SQLiteError(code: SQLITE_IOERR_WRITE, message: "disk I/O error", systemErrno: EROFS)
        guard case .unavailable(let message) = error.statehouseError else {
            Issue.record("expected unavailable, got \(error.statehouseError)")
            return
        }
        #expect(message.contains("read-only"))
        #expect(error.description.contains("Read-only file system"))
    }

    @Test("A disk that fills up mid-write is resource exhaustion, however SQLite reports it")
    func fullDisk() {
        for error in [
            SQLiteError(code: SQLITE_FULL, message: "database or disk is full"),
            SQLiteError(code: SQLITE_IOERR_WRITE, message: "disk I/O error", systemErrno: ENOSPC),
        ] {
            guard case .resourceExhausted(let message) = error.statehouseError else {
                Issue.record("expected resource exhausted for \(error), got \(error.statehouseError)")
                continue
            }
            #expect(message.contains("full"))
        }
    }

    @Test("Any other I/O error is retryable unavailability without the OS detail")
    func otherIOError() {
        let error = SQLiteError(code: SQLITE_IOERR_FSYNC, message: "disk I/O error", systemErrno: EIO)
        #expect(error.statehouseError == .unavailable("the store had an I/O error; retry later"))
        #expect(error.description.contains("errno \(EIO)"))
    }

    @Test("The probe beside an in-memory database leaves an I/O error as it was")
    func probeWithoutAFile() throws {
        let connection = try SQLiteConnection(
            path: ":memory:",
            flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        )
        let error = SQLiteError(code: SQLITE_IOERR_WRITE, message: "disk I/O error")
        #expect(connection.explainingIOError(error).systemErrno == 0)
    }
}
