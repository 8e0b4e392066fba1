import PropertyBased
import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

/// Agents, snapshots, restore, fork and diff over a real store.
@Suite("Agent lifecycle: records, snapshots, restore, fork, diff", .timeLimit(.minutes(2)))
struct LifecycleTests {
    /// Every live key of an agent at a point, as key → value text.
    static func state(
        _ engine: StatehouseEngine, namespace: String = "default", agent: String, at commitTS: CommitTS? = nil
    ) async throws -> [String: String] {
        var state: [String: String] = [:]
        var cursor: String?
        repeat {
            let page = try await engine.scan(
                namespace: namespace, agentID: agent, at: commitTS.map { .commit($0) } ?? .latest, cursor: cursor)
            for record in page.items { state[record.key] = record.value?.text }
            cursor = page.nextCursor
        } while cursor != nil
        return state
    }

    /// One random commit to agent "a" (and sometimes "b"): puts and deletes over a few keys.
    static func commit(_ seeds: [Int]) -> AtomicCommit {
        var operations: [String: WriteOperation] = [:]
        for seed in seeds {
            let agent = seed % 5 == 0 ? "b" : "a"
            let key = "k\(seed / 5 % 7)"
            operations[agent + "/" + key] =
                seed % 4 == 0
                ? .delete(agentID: agent, key: key) : .put(agentID: agent, key: key, value: json("{\"v\":\(seed)}"))
        }
        return AtomicCommit(operations: operations.keys.sorted().map { operations[$0]! })
    }

    @Test("restore after random commits equals the state at the snapshot, touches no other agent, and twice is a no-op")
    func restoreProperty() async {
        await propertyCheck(
            count: 20,
            input: Gen.int(in: 0...10_000).array(of: 1...4).array(of: 100...100),
            Gen.int(in: 0...99)
        ) { history, cut in
            try await withTestEngine { engine in
                var snapshotTS: CommitTS = 0
                for (index, seeds) in history.enumerated() {
                    _ = try await engine.commit(Self.commit(seeds))
                    if index == cut {
                        snapshotTS = try await engine.createSnapshot(name: "s", agentID: "a").commitTS
                    }
                }
                let wanted = try await Self.state(engine, agent: "a", at: snapshotTS)
                let otherBefore = try await Self.state(engine, agent: "b")
                let result = try await engine.restoreSnapshot(name: "s")
                #expect(result.sourceCommitTS == snapshotTS)
                #expect(try await Self.state(engine, agent: "a") == wanted)
                #expect(try await Self.state(engine, agent: "b") == otherBefore)
                let head = try await engine.head()
                let again = try await engine.restoreSnapshot(name: "s")
                #expect(again.puts == 0 && again.deletes == 0)
                #expect(try await engine.head() == head)
                if result.puts + result.deletes > 0 {
                    let event = try await engine.readLog(LogFilter(fromCommitTS: head.commitTS)).items.first
                    #expect(event?.metadata.tags["statehouse.restore.snapshot"] == "s")
                }
            }
        }
    }

    @Test("diff of two snapshots is the set difference of the states read at their points")
    func diffEqualsSetDifference() async {
        await propertyCheck(count: 20, input: Gen.int(in: 0...10_000).array(of: 1...4).array(of: 40...40)) { history in
            try await withTestEngine { engine in
                for (index, seeds) in history.enumerated() {
                    _ = try await engine.commit(Self.commit(seeds))
                    if index == 10 { _ = try await engine.createSnapshot(name: "one", agentID: "a") }
                    if index == 30 { try await engine.createSnapshot(name: "two", agentID: "a") }
                }
                let one = try await engine.getSnapshot(name: "one")
                let two = try await engine.getSnapshot(name: "two")
                let before = try await Self.state(engine, agent: "a", at: one.commitTS)
                let after = try await Self.state(engine, agent: "a", at: two.commitTS)
                let diff = try await engine.diff(agentID: "a", from: .snapshot("one"), to: .snapshot("two"))
                #expect(diff.fromCommitTS == one.commitTS && diff.toCommitTS == two.commitTS)
                let added = Set(after.keys).subtracting(before.keys)
                let removed = Set(before.keys).subtracting(after.keys)
                let changed = Set(before.keys).intersection(after.keys).filter { before[$0] != after[$0] }
                #expect(Set(diff.differences.filter { $0.change == .added }.map(\.key)) == added)
                #expect(Set(diff.differences.filter { $0.change == .removed }.map(\.key)) == removed)
                #expect(Set(diff.differences.filter { $0.change == .changed }.map(\.key)) == changed)
                #expect(diff.differences.map(\.key) == diff.differences.map(\.key).sorted())
                for difference in diff.differences where difference.change == .changed {
                    let patched = try JSONPatch.apply(difference.patch!, to: difference.before!.value!)
                    #expect(try JSONPatch.diff(from: patched, to: difference.after!.value!).text == "[]")
                }
            }
        }
    }

    @Test("fork copies an agent's state at a point into another namespace, refusing a non-empty target")
    func fork() async throws {
        try await withTestEngine { engine in
            try await engine.put(agent: "a", key: "x", json: "1")
            try await engine.put(agent: "a", key: "y", json: "\"two\"")
            let snapshot = try await engine.createSnapshot(name: "s", agentID: "a")
            try await engine.put(agent: "a", key: "x", json: "3")
            let copy = try await engine.fork(
                agentID: "a", at: .snapshot("s"), targetNamespace: "other", targetAgentID: "b")
            #expect(copy.puts == 2 && copy.deletes == 0 && copy.sourceCommitTS == snapshot.commitTS)
            #expect(try await Self.state(engine, namespace: "other", agent: "b") == ["x": "1", "y": "\"two\""])
            let event = try await engine.readLog(LogFilter(namespace: "other")).items.last
            #expect(event?.metadata.tags["statehouse.fork.agent_id"] == "a")
            #expect(event?.metadata.tags["statehouse.fork.commit_ts"] == "\(snapshot.commitTS)")
            await #expect(throws: StatehouseError.self) {
                try await engine.fork(agentID: "a", targetNamespace: "other", targetAgentID: "b")
            }
            try await engine.put(namespace: "other", agent: "b", key: "extra", json: "true")
            let overwrite = try await engine.fork(
                agentID: "a", targetNamespace: "other", targetAgentID: "b", overwrite: true)
            #expect(overwrite.puts == 1 && overwrite.deletes == 1)
            #expect(try await Self.state(engine, namespace: "other", agent: "b") == ["x": "3", "y": "\"two\""])
            await #expect(throws: StatehouseError.self) { try await engine.fork(agentID: "a", targetAgentID: "a") }
        }
    }

    @Test("agent records: status, listing with filters and pages, delete keeps history and hides the agent")
    func agents() async throws {
        try await withTestEngine { engine in
            for agent in ["a", "b", "c"] { try await engine.put(agent: agent, key: "k", json: "1") }
            try await engine.put(agent: "a", key: "k2", json: "2")
            try await engine.updateAgent(agentID: "d", AgentUpdate(displayName: "Dee", status: "paused"))
            try await engine.updateAgentStatus(agentID: "b", status: "paused")
            let a = try await engine.getAgent(agentID: "a")
            #expect(a.status == "active" && a.keyCount == 2 && a.versionCount == 2 && a.displayName == nil)
            let d = try await engine.getAgent(agentID: "d")
            #expect(d.displayName == "Dee" && d.status == "paused" && d.keyCount == 0 && d.createdAt > 0)
            await #expect(throws: StatehouseError.self) { try await engine.getAgent(agentID: "nobody") }

            #expect(try await engine.listAgents().items == ["a", "b", "c", "d"])
            let paused = try await engine.listAgentRecords(status: "paused").items.map(\.agentID)
            #expect(paused == ["b", "d"])
            var pages: [String] = []
            var cursor: String?
            repeat {
                let page = try await engine.listAgentRecords(limit: 1, cursor: cursor)
                pages += page.items.map(\.agentID)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(pages == ["a", "b", "c", "d"])

            let deleted = try await engine.deleteAgent(agentID: "a")
            #expect(deleted.versions.count == 3)  // two tombstones and the record
            #expect(try await engine.listAgents().items == ["b", "c", "d"])
            #expect(
                try await engine.listAgentRecords(includeDeleted: true).items.map(\.agentID) == ["a", "b", "c", "d"])
            let gone = try await engine.getAgent(agentID: "a")
            #expect(gone.deleted && gone.keyCount == 0 && gone.versionCount == 4)
            #expect(try await engine.get(agentID: "a", key: "k", at: .version(1)).value == json("1"))
            // Writing to it again brings it back.
            try await engine.put(agent: "a", key: "k", json: "5")
            #expect(try await engine.getAgent(agentID: "a").deleted == false)
            // The reserved agents are Statehouse's: not listed, not writable.
            #expect(try await engine.listAgents(includeReserved: true).items.contains(ReservedNames.agentsAgent))
            await #expect(throws: StatehouseError.self) {
                try await engine.put(agent: ReservedNames.agentsAgent, key: "a", json: "{}")
            }
            await #expect(throws: StatehouseError.self) {
                try await engine.updateAgent(agentID: "@x", AgentUpdate(status: "active"))
            }
        }
    }

    @Test("snapshots: a name is unique until it expires; expired ones leave listings and are swept")
    func snapshotLifecycle() async throws {
        let clock = ManualClock(wall: 1_000_000_000)
        try await withTestEngine(clock: clock) { engine in
            try await engine.put(agent: "a", key: "k", json: "1")
            let keep = try await engine.createSnapshot(
                name: "keep", agentID: nil, description: "whole namespace", metadata: json(#"{"by":"test"}"#))
            #expect(keep.agentID == nil && keep.commitTS == 1 && keep.metadata == json(#"{"by":"test"}"#))
            try await engine.createSnapshot(name: "short", agentID: "a", expiresAt: 1_000_000_000 + 5_000_000)
            await #expect(throws: StatehouseError.self) { try await engine.createSnapshot(name: "keep", agentID: "a") }
            await #expect(throws: StatehouseError.self) { try await engine.createSnapshot(name: "", agentID: "a") }
            await #expect(throws: StatehouseError.self) {
                try await engine.createSnapshot(name: "past", agentID: "a", expiresAt: 1)
            }
            await #expect(throws: StatehouseError.self) {
                try await engine.createSnapshot(name: "future", agentID: "a", at: .commit(99))
            }
            #expect(try await engine.listSnapshots().items.map(\.name) == ["keep", "short"])
            #expect(try await engine.listSnapshots(agentID: "a").items.map(\.name) == ["short"])
            clock.advance(by: .seconds(6))
            #expect(try await engine.listSnapshots().items.map(\.name) == ["keep"])
            await #expect(throws: StatehouseError.self) { try await engine.getSnapshot(name: "short") }
            await #expect(throws: StatehouseError.self) { try await engine.restoreSnapshot(name: "short") }
            #expect(try await engine.sweepExpiredSnapshots() == 1)
            #expect(try await engine.sweepExpiredSnapshots() == 0)
            #expect(try await engine.get(agentID: ReservedNames.snapshotsAgent, key: "short").deleted)
            // An expired name can be taken again.
            try await engine.createSnapshot(name: "short", agentID: "a")
            try await engine.deleteSnapshot(name: "keep")
            await #expect(throws: StatehouseError.self) { try await engine.deleteSnapshot(name: "keep") }
            #expect(try await engine.listSnapshots().items.map(\.name) == ["short"])
        }
    }

    @Test("a namespace snapshot restores every agent and the agents' records, never the snapshots")
    func namespaceRestore() async throws {
        try await withTestEngine { engine in
            try await engine.put(agent: "a", key: "k", json: "1")
            try await engine.updateAgentStatus(agentID: "a", status: "working")
            try await engine.createSnapshot(name: "all", agentID: nil)
            try await engine.put(agent: "a", key: "k", json: "2")
            try await engine.put(agent: "b", key: "k", json: "3")
            try await engine.updateAgentStatus(agentID: "a", status: "done")
            try await engine.createSnapshot(name: "later", agentID: "a")
            let result = try await engine.restoreSnapshot(name: "all")
            #expect(result.puts == 2 && result.deletes == 1)
            #expect(try await Self.state(engine, agent: "a") == ["k": "1"])
            #expect(try await Self.state(engine, agent: "b") == [:])
            #expect(try await engine.getAgent(agentID: "a").status == "working")
            #expect(try await engine.listSnapshots().items.map(\.name) == ["all", "later"])
        }
    }
}

@Suite("Sessions and tasks", .timeLimit(.minutes(1)))
struct SessionAndTaskTests {
    @Test("sessions start and end once; tasks change field by field; both list by their filters and page")
    func sessionsAndTasks() async throws {
        let clock = ManualClock(wall: 5_000_000)
        try await withTestEngine(clock: clock) { engine in
            let first = try await engine.startSession(agentID: "a", metadata: json(#"{"channel":"chat"}"#))
            clock.advance(by: .seconds(1))
            let second = try await engine.startSession(agentID: "b", id: "b-1")
            #expect(first.status == "active" && first.endedAt == nil && first.startedAt == 5_000_000)
            let ended = try await engine.endSession(id: first.id, status: "done")
            #expect(ended.status == "done" && ended.endedAt == 6_000_000)
            #expect(try await engine.getSession(id: first.id) == ended)
            await #expect(throws: StatehouseError.self) { try await engine.endSession(id: first.id) }
            await #expect(throws: StatehouseError.self) { try await engine.startSession(agentID: "b", id: "b-1") }
            await #expect(throws: StatehouseError.self) { try await engine.getSession(id: "nope") }
            await #expect(throws: StatehouseError.self) { try await engine.startSession(agentID: "@agents") }
            #expect(try await engine.listSessions(status: "active").items.map(\.id) == [second.id])
            #expect(try await engine.listSessions(agentID: "a").items.map(\.id) == [first.id])
            let pages = try await engine.listSessions(limit: 1)
            #expect(pages.items.count == 1 && pages.nextCursor != nil)

            let task = try await engine.createTask(title: "report", description: "two\npages", assignedTo: "a")
            #expect(task.status == "pending" && task.description == "two\npages")
            clock.advance(by: .seconds(1))
            let updated = try await engine.updateTask(id: task.id, AgentTaskUpdate(status: "done"))
            #expect(updated.status == "done" && updated.title == "report" && updated.updatedAt == 7_000_000)
            #expect(updated.createdAt == task.createdAt && updated.assignedTo == "a")
            try await engine.createTask(title: "review", status: "blocked", id: "t-2")
            #expect(try await engine.listTasks(status: "blocked").items.map(\.id) == ["t-2"])
            #expect(try await engine.listTasks(assignedTo: "a").items.map(\.id) == [task.id])
            await #expect(throws: StatehouseError.self) { try await engine.createTask(title: "") }
            await #expect(throws: StatehouseError.self) {
                try await engine.updateTask(id: "missing", AgentTaskUpdate(status: "x"))
            }
            let log = try await engine.readLog(LogFilter()).items.flatMap(\.operations).map(\.agentID)
            #expect(Set(log) == [ReservedNames.sessionsAgent, ReservedNames.tasksAgent])
        }
    }
}

@Suite("Online backup", .timeLimit(.minutes(1)))
struct BackupTests {
    @Test("a backup taken under 4 concurrent writers opens at a consistent head and verifies")
    func underWriters() async throws {
        try await withTemporaryDirectory { directory in
            let store = directory + "/store"
            let backend = try await SQLiteBackend.open(configuration: .directory(store), logger: testLogger)
            var report: BackupReport?
            try await runEngine(backend: backend) { engine in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            for index in 0..<300 {
                                try await engine.put(
                                    namespace: "ns\(writer % 2)", agent: "w\(writer)", key: "k\(index % 20)",
                                    json: "{\"n\":\(index)}")
                            }
                        }
                    }
                    while try await engine.head(namespace: "ns0").commitTS < 100 { await Task.yield() }
                    report = try await engine.backup(toDirectory: directory + "/backup")
                    try await group.waitForAll()
                }
                await #expect(throws: StatehouseError.self) {
                    try await engine.backup(toDirectory: directory + "/backup")
                }
                await #expect(throws: StatehouseError.self) { try await engine.backup(toDirectory: "relative") }
                // Every key of the copy must equal the live store as of the copy's head.
                let copy = try await SQLiteBackend.open(
                    configuration: .directory(directory + "/backup"), logger: testLogger)
                for head in report!.heads {
                    #expect(try await copy.head(namespace: head.namespace) == head)
                    for agent in try await copy.listAgents(
                        namespace: head.namespace, after: nil, limit: 100, includeReserved: true)
                    {
                        let copied = try await copy.scan(
                            namespace: head.namespace, agentID: agent, prefix: "", after: nil, atCommit: nil,
                            limit: 1000)
                        let live = try await engine.scan(
                            namespace: head.namespace, agentID: agent, at: .commit(head.commitTS), limit: 1000)
                        #expect(copied.map(\.value) == live.items.map(\.value))
                    }
                }
                await copy.close()
            }
            let reopened = try await SQLiteBackend.open(
                configuration: .directory(directory + "/backup"), logger: testLogger)
            try await runEngine(backend: reopened) { engine in
                for head in report!.heads {
                    let verification = try await engine.verify(namespace: head.namespace)
                    #expect(verification.firstBadCommitTS == nil && verification.head == head)
                }
            }
            #expect(report!.heads.count == 2 && report!.bytes > 0)
        }
    }
}

@Suite("Log import", .timeLimit(.minutes(1)))
struct LogImportTests {
    @Test("an imported log gives the same commit_ts, versions, values, metadata and times; a broken chain is refused")
    func roundTrip() async throws {
        try await withTestEngine { engine in
            for index in 0..<30 {
                _ = try await engine.commit(
                    AtomicCommit(
                        operations: [
                            .put(agentID: "a", key: "k\(index % 7)", value: json("{\"n\":\(index)}")),
                            index % 5 == 0
                                ? .delete(agentID: "b", key: "x") : .put(agentID: "b", key: "x", value: json("1")),
                        ],
                        metadata: CommitMetadata(reason: "step \(index)")))
            }
            _ = try await engine.recordEvents([AgentEventDraft(agentID: "a", type: "t", content: json("\"e\""))])
            let events = try await engine.readLog(LogFilter()).items
            let importer = try await engine.beginImport(into: "copy", from: "default")
            try await importer.append(Array(events.prefix(10)))
            try await importer.append(Array(events.dropFirst(10)))
            let head = try await importer.finish()
            #expect(head.commitTS == 31 && importer.imported == 31)
            let copied = try await engine.readLog(LogFilter(namespace: "copy")).items
            #expect(copied.map(\.operations) == events.map(\.operations))
            #expect(copied.map(\.metadata) == events.map(\.metadata))
            #expect(copied.map(\.committedAt) == events.map(\.committedAt))
            #expect(try await engine.verify(namespace: "copy").firstBadCommitTS == nil)
            #expect(try await engine.events(namespace: "copy").items.map(\.content) == [json("\"e\"")])

            await #expect(throws: StatehouseError.self) { try await engine.beginImport(into: "copy", from: "default") }
            var tampered = events
            tampered[4].operations[0].value = json("{\"n\":999}")
            let second = try await engine.beginImport(into: "other", from: "default")
            await #expect(
                throws: StatehouseError.dataCorruption(
                    commitTS: 5, reason: "the event's content does not match its hash")
            ) {
                try await second.append(tampered)
            }
            #expect(try await engine.head(namespace: "other").commitTS == 0)
            let third = try await engine.beginImport(into: "third", from: "default")
            await #expect(throws: StatehouseError.self) { try await third.append(Array(events.dropFirst(1))) }
            let wrongSource = try await engine.beginImport(into: "fourth", from: "elsewhere")
            await #expect(throws: StatehouseError.self) { try await wrongSource.append(events) }
        }
    }

    /// A chain whose hashes were recomputed after a change: it links, so only the other checks can refuse it.
    private static func rehashed(_ events: [Event], change: (inout [Event]) -> Void) -> [Event] {
        var changed = events
        change(&changed)
        var previous = HashChain.genesisHash
        for index in changed.indices {
            let event = changed[index]
            changed[index].prevHash = previous
            changed[index].hash = HashChain.hash(
                prevHash: previous, commitTS: event.commitTS, namespace: event.namespace, txnID: event.txnID,
                committedAt: event.committedAt, metadata: event.metadata, operations: event.operations)
            previous = changed[index].hash
        }
        return changed
    }

    @Test("a chain that links but skips a version or goes back in time is refused, and nothing of its batch is stored")
    func forgedChains() async throws {
        try await withTestEngine { engine in
            for index in 0..<12 {
                try await engine.put(agent: "a", key: "k\(index % 3)", json: "\(index)")
            }
            let events = try await engine.readLog(LogFilter()).items
            let skipped = Self.rehashed(events) { $0[7].operations[0].version += 1 }
            let first = try await engine.beginImport(into: "skipped", from: "default", eventsPerTransaction: 4)
            try await first.append(Array(skipped.prefix(5)))
            await #expect(
                throws: StatehouseError.dataCorruption(
                    commitTS: 8, reason: "agent 'a' key 'k1' goes from version 2 to 4")
            ) {
                try await first.append(Array(skipped.dropFirst(5)))
            }
            // The batch before the bad one stays, whole and durable; nothing of the bad one is stored.
            #expect(try await engine.head(namespace: "skipped").commitTS == 5)
            #expect(try await engine.verify(namespace: "skipped").firstBadCommitTS == nil)

            let backwards = Self.rehashed(events) { $0[3].committedAt = $0[2].committedAt - 1 }
            let second = try await engine.beginImport(into: "backwards", from: "default")
            await #expect(throws: StatehouseError.self) { try await second.append(backwards) }
            #expect(try await engine.head(namespace: "backwards").commitTS == 0)
        }
    }

    @Test("an import spans several storage transactions, reaches a watcher in order, and is searchable and provable")
    func largeImport() async throws {
        try await withTestEngine { engine in
            for index in 0..<60 {
                _ = try await engine.commit(
                    AtomicCommit(
                        operations: [.put(agentID: "a\(index % 4)", key: "k\(index % 9)", value: json("\(index)"))],
                        metadata: CommitMetadata(reason: index == 33 ? "calibration of the probe" : "step \(index)")))
            }
            let events = try await engine.readLog(LogFilter()).items
            let watcher = Task {
                var seen: [CommitTS] = []
                for try await event in try await engine.watch(namespace: "copy", from: 1) {
                    seen.append(event.commitTS)
                    if event.commitTS == 60 { break }
                }
                return seen
            }
            let importer = try await engine.beginImport(into: "copy", from: "default", eventsPerTransaction: 7)
            for start in stride(from: 0, to: 60, by: 10) {
                try await importer.append(Array(events[start..<start + 10]))
            }
            #expect(try await importer.finish().commitTS == 60)
            #expect(try await watcher.value == Array(1...60))
            #expect(try await engine.verify(namespace: "copy").firstBadCommitTS == nil)
            let hits = try await engine.search(namespace: "copy", SearchQuery("calibration")).items
            #expect(hits.map(\.commitTS) == [34])
            let proof = try await engine.inclusionProof(namespace: "copy", commitTS: 17)
            #expect(proof.treeSize == 60)
            for (copied, original) in zip(try await engine.readLog(LogFilter(namespace: "copy")).items, events) {
                #expect(copied.operations == original.operations && copied.committedAt == original.committedAt)
            }
        }
    }

    @Test("a commit to the target namespace during an import stops the import with a conflict")
    func concurrentWriter() async throws {
        try await withTestEngine { engine in
            for index in 0..<10 { try await engine.put(agent: "a", key: "k", json: "\(index)") }
            let events = try await engine.readLog(LogFilter()).items
            let importer = try await engine.beginImport(into: "copy", from: "default", eventsPerTransaction: 5)
            try await importer.append(Array(events.prefix(5)))
            // append() only starts storing a full transaction; the intruder must come after it is stored (on
            // PostgreSQL the two are separate database transactions, and the put could otherwise lock the namespace
            // first and make the import's first transaction the one that conflicts).
            for _ in 0..<1_000 where importer.imported < 5 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(importer.imported == 5)
            try await engine.put(namespace: "copy", agent: "intruder", key: "k", json: "1")
            try await importer.append(Array(events.dropFirst(5)))
            await #expect(throws: StatehouseError.self) { _ = try await importer.finish() }
            #expect(try await engine.head(namespace: "copy").commitTS == 6)
        }
    }
}
