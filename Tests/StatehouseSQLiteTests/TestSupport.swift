import Crypto
import Foundation
import Logging
import StatehouseCore
import StatehouseSQLite
import Testing

/// The stores every behavioural test runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case file

    var testDescription: String { self.rawValue }
}

/// A fresh temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("statehouse-test-\(UUID().uuidString)")
        .path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

let testLogger: Logger = {
    var logger = Logger(label: "statehouse.test", factory: { _ in SwiftLogNoOpLogHandler() })
    logger.logLevel = .critical
    return logger
}()

/// Runs `body` with a running engine over a new store of `kind`; stops the engine afterwards.
func withTestEngine(
    _ kind: StoreKind = .memory,
    configuration: EngineConfiguration = EngineConfiguration(),
    clock: any StatehouseClock = SystemClock(),
    _ body: (StatehouseEngine) async throws -> Void
) async throws {
    switch kind {
    case .memory:
        let backend = try await SQLiteBackend.open(configuration: .inMemory(), logger: testLogger)
        try await runEngine(backend: backend, configuration: configuration, clock: clock, body)
    case .file:
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: backend, configuration: configuration, clock: clock, body)
        }
    }
}

/// Runs an engine over `backend` while `body` runs.
func runEngine(
    backend: SQLiteBackend,
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

func json(_ text: String) -> JSONValue {
    try! JSONValue(validating: text)
}

extension StatehouseEngine {
    /// One-shot put of one key; returns the commit result.
    @discardableResult
    func put(
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
    func allEvents(namespace: String = "default") async throws -> [Event] {
        var events: [Event] = []
        for try await event in self.log(LogFilter(namespace: namespace)) { events.append(event) }
        return events
    }
}

/// SHA-256 through swift-crypto's public API, for checking documented hashes independently of the engine.
func sha256(_ bytes: [UInt8]) throws -> [UInt8] {
    Array(SHA256.hash(data: bytes))
}
