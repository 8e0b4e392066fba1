import CSQLite
import Foundation
import Logging
import StatehouseCore
import StatehouseTesting
import Synchronization
import Testing

@testable import StatehouseSQLite

/// The reader pool can be held back for a moment, and the WAL checkpointer does so only when waiting alone failed;
/// cancelling a caller stops its job. (Tests wait for jobs asynchronously: blocking one of the two cooperative threads
/// on a semaphore can starve the task that would enqueue the job.)
@Suite("Reader pause for WAL restarts", .timeLimit(.minutes(1)))
struct ReaderPauseTests {
    final class Context: SQLiteConnectionOwner {
        let connection: SQLiteConnection
        init() throws {
            self.connection = try SQLiteConnection(path: ":memory:", flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        }
    }

    @Test("a pause waits for running jobs, holds back new ones until resumed, and loses none")
    func pauseHoldsNewJobs() async throws {
        let pool = SQLiteWorkerPool(name: "pause-test", contexts: [try Context(), try Context()])
        let release = DispatchSemaphore(value: 0)
        let (started, jobStarted) = AsyncStream<Void>.makeStream()
        let running = Task {
            try await pool.run { _ in
                jobStarted.yield()
                release.wait()
            }
        }
        await started.first { true }
        // A job is running: the pause reports that it could not get an idle pool in time.
        #expect(pool.pauseJobs(waitingUpTo: .milliseconds(20)) == false)
        release.signal()
        try await running.value
        #expect(pool.pauseJobs(waitingUpTo: .seconds(10)) == true)

        let ran = Counter()
        let held = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 { group.addTask { try await pool.run { _ in ran.increment() } } }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(ran.value == 0, "a job ran while the pool was paused")
        pool.resumeJobs()
        try await held.value
        #expect(ran.value == 8)
        await pool.shutdown()
    }

    /// A query that never ends on its own.
    static let endlessQuery = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

    @Test("cancelling the caller interrupts its running statement, and the thread serves the next job")
    func cancellationInterrupts() async throws {
        let pool = SQLiteWorkerPool(name: "cancel-test", contexts: [try Context()])
        let (started, jobStarted) = AsyncStream<Void>.makeStream()
        let endless = Task {
            try await pool.run { context in
                jobStarted.yield()
                try context.connection.execute(Self.endlessQuery)
            }
        }
        await started.first { true }
        endless.cancel()
        await #expect(throws: CancellationError.self) { try await endless.value }
        // The one thread is free again, and its connection is not left interrupted.
        #expect(try await pool.run { try $0.connection.scalarText("SELECT 40 + 2") } == "42")
        await pool.shutdown()
    }

    @Test("a cancellation that comes between two statements of a job stops the next one")
    func cancellationBetweenStatements() async throws {
        let pool = SQLiteWorkerPool(name: "cancel-between", contexts: [try Context()])
        let (started, jobStarted) = AsyncStream<Void>.makeStream()
        let proceed = DispatchSemaphore(value: 0)
        let endless = Task {
            try await pool.run { context in
                _ = try context.connection.scalarText("SELECT 1")
                jobStarted.yield()
                proceed.wait()  // no statement runs now: sqlite3_interrupt alone would be lost
                try context.connection.execute(Self.endlessQuery)
            }
        }
        await started.first { true }
        endless.cancel()  // runs the cancellation handler before it returns
        proceed.signal()
        await #expect(throws: CancellationError.self) { try await endless.value }
        #expect(try await pool.run { try $0.connection.scalarText("SELECT 40 + 2") } == "42")
        await pool.shutdown()
    }

    @Test("a job whose caller was cancelled while it waited never runs")
    func cancellationBeforeStart() async throws {
        let pool = SQLiteWorkerPool(name: "cancel-queued", contexts: [try Context()])
        let release = DispatchSemaphore(value: 0)
        let (started, jobStarted) = AsyncStream<Void>.makeStream()
        let blocking = Task {
            try await pool.run { _ in
                jobStarted.yield()
                release.wait()
            }
        }
        await started.first { true }
        let ran = Counter()
        let queued = Task { try await pool.run { _ in ran.increment() } }
        // Cancel only once the job is in the queue: the pool counts it there.
        while pool.queuedJobs == 0 { try await Task.sleep(for: .milliseconds(1)) }
        queued.cancel()
        release.signal()
        try await blocking.value
        await #expect(throws: CancellationError.self) { try await queued.value }
        #expect(ran.value == 0)
        await pool.shutdown()
    }

    final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        func increment() { _ = self.count.add(1, ordering: .relaxed) }
        var value: Int { self.count.load(ordering: .relaxed) }
    }

    final class RecordingPause: JobPausing, @unchecked Sendable {
        // Only touched from the test's own thread (the checkpointer runs synchronously here).
        var events: [String] = []
        func pauseJobs(waitingUpTo timeout: Duration) -> Bool {
            self.events.append("pause")
            return true
        }
        func resumeJobs() { self.events.append("resume") }
    }

    @Test("the checkpoint a commit calls for runs after the writer's job, not inside its COMMIT")
    func checkpointAfterJob() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/wal.db"
            let connection = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            defer { connection.close() }
            #expect(try connection.scalarText("PRAGMA journal_mode = WAL") == "wal")
            let checkpointer = WALCheckpointer(connection: connection, logger: Logger(label: "test"))
            try connection.execute("CREATE TABLE t(v BLOB)")
            // One commit of about 1,200 pages: past the 1,000 frames that call for a passive checkpoint.
            try connection.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) "
                    + "INSERT INTO t SELECT randomblob(4000) FROM n")
            // The pages are in the WAL only until a checkpoint copies them into the database file.
            func databaseBytes() throws -> Int {
                try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            }
            #expect(try databaseBytes() < 1_000_000)
            checkpointer.checkpointIfDue()
            #expect(try databaseBytes() > 4_000_000)
            checkpointer.checkpointIfDue()  // nothing new is due: a no-op
            #expect(try databaseBytes() > 4_000_000)
        }
    }

    @Test("reads are paused only for a restart past 8,192 frames, and always resumed")
    func escalation() throws {
        let connection = try SQLiteConnection(path: ":memory:", flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let checkpointer = WALCheckpointer(connection: connection, logger: Logger(label: "test"))
        let readers = RecordingPause()
        checkpointer.readers = readers
        checkpointer.afterCommit(connection.handle, frames: 1_000)  // passive only
        checkpointer.afterCommit(connection.handle, frames: 4_096)  // polite restart
        #expect(readers.events.isEmpty)
        checkpointer.afterCommit(connection.handle, frames: 8_192)  // the polite ones did not start the WAL over
        #expect(readers.events == ["pause", "resume"])
    }
}
