import StatehouseSQLite
import StatehouseTesting
import Testing

@testable import StatehouseCore

/// Agent events: recorded through the commit path, found again by agent, session, type, actor and time.
@Suite("Agent events", .timeLimit(.minutes(2)))
struct AgentEventTests {
    static func draft(
        _ agent: String, _ type: String, _ content: String, session: String? = nil, actor: String? = nil,
        at occurredAt: Microseconds? = nil
    ) -> AgentEventDraft {
        AgentEventDraft(
            agentID: agent, type: type, content: json(content), sessionID: session, actor: actor,
            occurredAt: occurredAt)
    }

    /// Every page of a query, in order.
    static func all(
        _ engine: StatehouseEngine, _ filter: AgentEventFilter, pageSize: Int = 1000
    ) async throws
        -> [AgentEvent]
    {
        var events: [AgentEvent] = []
        var cursor: String?
        repeat {
            let page = try await engine.events(filter: filter, limit: pageSize, cursor: cursor)
            events += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return events
    }

    @Test(
        "events are found by session, type, actor, agent and time, in the order they were recorded",
        arguments: StoreKind.allCases)
    func queries(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            var recorded: [AgentEvent] = []
            for index in 0..<30 {
                recorded += try await engine.recordEvents([
                    Self.draft(
                        index % 2 == 0 ? "a" : "b", index % 3 == 0 ? "error" : "message", "{\"n\":\(index)}",
                        session: index < 20 ? "s\(index % 4)" : nil, actor: index % 5 == 0 ? "user" : nil,
                        at: 1_000_000 + Microseconds(index) * 1000)
                ])
            }
            #expect(try await Self.all(engine, AgentEventFilter()).map(\.id) == recorded.map(\.id))
            #expect(try await Self.all(engine, AgentEventFilter(), pageSize: 7).map(\.id) == recorded.map(\.id))
            func expected(_ keep: (Int) -> Bool) -> [String] { recorded.indices.filter(keep).map { recorded[$0].id } }
            let bySession = try await Self.all(engine, AgentEventFilter(sessionID: "s1"), pageSize: 2)
            #expect(bySession.map(\.id) == expected { $0 < 20 && $0 % 4 == 1 })
            #expect(try await Self.all(engine, AgentEventFilter(type: "error")).map(\.id) == expected { $0 % 3 == 0 })
            #expect(try await Self.all(engine, AgentEventFilter(actor: "user")).map(\.id) == expected { $0 % 5 == 0 })
            let errorsOfA = try await Self.all(engine, AgentEventFilter(agentID: "a", type: "error"))
            #expect(errorsOfA.map(\.id) == expected { $0 % 2 == 0 && $0 % 3 == 0 })
            let window = try await Self.all(engine, AgentEventFilter(since: 1_005_000, until: 1_009_000))
            #expect(window.map(\.id) == expected { (5...9).contains($0) })
            #expect(try await Self.all(engine, AgentEventFilter(sessionID: "none")).isEmpty)

            let one = try await engine.event(id: recorded[3].id)
            #expect(one == recorded[3])
            #expect(one.content == json("{\"n\":3}") && one.sessionID == "s3" && one.occurredAt == 1_003_000)
            await #expect(throws: StatehouseError.self) { try await engine.event(id: "nope") }
        }
    }

    @Test("events are recorded in the same commit as state writes, and replay returns them")
    func withStateWrites() async throws {
        try await withTestEngine { engine in
            let id = TransactionID.make()
            let result = try await engine.commit(
                AtomicCommit(
                    operations: [.put(agentID: "a", key: "k", value: json("1"))],
                    metadata: CommitMetadata(reason: "tool ran"),
                    events: [
                        AgentEventDraft(
                            agentID: "a", type: "tool_call", content: json(#"{"tool":"search","q":"x"}"#),
                            sessionID: "s", metadata: json(#"{"ms":12}"#), id: id)
                    ]))
            #expect(result.versions == [1, 1])
            let event = try await engine.event(id: id)
            #expect(event.commitTS == result.commitTS && event.metadata == json(#"{"ms":12}"#))
            let logged = try await engine.readLog(LogFilter()).items
            #expect(logged.count == 1)
            #expect(logged[0].operations.map(\.agentID) == ["a", ReservedNames.eventsAgent])
            // An id is recorded once: a second commit with it fails and writes nothing, state writes included.
            await #expect(throws: StatehouseError.self) {
                try await engine.commit(
                    AtomicCommit(
                        operations: [.put(agentID: "a", key: "k", value: json("2"))],
                        events: [AgentEventDraft(agentID: "a", type: "again", content: json("null"), id: id)]))
            }
            #expect(try await engine.get(agentID: "a", key: "k").value == json("1"))
            #expect(try await engine.verify(namespace: "default").firstBadCommitTS == nil)
        }
    }

    @Test(
        "bad events are refused and change nothing",
        arguments: [
            AgentEventDraft(agentID: "a", type: "", content: json("1")),
            AgentEventDraft(agentID: "@agents", type: "t", content: json("1")),
            AgentEventDraft(agentID: "a", type: "t", content: json("1"), sessionID: ""),
            AgentEventDraft(agentID: "a", type: "t", content: json("1"), id: "not-a-uuid"),
            AgentEventDraft(agentID: "a", type: "t", content: json("1"), id: "0190A3B2-7C00-7000-8000-000000000000"),
            AgentEventDraft(agentID: "", type: "t", content: json("1")),
        ])
    func badInput(_ draft: AgentEventDraft) async throws {
        try await withTestEngine { engine in
            await #expect(throws: StatehouseError.self) { try await engine.recordEvents([draft]) }
            let head = try await engine.head()
            #expect(head.commitTS == 0)
        }
    }

    @Test("an event deleted from @events leaves the index; migration 3 indexes events stored before it")
    func indexFollowsTheLog() async throws {
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            var ids: [String] = []
            try await runEngine(backend: backend) { engine in
                ids = try await engine.recordEvents((0..<5).map { Self.draft("a", "t", "\($0)", session: "s") })
                    .map(\.id)
                _ = try await engine.systemCommit(
                    namespace: "default", operations: [.delete(agentID: ReservedNames.eventsAgent, key: ids[1])],
                    metadata: CommitMetadata())
                let found = try await Self.all(engine, AgentEventFilter(sessionID: "s")).map(\.id)
                #expect(found == [0, 2, 3, 4].map { ids[$0] })
            }
            let remaining = [0, 2, 3, 4].map { ids[$0] }
            try tamper(
                directory: directory,
                undoMigration5 + "DROP TABLE agent_events; DROP TABLE search_text; DROP TABLE search_docs; "
                    + "DELETE FROM schema_migrations WHERE version >= 3")
            let reopened = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: reopened) { engine in
                let found = try await Self.all(engine, AgentEventFilter(sessionID: "s")).map(\.id)
                #expect(found == remaining)
            }
        }
    }
}
