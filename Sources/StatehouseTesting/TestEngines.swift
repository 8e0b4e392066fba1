import Foundation
public import Logging
public import StatehouseCore
import StatehousePostgres
public import StatehouseSQLite

/// The stores every behavioural test runs against.
public enum StoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case memory
    case file
    /// A fresh database of the private PostgreSQL server scripts/test.sh starts (STATEHOUSE_TEST_POSTGRES_URL).
    case postgres

    public var description: String { self.rawValue }

    /// The store of tests that do not name one: `STATEHOUSE_TEST_STORE` (memory, file or postgres), memory by
    /// default. scripts/test.sh runs the engine's behaviour suites once more with `postgres`.
    public static var standard: StoreKind {
        ProcessInfo.processInfo.environment["STATEHOUSE_TEST_STORE"].flatMap(StoreKind.init(rawValue:)) ?? .memory
    }
}

/// A logger that drops everything: tests assert behaviour, not log lines (those that do capture a daemon's output).
public let testLogger: Logger = {
    var logger = Logger(label: "statehouse.test", factory: { _ in SwiftLogNoOpLogHandler() })
    logger.logLevel = .critical
    return logger
}()

/// Runs `body` with a running engine over a new store of `kind`; stops the engine afterwards.
public func withTestEngine(
    _ kind: StoreKind = .standard,
    configuration: EngineConfiguration = EngineConfiguration(),
    clock: any StatehouseClock = SystemClock(),
    _ body: (StatehouseEngine) async throws -> Void
) async throws {
    switch kind {
    case .memory:
        var storage = SQLiteConfiguration.inMemory()
        storage.clock = clock
        let backend = try await SQLiteBackend.open(configuration: storage, logger: testLogger)
        try await runEngine(backend: backend, configuration: configuration, clock: clock, body)
    case .file:
        try await withTemporaryDirectory { directory in
            var storage = SQLiteConfiguration.directory(directory)
            storage.clock = clock
            let backend = try await SQLiteBackend.open(configuration: storage, logger: testLogger)
            try await runEngine(backend: backend, configuration: configuration, clock: clock, body)
        }
    case .postgres:
        try await withTestPostgresDatabase { settings in
            // Tests run side by side on two cores with a debug build: a generous bound, so that a slow moment is
            // not a failure (the bound itself is tested on its own).
            let backend = try await PostgresBackend(
                settings: settings, clock: clock, requestTimeout: .seconds(300), logger: testLogger)
            try await runEngine(backend: backend, configuration: configuration, clock: clock, body)
        }
    }
}

/// Runs an engine over `backend` while `body` runs.
public func runEngine(
    backend: any StorageBackend,
    configuration: EngineConfiguration = EngineConfiguration(),
    clock: any StatehouseClock = SystemClock(),
    _ body: (StatehouseEngine) async throws -> Void
) async throws {
    let engine = StatehouseEngine(backend: backend, configuration: configuration, clock: clock, logger: testLogger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await engine.run() }
        do {
            try await body(engine)
        } catch {
            group.cancelAll()
            throw error
        }
        group.cancelAll()
    }
}

/// A JSON value from text the test knows to be valid.
public func json(_ text: String) -> JSONValue {
    // Safe to force: every caller passes a literal; a typo fails the test at once.
    try! JSONValue(validating: text)
}

extension StatehouseEngine {
    /// One-shot put of one key; returns the commit result.
    @discardableResult
    public func put(
        namespace: String = "default",
        agent: String,
        key: String,
        json text: String,
        expecting expected: ExpectedVersion? = nil
    ) async throws -> CommitResult {
        try await self.commit(
            AtomicCommit(
                namespace: namespace,
                operations: [.put(agentID: agent, key: key, value: json(text))],
                conditions: expected.map { [AtomicCommit.Condition(agentID: agent, key: key, expected: $0)] } ?? []
            )
        )
    }

    /// Every event of a namespace, read through the paginated log.
    public func allEvents(namespace: String = "default") async throws -> [Event] {
        var events: [Event] = []
        for try await event in self.log(LogFilter(namespace: namespace)) { events.append(event) }
        return events
    }
}
