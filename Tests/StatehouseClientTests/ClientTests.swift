import StatehouseClient
import StatehouseCore
import StatehouseTesting
import Testing

/// A gRPC server over an in-memory engine on a loopback port, and a client connected to it over HTTP/2.
func withLoopbackClient(_ body: @Sendable (StatehouseClient) async throws -> Void) async throws {
    try await withLoopbackServer { port in
        try await withStatehouseClient(host: "127.0.0.1", port: port) { try await body($0) }
    }
}

/// A client over grpc-swift's in-process transport to a service in this process: no port, no HTTP/2.
func withInProcessClient(_ body: @Sendable (StatehouseClient) async throws -> Void) async throws {
    try await withInProcessServices { transport, _ in
        try await withStatehouseClient(transport: transport, address: "in-process") { try await body($0) }
    }
}

@Suite("Swift client against a loopback server", .timeLimit(.minutes(2)))
struct ClientTests {
    @Test("withTransaction commits on return and aborts on throw")
    func transactionScope() async throws {
        struct Oops: Error {}
        try await withInProcessClient { client in
            let (value, commit) = try await client.withTransaction(metadata: CommitMetadata(actor: "swift")) { tx in
                try await tx.put(agentID: "a", key: "k", value: json(#"{"n":1}"#))
                return try await tx.get(agentID: "a", key: "k").value
            }
            #expect(value == json(#"{"n":1}"#) && commit.commitTS == 1)
            await #expect(throws: Oops.self) {
                _ = try await client.withTransaction { tx in
                    try await tx.put(agentID: "a", key: "k", value: json("2"))
                    throw Oops()
                }
            }
            #expect(try await client.get(agentID: "a", key: "k").value == json(#"{"n":1}"#))
            #expect(try await client.head().commitTS == 1)
            #expect(try await client.readLog(LogFilter()).items.first?.metadata.actor == "swift")
        }
    }

    @Test("errors come back as StatehouseError, conflicts with their key and versions")
    func errors() async throws {
        try await withInProcessClient { client in
            _ = try await client.commit(AtomicCommit(operations: [.put(agentID: "a", key: "k", value: json("1"))]))
            let stale = AtomicCommit(
                operations: [.put(agentID: "a", key: "k", value: json("2"))],
                conditions: [.init(agentID: "a", key: "k", expected: .absent)]
            )
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "k", expected: nil, actual: 1)) {
                _ = try await client.commit(stale)
            }
            let reader = try await client.beginTransaction()
            _ = try await reader.get(agentID: "a", key: "k")
            try await reader.put(agentID: "a", key: "k", value: json("3"))
            _ = try await client.commit(AtomicCommit(operations: [.put(agentID: "a", key: "k", value: json("4"))]))
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "k", expected: 1, actual: 2)) {
                _ = try await reader.commit()
            }
            await #expect(throws: StatehouseError.self) { _ = try await client.get(agentID: "", key: "k") }
            let aborted = try await client.beginTransaction()
            try await aborted.abort()
            await #expect(throws: StatehouseError.transactionNotFound("transaction \(aborted.txnID) was aborted")) {
                _ = try await aborted.commit()
            }
        }
    }

    @Test("a transaction is buffered on the client: its reads are checked at commit, a key read as absent too")
    func clientBegunTransactions() async throws {
        try await withInProcessClient { client in
            let absent = try await client.beginTransaction(namespace: "ns")
            #expect(try await absent.get(agentID: "a", key: "new").exists == false)
            try await absent.put(agentID: "a", key: "other", value: json("1"))
            _ = try await client.commit(
                AtomicCommit(namespace: "ns", operations: [.put(agentID: "a", key: "new", value: json("0"))]))
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "new", expected: nil, actual: 1)) {
                _ = try await absent.commit()
            }
            #expect(try await client.get(namespace: "ns", agentID: "a", key: "other").exists == false)

            let tx = try await client.beginTransaction(namespace: "ns")
            try await tx.put(agentID: "a", key: "k", value: json("1"))
            try await tx.put(agentID: "a", key: "k", value: json("2"))  // replaces the first write
            #expect(try await tx.get(agentID: "a", key: "k").value == json("2"))  // its own write
            let result = try await tx.commit()
            #expect(result.txnID == tx.txnID && result.namespace == "ns" && result.versions == [1])
            #expect(try await tx.commit() == result)  // a second commit returns the first result
            await #expect(throws: StatehouseError.self) { try await tx.put(agentID: "a", key: "k", value: json("3")) }

            let short = try await client.beginTransaction(timeout: .milliseconds(1))
            try await short.put(agentID: "a", key: "late", value: json("1"))
            try await Task.sleep(for: .milliseconds(20))
            await #expect(throws: StatehouseError.self) { _ = try await short.commit() }
            #expect(try await client.get(agentID: "a", key: "late").exists == false)
        }
    }

    @Test("the client runs over any transport: in process, a transaction, a session and an error")
    func inProcess() async throws {
        try await withInProcessClient { client in
            let (_, commit) = try await client.withTransaction { tx in
                try await tx.put(agentID: "a", key: "k", value: json("1"))
            }
            #expect(commit.commitTS == 1)
            #expect(try await client.get(agentID: "a", key: "k").value == json("1"))
            try await client.withSession { session in
                _ = try await session.transaction(operations: [.put(agentID: "a", key: "k", value: json("2"))])
            }
            #expect(try await client.head().commitTS == 2)
            let stale = AtomicCommit(
                operations: [.put(agentID: "a", key: "k", value: json("3"))],
                conditions: [.init(agentID: "a", key: "k", expected: .version(1))]
            )
            await #expect(throws: StatehouseError.conflict(agentID: "a", key: "k", expected: 1, actual: 2)) {
                _ = try await client.commit(stale)
            }
        }
    }

    // Over HTTP/2 on a loopback port, as applications connect; the other tests run in process.
    @Test("reads, listings, history, log, replay and watch")
    func readsAndLog() async throws {
        try await withLoopbackClient { client in
            for index in 1...5 {
                _ = try await client.commit(
                    AtomicCommit(operations: [.put(agentID: "a", key: "k\(index % 3)", value: json("\(index)"))]))
            }
            #expect(try await client.get(agentID: "a", key: "k1", at: .commit(1)).value == json("1"))
            #expect(try await client.get(agentID: "a", key: "k1", at: .version(2)).value == json("4"))
            #expect(
                try await client.get(keys: [KeyAddress(agentID: "a", key: "k2"), KeyAddress(agentID: "z", key: "k")])
                    .map(\.exists) == [true, false])
            let keys = try await client.listKeys(agentID: "a", limit: 2)
            #expect(keys.items.map(\.key) == ["k0", "k1"] && keys.nextCursor != nil)
            #expect(
                try await client.listKeys(agentID: "a", limit: 2, cursor: keys.nextCursor).items.map(\.key) == ["k2"])
            #expect(try await client.scan(agentID: "a", prefix: "k").items.count == 3)
            #expect(try await client.history(agentID: "a", key: "k1").items.map(\.version) == [2, 1])
            #expect(try await client.listAgents().items == ["a"])
            #expect(try await client.listNamespaces().items.map(\.commitTS) == [5])
            let replayed = try await client.replay(LogFilter(fromCommitTS: 2)) { events in
                var seen: [CommitTS] = []
                for try await event in events { seen.append(event.commitTS) }
                return seen
            }
            #expect(replayed == [2, 3, 4, 5])
            let watched = try await client.watch(from: 4) { events in
                var seen: [CommitTS] = []
                for try await event in events {
                    seen.append(event.commitTS)
                    if event.commitTS == 5 {
                        _ = try await client.commit(
                            AtomicCommit(operations: [.put(agentID: "a", key: "live", value: json("6"))]))
                    }
                    if event.commitTS == 6 { break }
                }
                return seen
            }
            #expect(watched == [4, 5, 6])
            let report = try await client.verify()
            #expect(report.isValid && report.eventsChecked == 6)
            #expect(try await client.health() == "ok")
        }
    }

    @Test("an unreachable daemon fails with unavailable naming the address")
    func unreachable() async throws {
        do {
            try await withStatehouseClient(host: "127.0.0.1", port: 1) { client in
                _ = try await client.health()
            }
            Issue.record("expected an error")
        } catch let error as StatehouseError {
            guard case .unavailable(let message) = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
            #expect(message.contains("127.0.0.1:1"))
        }
    }
}
