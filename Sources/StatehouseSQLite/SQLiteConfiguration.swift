public import StatehouseCore

/// Settings of the SQLite backend.
public struct SQLiteConfiguration: Sendable {
    /// Where the database lives.
    public enum Location: Sendable, Hashable {
        /// `statehouse.db` inside this directory, which is created if missing and locked while open.
        case directory(String)
        /// A private in-memory database, gone when the backend closes; for tests and demos.
        case memory
    }

    /// How commits reach the disk.
    public enum Durability: Sendable, Hashable {
        /// fsync before every acknowledgement (`synchronous=FULL`): acknowledged commits survive power loss.
        case full
        /// fsync at checkpoints only (`synchronous=NORMAL`): survives a daemon crash, may lose the last commits on
        /// power loss. Never the default.
        case relaxed
    }

    public var location: Location
    /// The default is ``Durability/full``.
    public var durability: Durability = .full
    /// Read connections, each on its own thread. The default is 2.
    public var readerCount: Int = 2
    /// Page cache per connection in KiB. The default is 65,536 (64 MiB).
    public var cacheSizeKiB: Int = 65_536
    /// How long the idle writer thread polls for its next job before it sleeps. The default is 50 µs.
    ///
    /// Waking a sleeping thread costs more than a short job (measured here: one committer 2.3k → 2.7k commits/s with
    /// 50 µs), so a short poll after each batch keeps the writer hot under load; an idle daemon still sleeps. Zero
    /// turns polling off.
    public var writerIdleSpin: Duration = .microseconds(50)
    /// How long an idle reader thread polls for its next job before it sleeps. The default is 50 µs.
    ///
    /// In process, a point read takes about 10 µs and the wake-up dominates it (24k reads/s from one caller without
    /// polling, 53k/s with 50 µs). Behind gRPC the next read arrives hundreds of µs later, so the poll mostly burns
    /// a core that the transport needs: statehoused sets this to zero (`ServerConfiguration.storage`;
    /// docs/benchmarks.md, "Reader threads that sleep at once").
    public var readerIdleSpin: Duration = .microseconds(50)
    /// Run SQLite's `PRAGMA quick_check` when the store opens, refusing a corrupt file instead of serving from it.
    /// It reads every page (about a second per GiB here), so a very large store may turn it off and rely on
    /// `statehousectl verify` and the errors reads return. The default is `true`.
    public var checkOnOpen = true
    /// Index the string values of state writes for full-text search (events and commit metadata are always indexed).
    ///
    /// Off by default: the index adds pages to every commit that writes text, about a quarter of one committer's
    /// durable throughput here (docs/benchmarks.md, "Search"), which a deployment that never searches state should
    /// not pay. Turning it on indexes new writes; turning it off stops indexing (what was indexed stays findable).
    public var searchState = false
    /// The wall clock reads compare expiries (`expires_at`) with: the engine's clock, so that tests can expire keys
    /// without sleeping. The default is the system's.
    public var clock: any StatehouseClock = SystemClock()

    public init(location: Location) {
        self.location = location
    }

    /// A database in `directory`.
    public static func directory(_ path: String) -> Self { Self(location: .directory(path)) }

    /// A private in-memory database.
    public static func inMemory() -> Self { Self(location: .memory) }

    /// The name of the database file inside the data directory.
    public static let databaseFileName = "statehouse.db"

    /// The size the WAL file is cut back to when a checkpoint starts it over: 32 MiB, twice what the checkpointer's
    /// restart threshold (4,096 frames) lets it reach in steady state.
    static let walSizeLimitBytes = 32 << 20
}

extension SQLiteConfiguration.Location {
    /// The database file of a store in a directory.
    var databasePath: String? {
        switch self {
        case .directory(let directory): directory + "/" + SQLiteConfiguration.databaseFileName
        case .memory: nil
        }
    }
}
