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
