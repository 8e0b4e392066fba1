import CSQLite
import Foundation
import Logging
import StatehouseCore
import Synchronization
import Testing

@testable import StatehouseSQLite

/// The reader pool can be held back for a moment, and the WAL checkpointer does so only when waiting alone failed.
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
        defer { pool.shutdown() }
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let running = Task { try await pool.run { _ in started.signal(); release.wait() } }
        started.wait()
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
