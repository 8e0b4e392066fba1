import Foundation
import StatehouseCore
import StatehouseModel
import StatehousePostgres
import StatehouseTesting
import Testing

/// Watches across daemons: two engines (as two daemons) over one database.
@Suite("PostgreSQL backend: watch across daemons", .timeLimit(.minutes(2)))
struct PostgresWatchTests {
    /// Runs `body` with `count` running engines over one fresh database.
    func withEngines(_ count: Int, _ body: @escaping ([StatehouseEngine]) async throws -> Void) async throws {
        try await TestDatabase.withFresh { settings in
            var backends: [PostgresBackend] = []
            for _ in 0..<count {
                backends.append(try await PostgresBackend(settings: settings, logger: TestDatabase.logger))
            }
            try await Self.run(backends, [], body)
        }
    }

    /// Starts an engine per backend, nesting, so that every engine runs while `body` does.
    private static func run(
        _ backends: [PostgresBackend], _ engines: [StatehouseEngine],
        _ body: @escaping ([StatehouseEngine]) async throws -> Void
    ) async throws {
        guard let backend = backends.first else {
            try await body(engines)
            return
        }
        try await runEngine(backend: backend) { engine in
            try await Self.run(Array(backends.dropFirst()), engines + [engine], body)
        }
    }

    @Test("a watcher on one daemon sees every commit made through either daemon, once and in order")
    func acrossDaemons() async throws {
        try await self.withEngines(2) { engines in
            let (a, b) = (engines[0], engines[1])
            try await a.put(agent: "x", key: "k", json: "0")
            let total: CommitTS = 41
            let watcher = Task {
                var seen: [CommitTS] = []
                for try await event in try await b.watch(from: 1) {
                    seen.append(event.commitTS)
                    if event.commitTS == total { break }
                }
                return seen
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, engine) in engines.enumerated() {
                    group.addTask {
                        for step in 0..<20 {
                            try await engine.put(agent: "w\(index)", key: "k\(step % 3)", json: "\(step)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await watcher.value == Array(1...total))
            // Commits through the other daemon alone reach a live watcher too.
            let live = Task {
                var seen: [CommitTS] = []
                for try await event in try await b.watch(agentID: "late") {
                    seen.append(event.commitTS)
                    if seen.count == 3 { break }
                }
                return seen
            }
            while b.liveWatcherCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
            for step in 0..<3 { try await a.put(agent: "late", key: "k", json: "\(step)") }
            #expect(try await live.value == [total + 1, total + 2, total + 3])
        }
    }
}
