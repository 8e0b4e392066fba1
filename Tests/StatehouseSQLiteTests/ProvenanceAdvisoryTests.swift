import StatehouseCore
import StatehouseTesting
import Testing

/// The advisory's rules one at a time and together, and replay plans with duplicates, gaps, mixed namespaces and
/// config mismatches.
@Suite("Provenance advisory and replay plans")
struct ProvenanceAdvisoryTests {
    static let digestA = String(repeating: "a", count: 64)
    static let digestB = String(repeating: "b", count: 64)

    static func record(
        _ kind: ProvenanceKind, _ id: String, _ payload: String, at commitTS: CommitTS = 1
    )
        -> ProvenanceRecord
    {
        ProvenanceRecord(kind: kind, id: id, agentID: "a", capturedAt: 0, payload: json(payload), commitTS: commitTS)
    }

    /// A complete baseline; each case replaces one of its payloads.
    static let baseline: [ProvenanceKind: String] = [
        .code: #"{"repository":"acme/agent","commit":"c1","dirty":false}"#,
        .config: #"{"source":"agent.yaml","sha256":"\#(digestA)"}"#,
        .environment: #"{"os":"Linux","arch":"x86_64","runtime":{"python":"3.11.2"}}"#,
        .model: #"{"provider":"anthropic","name":"claude","version":"1","parameters":{"temperature":0}}"#,
        .tool: #"{"name":"search","version":"1"}"#,
    ]

    static func records(_ payloads: [ProvenanceKind: String]) -> [ProvenanceRecord] {
        payloads.keys.sorted { $0.rawValue < $1.rawValue }.map { Self.record($0, $0.rawValue, payloads[$0]!) }
    }

    static func advise(changing changes: [ProvenanceKind: String?]) -> ProvenanceAdvisory {
        var candidate = Self.baseline
        for (kind, payload) in changes { candidate[kind] = payload }
        return ProvenanceAdvisory(baseline: Self.records(Self.baseline), candidate: Self.records(candidate))
    }

    @Test("the same provenance on both sides scores 0")
    func same() {
        let advisory = Self.advise(changing: [:])
        #expect(advisory.findings.isEmpty && advisory.score == 0)
    }

    @Test(
        "each rule alone",
        arguments: [
            (ProvenanceKind.code, #"{"repository":"acme/agent","commit":"c2"}"#, "code_commit_changed", 30),
            (.code, #"{"repository":"acme/agent","commit":"c1","dirty":true}"#, "dirty_tree", 20),
            (.config, #"{"source":"agent.yaml","sha256":"\#(digestB)"}"#, "config_changed", 15),
            (
                .model, #"{"provider":"anthropic","name":"claude","version":"2","parameters":{"temperature":0}}"#,
                "model_changed", 25
            ),
            (
                .model, #"{"provider":"anthropic","name":"claude","version":"1","parameters":{"temperature":1}}"#,
                "model_parameters_changed", 10
            ),
            (.environment, #"{"os":"Linux","arch":"x86_64","runtime":{"python":"3.12.0"}}"#, "runtime_changed", 10),
            (.environment, #"{"os":"Linux","arch":"aarch64","runtime":{"python":"3.11.2"}}"#, "platform_changed", 10),
            (.tool, #"{"name":"search","version":"2"}"#, "tool_changed", 5),
        ] as [(ProvenanceKind, String, String, Int)])
    func oneRule(kind: ProvenanceKind, payload: String, rule: String, points: Int) {
        let advisory = Self.advise(changing: [kind: payload])
        #expect(advisory.findings.map(\.rule) == [rule])
        #expect(advisory.score == points)
        #expect(!advisory.findings[0].recommendation.isEmpty && !advisory.findings[0].message.isEmpty)
    }

    @Test("a capture missing on one side", arguments: [ProvenanceKind.code, .config, .environment, .model])
    func missing(kind: ProvenanceKind) {
        let advisory = Self.advise(changing: [kind: nil])
        #expect(advisory.findings.map(\.rule) == ["missing_capture"] && advisory.score == 10)
        #expect(advisory.findings[0].message == "the candidate has no \(kind.rawValue) provenance")
    }

    @Test("rules add up, to at most 100")
    func combined() {
        let three = Self.advise(changing: [
            .code: #"{"repository":"acme/agent","commit":"c2"}"#,
            .config: #"{"source":"agent.yaml","sha256":"\#(Self.digestB)"}"#,
            .model: #"{"provider":"openai","name":"gpt"}"#,
        ])
        #expect(Set(three.findings.map(\.rule)) == ["code_commit_changed", "config_changed", "model_changed"])
        #expect(three.score == 70)
        let everything = Self.advise(changing: [
            .code: #"{"repository":"acme/agent","commit":"c2","dirty":true}"#,
            .config: #"{"source":"agent.yaml","sha256":"\#(Self.digestB)"}"#,
            .model: #"{"provider":"openai","name":"gpt"}"#,
            .environment: #"{"os":"Darwin","arch":"arm64","runtime":{"python":"3.13"}}"#,
        ])
        #expect(everything.findings.reduce(0) { $0 + $1.points } == 110)  // 30 + 20 + 15 + 25 + 10 + 10
        #expect(everything.score == 100)
    }

    static func mutation(
        _ id: String, source: String, sequence: Int, namespace: String? = nil, config: String? = nil
    )
        -> ProvenanceRecord
    {
        var payload = #"{"type":"kafka","id":"\#(id)","source":"\#(source)","sequence":\#(sequence)"#
        if let namespace { payload += #","namespace":"\#(namespace)""# }
        if let config { payload += #","config_sha256":"\#(config)""# }
        return Self.record(.mutation, id, payload + "}")
    }

    @Test("a clean source replays in sequence order with no finding")
    func cleanPlan() {
        let plan = MutationReplayPlan(
            mutations: [
                Self.mutation("m3", source: "orders", sequence: 3), Self.mutation("m1", source: "orders", sequence: 1),
                Self.mutation("m2", source: "orders", sequence: 2),
                Self.mutation("p1", source: "payments", sequence: 9),
            ], configs: [])
        #expect(plan.findings.isEmpty)
        #expect(plan.sources.map(\.source) == ["orders", "payments"])
        #expect(plan.sources[0].steps.map(\.sequence) == [1, 2, 3])
    }

    @Test("duplicates, gaps, mixed namespaces and config mismatches are named findings")
    func findings() {
        let config = Self.record(.config, "c", #"{"source":"agent.yaml","sha256":"\#(Self.digestA)"}"#)
        let plan = MutationReplayPlan(
            mutations: [
                Self.mutation("m1", source: "orders", sequence: 1, namespace: "prod", config: Self.digestA),
                Self.mutation("m1-again", source: "orders", sequence: 1, namespace: "prod"),
                Self.mutation("m4", source: "orders", sequence: 4, namespace: "staging"),
                Self.mutation("m1", source: "orders", sequence: 5),
                Self.mutation("p1", source: "payments", sequence: 1, config: Self.digestB),
            ], configs: [config])
        #expect(plan.findings.map(\.rule) == ["duplicate", "gap", "duplicate", "mixed_namespaces", "config_mismatch"])
        #expect(plan.findings[1].message == "sequences 2 to 3 are missing")
        #expect(plan.sources[0].steps.map(\.sequence) == [1, 4])
        #expect(plan.findings.last?.source == "payments")
    }

    @Test("advice between two points and two runs, and a run's replay plan, over a real store")
    func overTheEngine() async throws {
        try await withTestEngine { engine in
            let first = try await engine.startRun(
                agentID: "a", id: "r1",
                provenance: [.init(kind: .config, payload: json(Self.baseline[.config]!))])
            _ = try await engine.endRun(id: "r1")
            _ = try await engine.startRun(
                agentID: "a", id: "r2",
                provenance: [
                    .init(kind: .config, payload: json(#"{"source":"agent.yaml","sha256":"\#(Self.digestB)"}"#)),
                    .init(kind: .mutation, payload: json(#"{"type":"kafka","id":"x","source":"o","sequence":1}"#)),
                    .init(kind: .mutation, payload: json(#"{"type":"kafka","id":"y","source":"o","sequence":3}"#)),
                ])
            let runs = try await engine.advise(fromRun: "r1", toRun: "r2")
            #expect(runs.findings.map(\.rule).contains("config_changed"))
            let points = try await engine.advise(agentID: "a", from: .commit(first.startCommitTS), to: .latest)
            #expect(points.advisory.findings.map(\.rule).contains("config_changed"))
            let plan = try await engine.replayPlan(runID: "r2")
            #expect(plan.sources.map(\.source) == ["o"] && plan.findings.map(\.rule) == ["gap"])
            await #expect(throws: StatehouseError.self) { try await engine.replayPlan(runID: "nope") }
        }
    }
}
