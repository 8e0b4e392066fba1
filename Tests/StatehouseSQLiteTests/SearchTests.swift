import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

/// Full-text search over state values, agent events and commit metadata.
@Suite("Search", .timeLimit(.minutes(2)))
struct SearchTests {
    /// A hit's document, score and snippet, to compare hits found by two queries.
    static func identity(_ hit: SearchHit) -> String {
        "\(hit.kind) \(hit.eventID ?? "") \(hit.agentID ?? "") \(hit.key ?? "") \(hit.version ?? 0) \(hit.score) \(hit.snippet)"
    }

    static func hits(_ engine: StatehouseEngine, _ query: SearchQuery, pageSize: Int = 20) async throws -> [SearchHit] {
        var hits: [SearchHit] = []
        var cursor: String?
        repeat {
            let page = try await engine.search(query, limit: pageSize, cursor: cursor)
            hits += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return hits
    }

    /// An engine whose store indexes state values (``SQLiteConfiguration/searchState``).
    static func withSearchingEngine(_ body: (StatehouseEngine) async throws -> Void) async throws {
        var configuration = SQLiteConfiguration.inMemory()
        configuration.searchState = true
        try await runEngine(
            backend: try await SQLiteBackend.open(configuration: configuration, logger: testLogger), body)
    }

    @Test("state values are not indexed unless the store is told to")
    func stateIndexIsOptIn() async throws {
        try await withTestEngine { engine in
            try await engine.put(agent: "a", key: "k", json: #""brown fox""#)
            _ = try await engine.recordEvents([AgentEventDraft(agentID: "a", type: "t", content: json(#""brown""#))])
            #expect(try await Self.hits(engine, SearchQuery("brown")).map(\.kind) == [.event])
        }
    }

    @Test("state: current versions by default, every version with history; deleted keys are not found")
    func state() async throws {
        try await Self.withSearchingEngine { engine in
            try await engine.put(agent: "a", key: "notes/1", json: #"{"text":"the quick brown fox","n":1}"#)
            try await engine.put(agent: "a", key: "notes/2", json: #"["lazy dog", {"deep": "brown bear"}]"#)
            try await engine.put(agent: "b", key: "notes/1", json: #""brown paper""#)
            try await engine.put(agent: "a", key: "plain", json: "42")
            let brown = try await Self.hits(engine, SearchQuery("brown"))
            #expect(Set(brown.map { "\($0.agentID!)/\($0.key!)" }) == ["a/notes/1", "a/notes/2", "b/notes/1"])
            #expect(brown.allSatisfy { $0.kind == .state && $0.snippet.contains("«brown»") && $0.score > 0 })
            let quick = try await Self.hits(engine, SearchQuery("quick fox"))
            #expect(quick.map(\.key) == ["notes/1"] && quick[0].version == 1)

            try await engine.put(agent: "a", key: "notes/1", json: #""slow turtle""#)
            #expect(try await Self.hits(engine, SearchQuery("fox")).isEmpty)
            let history = try await Self.hits(engine, SearchQuery("fox", history: true))
            #expect(history.map(\.version) == [1])
            _ = try await engine.commit(AtomicCommit(operations: [.delete(agentID: "b", key: "notes/1")]))
            #expect(try await Self.hits(engine, SearchQuery("paper")).isEmpty)

            let onlyA = try await Self.hits(engine, SearchQuery("brown", agentID: "a"))
            #expect(onlyA.map(\.key) == ["notes/2"])
            #expect(try await Self.hits(engine, SearchQuery("brown", keyPrefix: "notes/")).count == 1)
            #expect(try await Self.hits(engine, SearchQuery("brown", keyPrefix: "other/")).isEmpty)
        }
    }

    @Test("events and commit metadata, with filters, ranking and pages")
    func eventsAndMetadata() async throws {
        let clock = ManualClock(wall: 1_000_000)
        try await withTestEngine(clock: clock) { engine in
            for index in 0..<25 {
                clock.advance(by: .seconds(1))
                _ = try await engine.recordEvents([
                    AgentEventDraft(
                        agentID: index % 2 == 0 ? "a" : "b", type: index % 5 == 0 ? "error" : "message",
                        content: json(#"{"text":"disk \#(index % 3 == 0 ? "full" : "ok") number \#(index)"}"#),
                        sessionID: "s\(index % 4)", actor: "tool")
                ])
            }
            _ = try await engine.commit(
                AtomicCommit(
                    operations: [.put(agentID: "a", key: "k", value: json("1"))],
                    metadata: CommitMetadata(actor: "operator", reason: "cleanup after the disk filled up")))
            let full = try await Self.hits(engine, SearchQuery("disk full", kinds: [.event]), pageSize: 3)
            #expect(full.count == 9 && Set(full.map(\.eventID)).count == 9)
            #expect(full.allSatisfy { $0.kind == .event && $0.actor == "tool" && $0.snippet.contains("«full»") })
            let inSession = try await Self.hits(engine, SearchQuery("disk", sessionID: "s1"))
            #expect(inSession.count == 6 && inSession.allSatisfy { $0.sessionID == "s1" })
            let errors = try await Self.hits(engine, SearchQuery("disk", agentID: "a", type: "error"))
            #expect(errors.count == 3)
            let late = try await Self.hits(engine, SearchQuery("number", since: 1_000_000 + 20_000_000))
            #expect(late.count == 6)
            let commits = try await Self.hits(engine, SearchQuery("filled", kinds: [.commit]))
            #expect(commits.count == 1 && commits[0].actor == "operator" && commits[0].kind == .commit)
            #expect(try await Self.hits(engine, SearchQuery("filled", actor: "someone")).isEmpty)
            #expect(try await Self.hits(engine, SearchQuery("disk OR cleanup")).count == 26)
            #expect(try await Self.hits(engine, SearchQuery("dis*", kinds: [.event])).count == 25)
        }
    }

    @Test(
        "a search filtered by agent (found from the agent's documents) gives the unfiltered search's hits of that agent"
    )
    func agentFilterAgrees() async throws {
        try await Self.withSearchingEngine { engine in
            let words = ["disk", "network", "timeout", "memory"]
            for index in 0..<300 {
                let text = "\(words[index % 4]) \(words[(index / 4) % 4]) item \(index)"
                _ = try await engine.recordEvents([
                    AgentEventDraft(
                        agentID: "agent-\(index % 3)", type: index % 2 == 0 ? "error" : "message",
                        content: json("{\"text\":\"\(text)\"}"), sessionID: "s\(index % 5)")
                ])
                if index % 10 == 0 {
                    try await engine.put(agent: "agent-\(index % 3)", key: "note/\(index)", json: "\"\(text)\"")
                }
            }
            for query in ["disk network", "timeout", "memory OR disk", "item"] {
                let all = try await Self.hits(engine, SearchQuery(query), pageSize: 50)
                for agent in ["agent-0", "agent-1", "agent-2", "nobody"] {
                    let filtered = try await Self.hits(engine, SearchQuery(query, agentID: agent), pageSize: 7)
                    // The same hits with the same scores (ties may come in another order) and the ranking kept.
                    #expect(
                        Set(filtered.map(Self.identity)) == Set(all.filter { $0.agentID == agent }.map(Self.identity)))
                    #expect(filtered.map(\.score) == filtered.map(\.score).sorted(by: >))
                    let narrower = try await Self.hits(
                        engine, SearchQuery(query, kinds: [.event], agentID: agent, type: "error", sessionID: "s2"))
                    #expect(
                        Set(narrower.compactMap(\.eventID))
                            == Set(
                                all.filter {
                                    $0.agentID == agent && $0.type == "error" && $0.sessionID == "s2"
                                        && $0.kind == .event
                                }.compactMap(\.eventID)))
                }
            }
        }
    }

    @Test(
        "malformed queries are invalid arguments naming the parser's reason",
        arguments: ["\"unclosed", "AND", "a NEAR(", "(disk", "nosuchcolumn:x", "disk) OR (x", "   ", ""])
    func malformed(_ text: String) async throws {
        try await withTestEngine { engine in
            try await engine.put(agent: "a", key: "k", json: #""disk""#)
            await #expect {
                try await engine.search(SearchQuery(text))
            } throws: { error in
                guard case StatehouseError.invalidArgument(let message) = error else { return false }
                return message.contains("search query")
            }
        }
    }

    @Test("migration 4 indexes what was stored before the index existed")
    func migrationBuildsIndex() async throws {
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: backend) { engine in
                try await engine.put(agent: "a", key: "k", json: #""old words""#)
                try await engine.put(agent: "a", key: "k", json: #""new words""#)
                _ = try await engine.recordEvents([
                    AgentEventDraft(agentID: "a", type: "t", content: json(#""event words""#))
                ])
            }
            try tamper(
                directory: directory,
                undoMigration5
                    + "DROP TABLE search_text; DROP TABLE search_docs; DELETE FROM schema_migrations WHERE version >= 4"
            )
            let reopened = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: reopened) { engine in
                let words = try await Self.hits(engine, SearchQuery("words"))
                #expect(Set(words.map(\.kind)) == [.state, .event] && words.count == 2)
                #expect(try await Self.hits(engine, SearchQuery("old", history: true)).count == 1)
            }
        }
    }
}
