import Logging
import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

/// The README's Swift example, kept compiling and passing here (in memory instead of ./statehouse-data).
@Suite("README example", .timeLimit(.minutes(2)))
struct ReadmeExampleTests {
    @Test("the README example runs as written", .timeLimit(.minutes(1)))
    func readmeExample() async throws {
        let logger = testLogger
        let backend = try await SQLiteBackend.open(configuration: .inMemory(), logger: logger)
        let engine = StatehouseEngine(backend: backend, logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await engine.run() }

            let result = try await engine.commit(
                AtomicCommit(
                    namespace: "prod",
                    operations: [
                        .put(agentID: "planner", key: "plan/1", value: try JSONValue(validating: #"{"step":1}"#))
                    ],
                    conditions: [.init(agentID: "planner", key: "plan/1", expected: .absent)],
                    idempotencyKey: "plan-1-create"
                ))

            let txn = try engine.beginTransaction(namespace: "prod")
            let plan = try await engine.get(txnID: txn.txnID, agentID: "planner", key: "plan/1")
            try engine.put(
                txnID: txn.txnID, agentID: "planner", key: "plan/1", value: try JSONValue(validating: #"{"step":2}"#))
            _ = try await engine.commit(txnID: txn.txnID)

            let old = try await engine.get(
                namespace: "prod", agentID: "planner", key: "plan/1", at: .commit(result.commitTS))
            var seen: [CommitTS] = []
            for try await event in engine.log(LogFilter(namespace: "prod", agentID: "planner")) {
                seen.append(event.commitTS)
            }
            let report = try await engine.verify(namespace: "prod")
            group.cancelAll()

            #expect(plan.value?.text == #"{"step":1}"#)
            #expect(old.value?.text == #"{"step":1}"#)
            #expect(seen == [1, 2])
            #expect(report.isValid)
        }
    }
}
