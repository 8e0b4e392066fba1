import Foundation
import StatehouseCore
import Synchronization

/// Dedicated threads that own SQLite connections and run blocking jobs on them.
///
/// Every sqlite3 call and every fsync runs here, never on Swift's cooperative pool: with two cores there are only
/// two cooperative threads, and one blocked fsync must not stall every RPC. Jobs queue under one lock; each thread
/// takes the next job and runs it with its own context (a connection and its caches). Callers suspend on a
/// continuation that the worker resumes.
final class SQLiteWorkerPool<Context: SQLiteConnectionOwner>: @unchecked Sendable {
    // Safe: `jobs`, `jobsStart`, `stopping` and `paused` are only touched while holding `condition`; `queued` and
    // `running` are atomic; each context is only touched by the one thread it was handed to.
    private typealias Job = (Context) -> Void

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var jobsStart = 0
    private var stopping = false
    /// While set, workers take no new job (see ``pauseJobs(waitingUpTo:)``).
    private var paused = false
    /// Jobs being run right now. Counted when a job is taken, under the lock, so a pause that set `paused` under the
    /// same lock sees every job it has to wait for.
    private let running = Atomic<Int>(0)
    private let finished = DispatchGroup()
    /// Jobs queued and not yet taken; read without the lock by idle workers deciding whether to keep spinning.
    private let queued = Atomic<Int>(0)
    /// How long an idle worker polls for the next job before it sleeps on the condition variable.
    private let spinNanoseconds: UInt64

    /// Starts one thread per context.
    init(name: String, contexts: [Context], spinNanoseconds: UInt64 = 0) {
        self.spinNanoseconds = spinNanoseconds
        for (index, context) in contexts.enumerated() {
            self.finished.enter()
            let box = UncheckedBox(context)
            let thread = Thread { [self] in
                self.work(box.value)
                box.value.connection.close()
                self.finished.leave()
            }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// Runs `body` on one of the pool's threads with its context and returns its result.
    ///
    /// When `interruptible` (reads), cancelling the calling task stops the job: one not started yet is dropped, and
    /// one running has its statements interrupted (``SQLiteInterruptHandle``), so a client that went away does not keep a
    /// thread scanning for it. Writes pass `false`: a batch carries other callers' commits, and a shutdown cancels
    /// the pipeline while it still drains them.
    ///
    /// - Throws: what `body` throws, `CancellationError` when the caller was cancelled before the job started or it
    ///   was interrupted, or ``StatehouseModel/StatehouseError/unavailable(_:)`` after shutdown.
    func run<T: Sendable>(interruptible: Bool = true, _ body: @escaping (Context) throws -> T) async throws -> T {
        let cancellation = JobCancellation()
        guard interruptible else { return try await self.enqueue(body, cancellation: cancellation) }
        return try await withTaskCancellationHandler {
            try await self.enqueue(body, cancellation: cancellation)
        } onCancel: {
            cancellation.cancel()
        }
    }

    private func enqueue<T: Sendable>(
        _ body: @escaping (Context) throws -> T,
        cancellation: JobCancellation
    ) async throws -> T {
        let captures = JobBody(body)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job: Job = { context in
                guard cancellation.start(on: context.connection.interruptHandle) else {
                    captures.release()
                    continuation.resume(throwing: CancellationError())
                    return
                }
                let result = Result { try captures.run(context) }
                captures.release()
                let interrupted = cancellation.finish()
                if interrupted, case .failure = result {
                    continuation.resume(throwing: CancellationError())
                } else {
                    continuation.resume(with: result)
                }
            }
            self.condition.lock()
            if self.stopping {
                self.condition.unlock()
                continuation.resume(throwing: StatehouseError.unavailable("the store is closed"))
                return
            }
            self.jobs.append(job)
            self.queued.add(1, ordering: .releasing)
            self.condition.signal()
            self.condition.unlock()
        }
    }

    /// The loop of one worker thread: take a job, run it, until shutdown and no jobs are left.
    private func work(_ context: Context) {
        while true {
            self.spinWhileIdle()
            self.condition.lock()
            while (self.jobsStart == self.jobs.count || self.paused) && !self.stopping {
                self.condition.wait()
            }
            if self.jobsStart == self.jobs.count {
                self.condition.unlock()
                return
            }
            let job = self.jobs[self.jobsStart]
            self.jobsStart += 1
            self.queued.subtract(1, ordering: .relaxed)
            self.running.add(1, ordering: .relaxed)
            if self.jobsStart == self.jobs.count {
                self.jobs.removeAll(keepingCapacity: true)
                self.jobsStart = 0
            }
            self.condition.unlock()
            job(context)
            self.running.subtract(1, ordering: .releasing)
            context.jobDidFinish()
        }
    }

    /// Jobs queued and not yet taken by a thread.
    var queuedJobs: Int { self.queued.load(ordering: .acquiring) }

    /// Stops handing out jobs and waits up to `timeout` for the running ones to finish.
    ///
    /// Returns `true` once no job runs; `false` if one still ran at the deadline. Either way jobs stay paused (new
    /// ones queue) until ``resumeJobs()``, which the caller must always call. The WAL checkpointer uses it to get a
    /// moment with no reader on an old snapshot when reads never stop (see ``WALCheckpointer``).
    func pauseJobs(waitingUpTo timeout: Duration) -> Bool {
        self.condition.lock()
        self.paused = true
        self.condition.unlock()
        let deadline = ContinuousClock.now + timeout
        while self.running.load(ordering: .acquiring) > 0 {
            if ContinuousClock.now >= deadline { return false }
            usleep(100)
        }
        return true
    }

    /// Hands out jobs again after ``pauseJobs(waitingUpTo:)``.
    func resumeJobs() {
        self.condition.lock()
        self.paused = false
        self.condition.broadcast()
        self.condition.unlock()
    }

    /// Polls briefly for a job before sleeping: waking a sleeping thread costs more than a point read, and under
    /// load the next job usually arrives within microseconds.
    private func spinWhileIdle() {
        guard self.spinNanoseconds > 0, self.queued.load(ordering: .acquiring) == 0 else { return }
        let deadline = DispatchTime.now().uptimeNanoseconds + self.spinNanoseconds
        var rounds = 0
        while self.queued.load(ordering: .acquiring) == 0 {
            rounds += 1
            if rounds % 64 == 0 {
                if DispatchTime.now().uptimeNanoseconds >= deadline { return }
                sched_yield()
            }
        }
    }

    /// Finishes queued jobs, then stops the threads and waits for them to exit, suspending (never blocking a thread
    /// of the cooperative pool) until the last one did.
    func shutdown() async {
        self.stopTakingJobs()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.finished.notify(queue: .global()) { continuation.resume() }
        }
    }
}

extension SQLiteWorkerPool {
    /// Tells the threads to exit once the queue is empty.
    private func stopTakingJobs() {
        self.condition.lock()
        self.stopping = true
        self.condition.broadcast()
        self.condition.unlock()
    }
}

/// The link between a job and its caller's cancellation: which connection runs the job, if one does.
///
/// Both sides take the lock, so `sqlite3_interrupt` only ever reaches the connection while it still runs this job
/// (never the next job of the same thread).
/// A job's body, dropped by the worker before it resumes the caller.
///
/// The caller still holds what the body captured (a batch of commits, an import's events) while it waits, so the
/// worker's release is not the last one and the caller's thread frees it. Otherwise the worker, resuming first and
/// dropping the job after, often freed the whole batch itself: an import's 4,096 events, allocated on the event
/// loops, freed under the event loops' malloc arena lock while they allocated the next batch, and the writer (the
/// import's bottleneck) blocked on that lock in 59 % of its context switches.
private final class JobBody<Context, T>: @unchecked Sendable {
    // Safe: used by the one worker thread that runs the job, after the enqueueing thread handed it over under the
    // pool's lock.
    private var body: ((Context) throws -> T)?

    init(_ body: @escaping (Context) throws -> T) { self.body = body }

    func run(_ context: Context) throws -> T {
        guard let body = self.body else { preconditionFailure("a worker job ran twice") }
        return try body(context)
    }

    func release() { self.body = nil }
}

private final class JobCancellation: Sendable {
    private enum State {
        case waiting
        case running(SQLiteInterruptHandle)
        case interrupted(SQLiteInterruptHandle)
        case cancelled
        case finished
    }

    private let state = Mutex<State>(.waiting)

    /// Called by the worker before the job; `false` when the caller cancelled while it was queued.
    func start(on connection: SQLiteInterruptHandle) -> Bool {
        self.state.withLock { state in
            guard case .waiting = state else { return false }
            state = .running(connection)
            return true
        }
    }

    /// Called by the worker after the job; `true` when the job was interrupted for its caller's cancellation (its
    /// failure is then reported as `CancellationError`, not as a storage error).
    func finish() -> Bool {
        self.state.withLock { state in
            defer { state = .finished }
            if case .interrupted(let connection) = state {
                connection.lower()
                return true
            }
            return false
        }
    }

    func cancel() {
        self.state.withLock { state in
            switch state {
            case .waiting:
                state = .cancelled
            case .running(let connection):
                connection.interrupt()
                state = .interrupted(connection)
            case .interrupted, .cancelled, .finished:
                break
            }
        }
    }
}

extension SQLiteWorkerPool: JobPausing {}

/// Something whose jobs can be held back for a moment: the reader pool, as the WAL checkpointer sees it.
protocol JobPausing: AnyObject, Sendable {
    func pauseJobs(waitingUpTo timeout: Duration) -> Bool
    func resumeJobs()
}

/// A worker context: something that owns one connection, closed by its thread when the pool shuts down.
/// The metatype is Sendable (the type itself need not be): the pool's threads are started with closures that name
/// the context type.
protocol SQLiteConnectionOwner: AnyObject, SendableMetatype {
    var connection: SQLiteConnection { get }
    /// Work the owner does after a job handed back its result and before the thread takes the next: the writer's
    /// WAL checkpoint, which the callers of the job then need not wait for.
    func jobDidFinish()
}

extension SQLiteConnectionOwner {
    func jobDidFinish() {}
}

/// Moves a non-Sendable value to the one thread that will own it from then on.
struct UncheckedBox<Value>: @unchecked Sendable {
    // Safe: used only to hand a value to a new thread that becomes its sole user.
    let value: Value
    init(_ value: Value) { self.value = value }
}
