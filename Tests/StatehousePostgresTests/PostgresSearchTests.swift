import Foundation
import StatehouseCore
import StatehouseModel
import StatehouseSQLite
import Testing

@testable import StatehousePostgres

/// Agent events and full-text search on PostgreSQL, checked against the SQLite backend given the same commits: both
/// must return the same events, and the same hits (ranking numbers and the order of equal ones aside).
@Suite("PostgreSQL backend: agent events and search", .timeLimit(.minutes(2)))
struct PostgresSearchTests {
    /// One store on both backends: every batch is committed to each, at the same time.
    final class Stores {
        let postgres: PostgresBackend
        let sqlite: SQLiteBackend
        var now: Microseconds = 1_000_000

        init(postgres: PostgresBackend, sqlite: SQLiteBackend) {
            self.postgres = postgres
            self.sqlite = sqlite
        }

        func commit(_ batch: [CommitRequest]) async throws {
            self.now += 1_000_000
            let expected = try await self.sqlite.commit(batch, now: self.now)
            let resolution = try await self.postgres.commit(batch, now: self.now)
            #expect(resolution.events.map(\.commitTS) == expected.events.map(\.commitTS))
            #expect(resolution.results.allSatisfy { (try? $0.get()) != nil })
        }

        func commit(_ operations: [WriteOperation], metadata: CommitMetadata = CommitMetadata()) async throws {
            try await self.commit([PostgresSearchTests.request(operations, metadata: metadata)])
        }
    }

    static func withStores(searchState: Bool = false, _ body: (Stores) async throws -> Void) async throws {
        try await TestDatabase.withFresh { settings in
            var configuration = SQLiteConfiguration.inMemory()
            configuration.searchState = searchState
            let sqlite = try await SQLiteBackend.open(configuration: configuration, logger: TestDatabase.logger)
            let postgres = try await PostgresBackend(
                settings: settings, searchState: searchState, logger: TestDatabase.logger)
            do {
                try await body(Stores(postgres: postgres, sqlite: sqlite))
            } catch {
                await postgres.close()
                await sqlite.close()
                throw error
            }
            await postgres.close()
            await sqlite.close()
        }
    }

    static func request(
        _ operations: [WriteOperation], metadata: CommitMetadata = CommitMetadata(), namespace: String = "default"
    ) -> CommitRequest {
        CommitRequest(
            namespace: namespace, txnID: UUID().uuidString, operations: operations, metadata: metadata,
            mayBeRetry: false)
    }

    /// A put under `@events` holding an event record (AgentEventCodec's format).
    static func event(
        _ id: String, agent: String = "a", type: String = "message", text: String, session: String? = nil,
        actor: String? = nil, metadata: String? = nil, at occurredAt: Microseconds = 5_000
    ) -> WriteOperation {
        let draft = AgentEventDraft(
            agentID: agent, type: type, content: JSONValue(trusted: Array(#"{"text":"\#(text)"}"#.utf8)),
            sessionID: session, actor: actor, metadata: metadata.map { JSONValue(trusted: Array($0.utf8)) })
        return .put(
            agentID: ReservedNames.eventsAgent, key: id,
            value: AgentEventCodec.value(draft, id: id, occurredAt: occurredAt))
    }

    static func state(_ agent: String, _ key: String, _ json: String) -> WriteOperation {
        .put(agentID: agent, key: key, value: JSONValue(trusted: Array(json.utf8)))
    }

    /// Every event matching `filter`, read from PostgreSQL in pages of `pageSize`.
    static func pagedEvents(
        _ backend: PostgresBackend, _ filter: AgentEventFilter, namespace: String = "default", pageSize: Int
    ) async throws -> [(sequence: Int64, record: StateRecord)] {
        var all: [(sequence: Int64, record: StateRecord)] = []
        while true {
            let page = try await backend.agentEvents(
                namespace: namespace, filter: filter, after: all.last?.sequence, limit: pageSize)
            all += page
            if page.count < pageSize { return all }
        }
    }

    /// Checks that PostgreSQL returns SQLite's events for `filter` (whole and in pages, in increasing sequence).
    @discardableResult
    static func sameEvents(
        _ stores: Stores, _ filter: AgentEventFilter, namespace: String = "default",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [StateRecord] {
        let expected = try await stores.sqlite.agentEvents(
            namespace: namespace, filter: filter, after: nil, limit: 1_000
        ).map(\.record)
        let whole = try await stores.postgres.agentEvents(
            namespace: namespace, filter: filter, after: nil, limit: 1_000)
        let paged = try await Self.pagedEvents(stores.postgres, filter, namespace: namespace, pageSize: 4)
        #expect(whole.map(\.record) == expected, "\(filter)", sourceLocation: sourceLocation)
        #expect(paged.map(\.record) == expected, "\(filter) in pages", sourceLocation: sourceLocation)
        #expect(
            whole.map(\.sequence) == whole.map(\.sequence).sorted() && Set(whole.map(\.sequence)).count == whole.count,
            sourceLocation: sourceLocation)
        return whole.map(\.record)
    }

    /// A hit's document (what must agree between the backends; scores and snippets may differ).
    static func document(_ hit: SearchHit) -> String {
        [
            "\(hit.kind)", hit.agentID ?? "-", hit.key ?? "-", hit.version.map { "\($0)" } ?? "-", hit.eventID ?? "-",
            hit.type ?? "-", hit.sessionID ?? "-", hit.actor ?? "-", "\(hit.commitTS)", "\(hit.committedAt)",
        ].joined(separator: " ")
    }

    @Test("agent events by agent, session, type, actor and time come in recording order, in pages, as from SQLite")
    func agentEvents() async throws {
        try await Self.withStores { stores in
            let types = ["message", "error", "tool"]
            var index = 0
            for _ in 0..<10 {
                // A state write first, so the events are not the commit's first operations.
                var operations = [Self.state("a", "k\(index)", "\(index)")]
                for _ in 0..<3 {
                    operations.append(
                        Self.event(
                            "e\(String(format: "%02d", index))", agent: index % 2 == 0 ? "a" : "b",
                            type: types[index % 3], text: "event \(index)", session: "s\(index % 3)",
                            actor: index % 4 == 0 ? "user" : nil, at: Int64(index) * 1_000))
                    index += 1
                }
                try await stores.commit(operations)
            }
            try await stores.commit([
                Self.request([Self.event("x", text: "elsewhere")], namespace: "other")
            ])
            let all = try await Self.sameEvents(stores, AgentEventFilter())
            #expect(all.map(\.key) == (0..<30).map { "e\(String(format: "%02d", $0))" })
            #expect(all.allSatisfy { $0.agentID == ReservedNames.eventsAgent && $0.value != nil })
            #expect(try await Self.sameEvents(stores, AgentEventFilter(agentID: "a")).count == 15)
            #expect(try await Self.sameEvents(stores, AgentEventFilter(sessionID: "s1")).count == 10)
            #expect(try await Self.sameEvents(stores, AgentEventFilter(type: "error")).count == 10)
            #expect(try await Self.sameEvents(stores, AgentEventFilter(actor: "user")).count == 8)
            #expect(try await Self.sameEvents(stores, AgentEventFilter(since: 10_000, until: 20_000)).count == 11)
            #expect(try await Self.sameEvents(stores, AgentEventFilter(until: 4_000)).count == 5)
            let narrow = try await Self.sameEvents(
                stores, AgentEventFilter(agentID: "b", sessionID: "s2", type: "tool"))
            #expect(narrow.map(\.key) == ["e05", "e11", "e17", "e23", "e29"])
            #expect(try await Self.sameEvents(stores, AgentEventFilter(agentID: "nobody")).isEmpty)
            #expect(try await Self.sameEvents(stores, AgentEventFilter(), namespace: "other").map(\.key) == ["x"])
            #expect(try await Self.sameEvents(stores, AgentEventFilter(), namespace: "missing").isEmpty)
            // A position is a place in the log: the events after the 7th are the last 23.
            let positions = try await stores.postgres.agentEvents(
                namespace: "default", filter: AgentEventFilter(), after: nil, limit: 100)
            let rest = try await stores.postgres.agentEvents(
                namespace: "default", filter: AgentEventFilter(), after: positions[6].sequence, limit: 100)
            #expect(rest.map(\.record.key) == all.dropFirst(7).map(\.key))
        }
    }

    @Test("a rewritten event key keeps only its latest version's row, also when rewritten within one batch")
    func rewrittenEvents() async throws {
        try await Self.withStores { stores in
            try await stores.commit([Self.event("e1", type: "old", text: "first words")])
            try await stores.commit([Self.event("e1", type: "new", text: "second words")])
            #expect(try await Self.sameEvents(stores, AgentEventFilter()).map(\.version) == [2])
            #expect(try await Self.sameEvents(stores, AgentEventFilter(type: "old")).isEmpty)
            // Two versions in one batch (two commits of one group commit), then put, put and delete.
            try await stores.commit([
                Self.request([Self.event("e2", type: "t1", text: "a")]),
                Self.request([Self.event("e2", type: "t2", text: "b")]),
            ])
            try await stores.commit([
                Self.request([Self.event("e3", text: "c")]), Self.request([Self.event("e3", text: "d")]),
                Self.request([.delete(agentID: ReservedNames.eventsAgent, key: "e3")]),
            ])
            let events = try await Self.sameEvents(stores, AgentEventFilter())
            #expect(events.map { "\($0.key)@\($0.version)" } == ["e1@2", "e2@2"])
            // A value that is not an event record is not indexed, and replaces the row of the record before it.
            try await stores.commit([Self.state(ReservedNames.eventsAgent, "e2", "42")])
            try await stores.commit([.delete(agentID: ReservedNames.eventsAgent, key: "e1")])
            #expect(try await Self.sameEvents(stores, AgentEventFilter()).isEmpty)
            // The old versions' documents are not current either.
            #expect(
                try await stores.sqlite.search(namespace: "default", SearchQuery("words"), offset: 0, limit: 9).isEmpty)
            #expect(
                try await stores.postgres.search(namespace: "default", SearchQuery("words"), offset: 0, limit: 9)
                    .isEmpty)
        }
    }

    /// Commits of events, commit metadata and state, the same on both backends.
    static func searchable(_ stores: Stores) async throws {
        let texts = [
            "disk full on host alpha", "network timeout talking to api.example.com", "the planner booked a flight",
            "disk ok", "cleanup of the disk started", "flight delayed, the planner rebooked",
        ]
        for (index, text) in texts.enumerated() {
            try await stores.commit([
                Self.event(
                    "e\(index)", agent: index % 2 == 0 ? "a" : "b", type: index % 3 == 0 ? "error" : "message",
                    text: text, session: "s\(index % 2)", actor: index % 3 == 1 ? "tool" : nil,
                    metadata: index == 2 ? #"{"note":"window seat, brown bag"}"# : nil, at: Int64(index) * 10_000)
            ])
        }
        let long = (1...40).map { "word\($0)" }.joined(separator: " ").replacingOccurrences(
            of: "word20", with: "needle")
        try await stores.commit([Self.event("long", text: long)])
        try await stores.commit([
            Self.state("a", "notes/1", #"{"text":"the quick brown fox","n":1}"#),
            Self.state("a", "notes/2", #"["lazy dog", {"deep": "brown bear"}]"#),
            Self.state("b", "notes/1", #""brown paper""#), Self.state("a", "plain", "42"),
        ])
        try await stores.commit(
            [Self.state("a", "notes/1", #""slow turtle""#)],
            metadata: CommitMetadata(
                actor: "operator", reason: "cleanup after the disk filled up", tags: ["ticket": "OPS-12"]))
        try await stores.commit([.delete(agentID: "b", key: "notes/1")])
    }

    @Test("search finds SQLite's documents for FTS5 queries and every filter, ranked and paged")
    func searchAgreesWithSQLite() async throws {
        try await Self.withStores(searchState: true) { stores in
            try await Self.searchable(stores)
            let texts = [
                "disk", "disk full", "\"disk full\"", "dis*", "disk OR cleanup", "disk NOT full",
                "full AND (disk OR cleanup)",
                "brown", "fox", "flight", "example", "api", "\"planner booked\"*", "planner + booked", "PLANNER",
                "flight NOT planner booked", "\"\" NOT disk", "disk OR \"\"", "ops 12", "\"ops-12\"", "needle",
                "timeout api", "window_seat", "nothing", "flight OR (turtle AND slow) OR operator",
            ]
            let queries: [(String) -> SearchQuery] = [
                { SearchQuery($0) }, { SearchQuery($0, kinds: [.event]) },
                { SearchQuery($0, kinds: [.state, .commit]) },
                { SearchQuery($0, agentID: "a") }, { SearchQuery($0, type: "error") },
                { SearchQuery($0, sessionID: "s1") },
                { SearchQuery($0, actor: "tool") }, { SearchQuery($0, actor: "operator") },
                { SearchQuery($0, keyPrefix: "notes/") }, { SearchQuery($0, since: 20_000, until: 40_000) },
                { SearchQuery($0, history: true) }, { SearchQuery($0, kinds: [.event], agentID: "b", sessionID: "s1") },
            ]
            var found = 0
            for text in texts {
                for make in queries {
                    let query = make(text)
                    let expected = try await stores.sqlite.search(namespace: "default", query, offset: 0, limit: 100)
                    let hits = try await stores.postgres.search(namespace: "default", query, offset: 0, limit: 100)
                    #expect(Set(hits.map(Self.document)) == Set(expected.map(Self.document)), "\(query)")
                    #expect(hits.count == expected.count, "\(query)")
                    #expect(hits.allSatisfy { $0.score > 0 }, "\(query)")
                    #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >), "\(query)")
                    found += hits.count
                }
            }
            #expect(found > 100)
            // Current versions only, unless asked for history; deleted keys are not found.
            let brown = try await stores.postgres.search(
                namespace: "default", SearchQuery("brown"), offset: 0, limit: 9)
            #expect(
                Set(brown.map { "\($0.kind) \($0.agentID ?? "") \($0.key ?? $0.eventID ?? "")" }) == [
                    "state a notes/2", "event a e2",
                ])
            let fox = try await stores.postgres.search(
                namespace: "default", SearchQuery("fox", history: true), offset: 0, limit: 9)
            #expect(fox.map(\.version) == [1])
            // Pages are the ranked list cut in pieces.
            let all = try await stores.postgres.search(
                namespace: "default", SearchQuery("disk OR flight OR brown"), offset: 0, limit: 100)
            var paged: [SearchHit] = []
            while paged.count < all.count + 2 {
                let page = try await stores.postgres.search(
                    namespace: "default", SearchQuery("disk OR flight OR brown"), offset: paged.count, limit: 2)
                if page.isEmpty { break }
                paged += page
            }
            #expect(all.count > 6 && paged == all)
        }
    }

    @Test("snippets mark matched words with « » and cut text with …, as SQLite's")
    func snippets() async throws {
        try await Self.withStores(searchState: true) { stores in
            try await Self.searchable(stores)
            // A short text whose last word follows the match: ts_headline's fragment mode alone would drop it.
            try await stores.commit([Self.event("short", text: "trying step 2")])
            for (text, snippet) in [
                ("step", "trying «step» 2"),
                ("booked", "the planner «booked» a flight\nwindow seat, brown bag"),
                ("rebooked", "flight delayed, the planner «rebooked»"),
                (
                    "needle",
                    "…word13 word14 word15 word16 word17 word18 word19 «needle» word21 word22 word23 word24 word25 word26 word27 word28…"
                ),
            ] {
                let expected = try await stores.sqlite.search(
                    namespace: "default", SearchQuery(text), offset: 0, limit: 9)
                let hits = try await stores.postgres.search(
                    namespace: "default", SearchQuery(text), offset: 0, limit: 9)
                #expect(hits.map(\.snippet) == expected.map(\.snippet), "\(text)")
                #expect(hits.map(\.snippet) == [snippet])
            }
        }
    }

    @Test("state values are indexed only when the store is told to")
    func stateIndexIsOptIn() async throws {
        try await Self.withStores(searchState: false) { stores in
            try await Self.searchable(stores)
            let hits = try await stores.postgres.search(namespace: "default", SearchQuery("brown"), offset: 0, limit: 9)
            #expect(hits.map(\.kind) == [.event])
            #expect(
                hits.map(Self.document)
                    == (try await stores.sqlite.search(namespace: "default", SearchQuery("brown"), offset: 0, limit: 9))
                    .map(Self.document))
        }
    }

    @Test(
        "queries FTS5 refuses are invalid arguments naming the reason, on both backends",
        arguments: [
            "\"unclosed", "AND", "a NEAR(", "(disk", "disk) OR (x", "   ", "", "it's", "disk OR", "NOT disk",
            "(disk) full", "full (disk)", "disk AND NOT full", "a.b", "**", "disk+",
        ])
    func malformed(_ text: String) async throws {
        try await Self.withStores { stores in
            try await stores.commit([Self.event("e", text: "disk full")])
            for backend in ["sqlite", "postgres"] {
                await #expect {
                    if backend == "sqlite" {
                        _ = try await stores.sqlite.search(namespace: "default", SearchQuery(text), offset: 0, limit: 9)
                    } else {
                        _ = try await stores.postgres.search(
                            namespace: "default", SearchQuery(text), offset: 0, limit: 9)
                    }
                } throws: { error in
                    guard case StatehouseError.invalidArgument(let message) = error else { return false }
                    return message.contains("search query")
                }
            }
        }
    }

    @Test(
        "FTS5 syntax without a tsquery counterpart is refused as not supported",
        arguments: ["NEAR(disk full)", "NEAR(disk full, 3)", "body:disk", "{body}: disk", "-body: disk", "^disk"])
    func unsupported(_ text: String) async throws {
        #expect {
            try PostgresSearchQuery(text)
        } throws: { error in
            guard case StatehouseError.invalidArgument(let message) = error else { return false }
            return message.contains("search query") && message.contains("does not support")
        }
    }

    @Test(
        "FTS5 queries become tsquery text with FTS5's precedence",
        arguments: [
            ("disk", "'disk'"), ("Disk full", "('Disk' & 'full')"), ("\"disk full\"", "('disk' <-> 'full')"),
            ("dis*", "'dis':*"), ("\"planner boo\"*", "('planner' <-> 'boo':*)"), ("a + b*", "('a' <-> 'b':*)"),
            ("a b NOT c", "(('a' & 'b') & !'c')"), ("a NOT b c", "('a' & !('b' & 'c'))"),
            ("a OR b AND c NOT d", "('a' | ('b' & ('c' & !'d')))"), ("(a OR b) AND c", "(('a' | 'b') & 'c')"),
            ("x NOT y NOT z", "(('x' & !'y') & !'z')"),
            ("\"api.example.com/x_y\"", "('api' <-> 'example' <-> 'com' <-> 'x' <-> 'y')"),
            ("\"it's\"", "('it' <-> 's')"), ("\"\" NOT a", nil), ("a NOT \"\"", "'a'"), ("\"...\" OR a", "'a'"),
            ("and or not", "(('and' & 'or') & 'not')"), ("café", "'café'"),
        ] as [(String, String?)])
    func tsquery(_ text: String, _ expected: String?) throws {
        #expect(try PostgresSearchQuery(text).tsquery == expected)
    }
}
