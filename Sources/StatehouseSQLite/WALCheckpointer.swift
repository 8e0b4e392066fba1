import CSQLite
import CoreMetrics
import Logging

/// Keeps the write-ahead log bounded when reads never stop.
///
/// SQLite's automatic checkpoint (passive, every 1,000 frames) copies pages into the database file but can only start
/// the WAL over when no reader still uses it. Under a steady mix of overlapping reads (readers, scans, replays) that
/// moment may never come, and the WAL grows without bound (measured in the soak: 24 MiB to 278 MiB in 5 minutes).
/// So past ``restartFrames`` the writer asks for a RESTART checkpoint, which waits for the readers of old snapshots to
/// finish, but only up to ``restartWaitMilliseconds`` and at most once per 1,000 new frames, so that a long read
/// costs the commits behind it at most that wait, never the connection's full busy timeout. Measured in the soak:
/// with a 20 ms wait every attempt failed on 2 busy cores; with 200 ms they take 10-200 ms, nearly all succeed, and
/// the WAL stays at 16 MiB.
///
/// When even that keeps failing (a 60-minute soak with the 2 cores shared by two more daemons: every attempt gave up
/// from 4,096 to 90,000 frames, and the WAL file reached 857 MiB), the WAL passing ``pausedRestartFrames`` makes
/// the next attempt hold back new reads (``readers``) until the running ones finished, for at most
/// ``restartWaitMilliseconds``, so that no reader is left on an old snapshot. Reads then wait for that one
/// checkpoint (tens of milliseconds) instead of the WAL growing without bound.
///
/// Installed with `sqlite3_wal_hook` on the writer connection, which replaces SQLite's own automatic checkpoint; so
/// the passive checkpoint every 1,000 frames is done here too. The hook only notes the WAL's size: the checkpoint runs
/// on the writer thread once the job that committed has handed back its results (``checkpointIfDue()``), so the
/// commits of that job are acknowledged without waiting for it (a passive checkpoint copies about 1,000 pages and
/// fsyncs the database file: about 10 ms under a 1,000-put commit), and the next job waits for it only if it comes
/// while it runs. It stays on the writer thread and connection: on a thread of its own it competed with the WAL
/// fsync and cost 12-17 % of 1-write commit throughput (docs/benchmarks.md).
final class WALCheckpointer {
    static let passiveFrames: Int32 = 1000
    static let restartFrames: Int32 = 4096
    static let pausedRestartFrames: Int32 = 8192
    static let restartWaitMilliseconds: Int32 = 200
    static let busyTimeoutMilliseconds: Int32 = 10_000

    /// The reader pool, held back for a RESTART checkpoint that waiting alone could not get; set once before the
    /// writer thread starts (nil for an in-memory store, which has no WAL).
    var readers: (any JobPausing)?

    /// The WAL size (frames) at the last RESTART attempt; 0 after the WAL started over.
    private var lastRestartAttempt: Int32 = 0
    /// The WAL's size after the last commit not yet looked at by ``checkpointIfDue()``; 0 when there is none.
    private var pendingFrames: Int32 = 0
    private let connection: SQLiteConnection
    private let logger: Logger
    /// `statehouse_wal_checkpoints_total{mode, result}`: passive and restart checkpoints, ok or busy.
    private let checkpoints: [String: CoreMetrics.Counter] = {
        var counters: [String: CoreMetrics.Counter] = [:]
        for mode in ["passive", "restart"] {
            for result in ["ok", "busy"] {
                counters[mode + result] = CoreMetrics.Counter(
                    label: "statehouse_wal_checkpoints_total", dimensions: [("mode", mode), ("result", result)])
            }
        }
        return counters
    }()

    /// Installs the hook on `connection`; the checkpointer must live as long as the connection, and is only used on
    /// the thread that owns it.
    init(connection: SQLiteConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_wal_hook(
            connection.handle,
            { context, _, _, frames in
                guard let context else { return SQLITE_OK }
                Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().pendingFrames = frames
                return SQLITE_OK
            }, context)
    }

    /// Runs the checkpoint the last commit called for, if any. Called by the writer thread between jobs, when no
    /// statement of the connection is open (an open one would make the checkpoint fail with SQLITE_LOCKED).
    func checkpointIfDue() {
        guard self.pendingFrames > 0 else { return }
        let frames = self.pendingFrames
        self.pendingFrames = 0
        self.afterCommit(self.connection.handle, frames: frames)
    }

    /// Decides on a checkpoint after a commit left the WAL with `frames` frames, and runs it.
    func afterCommit(_ db: OpaquePointer, frames: Int32) {
        if frames < self.lastRestartAttempt { self.lastRestartAttempt = 0 }  // the WAL started over
        if frames >= Self.restartFrames && frames >= self.lastRestartAttempt + Self.passiveFrames {
            self.lastRestartAttempt = frames
            let started = ContinuousClock.now
            let pausing = frames >= Self.pausedRestartFrames ? self.readers : nil
            let readersIdle = pausing?.pauseJobs(waitingUpTo: .milliseconds(Self.restartWaitMilliseconds))
            sqlite3_busy_timeout(db, Self.restartWaitMilliseconds)
            let result = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_RESTART, nil, nil)
            sqlite3_busy_timeout(db, Self.busyTimeoutMilliseconds)
            pausing?.resumeJobs()
            let level: Logger.Level = result != SQLITE_OK ? .notice : pausing != nil ? .info : .debug
            self.logger.log(
                level: level, "WAL restart checkpoint",
                metadata: [
                    "wal.frames": "\(frames)", "result": "\(result)", "duration": "\(ContinuousClock.now - started)",
                    "reads.paused": "\(pausing != nil)", "reads.idle": "\(readersIdle.map { "\($0)" } ?? "-")",
                ])
            if result == SQLITE_OK { self.lastRestartAttempt = 0 }
            self.checkpoints["restart" + (result == SQLITE_OK ? "ok" : "busy")]?.increment()
        } else if frames >= Self.passiveFrames {
            let result = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            self.checkpoints["passive" + (result == SQLITE_OK ? "ok" : "busy")]?.increment()
        }
    }
}
