import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

@Suite("Watch: catch-up, live handover, slow subscribers", .timeLimit(.minutes(2)))
struct WatchTests {
    @Test(
        "catch-up hands over to live events with no gap and no duplicate under concurrent commits",
        .timeLimit(.minutes(1)), arguments: StoreKind.allCases)
    func handover(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            let writers = 4
            let perWriter = 150
            let total = CommitTS(writers * perWriter)
            try await withThrowingTaskGroup(of: [CommitTS].self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for index in 0..<perWriter {
                            try await engine.put(agent: "w\(writer)", key: "k\(index % 7)", json: "\(index)")
                        }
                        return []
                    }
                }
                group.addTask {
                    // Start watching once the log is underway, so both catch-up and live delivery are exercised.
                    while try await engine.head().commitTS < 40 { await Task.yield() }
                    var seen: [CommitTS] = []
                    for try await event in try await engine.watch(from: 1) {
                        seen.append(event.commitTS)
                        if event.commitTS == total { break }
                    }
                    return seen
                }
                var seen: [CommitTS] = []
                for try await result in group where !result.isEmpty { seen = result }
                #expect(seen == Array(1...total))
            }
            #expect(engine.watcherCount == 0)
        }
    }

    @Test("an agent filter delivers only that agent's operations", .timeLimit(.minutes(1)))
    func agentFilter() async throws {
        try await withTestEngine { engine in
            try await engine.put(agent: "a", key: "k", json: "1")
            try await engine.put(agent: "b", key: "k", json: "2")
            let subscription = try await engine.watch(agentID: "a", from: 1)
            var iterator = subscription.makeAsyncIterator()
            let first = try #require(try await iterator.next())
            #expect(first.commitTS == 1)
            _ = try await engine.commit(
                AtomicCommit(operations: [
                    .put(agentID: "b", key: "x", value: json("1")), .put(agentID: "a", key: "y", value: json("3")),
                ]))
            let second = try #require(try await iterator.next())
            #expect(second.commitTS == 3)
            #expect(second.operations.map(\.agentID) == ["a"])
        }
    }

    @Test("a subscriber that falls behind is ended with the commit_ts to resume from", .timeLimit(.minutes(1)))
    func slowSubscriber() async throws {
        var configuration = EngineConfiguration()
        configuration.limits.watchBufferEvents = 16
        try await withTestEngine(configuration: configuration) { engine in
            let (liveSignal, liveContinuation) = AsyncStream.makeStream(of: Void.self)
            let (gate, gateContinuation) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: ([CommitTS], StatehouseError?).self) { group in
                group.addTask {
                    var received: [CommitTS] = []
                    let subscription = try await engine.watch(from: 1)
                    do {
                        for try await event in subscription {
                            received.append(event.commitTS)
                            if event.commitTS == 1 {
                                liveContinuation.yield()
                                for await _ in gate { break }
                            }
                        }
                    } catch let error as StatehouseError {
                        return (received, error)
                    }
                    return (received, nil)
                }
                // Once the subscriber is registered for live events, commit 1 reaches it with the subscription live
                // (through its last storage read or its buffer); then overload it while it waits at the gate.
                while engine.liveWatcherCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
                try await engine.put(agent: "a", key: "k", json: "0")
                for await _ in liveSignal { break }
                for index in 1...100 { try await engine.put(agent: "a", key: "k", json: "\(index)") }
                gateContinuation.yield()
                let (received, error) = try await group.next()!
                #expect(received == [1])
                #expect(error == .subscriberTooSlow(resumeFrom: 2))
            }
            // Resuming from the named commit_ts delivers everything after what was received.
            var resumed: [CommitTS] = []
            for try await event in try await engine.watch(from: 2) {
                resumed.append(event.commitTS)
                if event.commitTS == 101 { break }
            }
            #expect(resumed == Array(2...101))
        }
    }

    @Test("stopping the engine ends live watches with unavailable", .timeLimit(.minutes(1)))
    func shutdownEndsWatches() async throws {
        let backend = try await SQLiteBackend.open(configuration: .inMemory(), logger: testLogger)
        let engine = StatehouseEngine(backend: backend, logger: testLogger)
        let running = Task { await engine.run() }
        let watcher = Task { () -> StatehouseError? in
            do {
                for try await _ in try await engine.watch() {}
                return nil
            } catch let error as StatehouseError {
                return error
            } catch {
                return .internalError("\(error)")
            }
        }
        while engine.watcherCount == 0 { await Task.yield() }
        try await engine.put(agent: "a", key: "k", json: "1")
        running.cancel()
        await running.value
        let error = await watcher.value
        guard case .unavailable = error else {
            Issue.record("expected unavailable, got \(String(describing: error))")
            return
        }
        await #expect(throws: StatehouseError.self) { _ = try await engine.watch() }
        await #expect(throws: StatehouseError.self) { try await engine.put(agent: "a", key: "k", json: "2") }
    }
}
