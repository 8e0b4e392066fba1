import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

/// Provenance records (every kind's schema, one rule at a time) and runs over a real store.
@Suite("Provenance: schemas, records, runs, reconstruction", .timeLimit(.minutes(2)))
struct ProvenanceTests {
    static let digest = String(repeating: "ab", count: 32)

    /// A valid payload of each kind, with every required member and one optional one.
    static let valid: [ProvenanceKind: String] = [
        .code:
            #"{"repository":"git@example.com:acme/agent.git","commit":"0123abc","dirty":false,"lockfiles":[{"path":"Package.resolved","sha256":"\#(digest)"}]}"#,
        .config: #"{"source":"config/agent.yaml","sha256":"\#(digest)","size":120}"#,
        .environment: #"{"os":"Linux","arch":"x86_64","runtime":{"python":"3.11.2"}}"#,
        .mutation: #"{"type":"kafka","id":"orders-0","source":"orders","sequence":42}"#,
        .model: #"{"provider":"anthropic","name":"claude","parameters":{"temperature":0}}"#,
        .tool: #"{"name":"search","version":"1.2"}"#,
    ]

    @Test("a valid payload of every kind is accepted", arguments: ProvenanceKind.allCases)
    func validPayloads(kind: ProvenanceKind) throws {
        try ProvenanceSchema.validate(json(Self.valid[kind]!), kind: kind)
    }

    @Test("each required member missing is refused, naming it", arguments: ProvenanceKind.allCases)
    func requiredMembers(kind: ProvenanceKind) throws {
        for field in ProvenanceSchema.fields(of: kind) where field.required {
            // Only the other required members, each with a value of its type.
            let others = ProvenanceSchema.fields(of: kind).filter { $0.required && $0.name != field.name }
            let text = "{" + others.map { "\"\($0.name)\":\(Self.sample($0.type))" }.joined(separator: ",") + "}"
            #expect(
                throws: StatehouseError.invalidArgument(
                    "\(kind.rawValue) provenance needs '\(field.name)' "
                        + "(\(Self.typeName(field.type)))")
            ) {
                try ProvenanceSchema.validate(json(text), kind: kind)
            }
        }
    }

    @Test("an unknown member and a member of the wrong type are refused", arguments: ProvenanceKind.allCases)
    func unknownAndWrongType(kind: ProvenanceKind) throws {
        let fields = ProvenanceSchema.fields(of: kind)
        let required = fields.filter(\.required).map { "\"\($0.name)\":\(Self.sample($0.type))" }
        let unknown = "{" + (required + ["\"colour\":\"red\""]).joined(separator: ",") + "}"
        do {
            try ProvenanceSchema.validate(json(unknown), kind: kind)
            Issue.record("an unknown member passed")
        } catch let error as StatehouseError {
            #expect("\(error)".contains("has no member 'colour'"))
        }
        for field in fields {
            let wrong = field.type == .string ? "42" : "\"not this\""
            let members = fields.filter(\.required).filter { $0.name != field.name }.map {
                "\"\($0.name)\":\(Self.sample($0.type))"
            }
            let text = "{" + (members + ["\"\(field.name)\":\(wrong)"]).joined(separator: ",") + "}"
            do {
                try ProvenanceSchema.validate(json(text), kind: kind)
                Issue.record("\(kind) '\(field.name)' accepted \(wrong)")
            } catch let error as StatehouseError {
                #expect("\(error)".contains("'\(field.name)' must be"), "\(error)")
            }
        }
        #expect(throws: StatehouseError.self) { try ProvenanceSchema.validate(json("[1]"), kind: kind) }
    }

    static func sample(_ type: ProvenanceSchema.FieldType) -> String {
        switch type {
        case .string: "\"x\""
        case .boolean: "true"
        case .count: "7"
        case .sha256: "\"\(Self.digest)\""
        case .stringMap: #"{"a":"b"}"#
        case .object: #"{"a":1}"#
        case .files: #"[{"path":"p","sha256":"\#(Self.digest)"}]"#
        }
    }

    static func typeName(_ type: ProvenanceSchema.FieldType) -> String {
        switch type {
        case .string: "a string"
        case .boolean: "true or false"
        case .count: "a whole number from 0"
        case .sha256: "a SHA-256 as 64 lowercase hex digits"
        case .stringMap: "an object of strings"
        case .object: "an object"
        case .files: "an array of {\"path\", \"sha256\"} objects"
        }
    }

    @Test("records are immutable commits; runs tie commits to their provenance; reconstruction at a point")
    func recordsAndRuns() async throws {
        try await withTestEngine { engine in
            let code = StatehouseEngine.ProvenanceDraft(kind: .code, id: "v1", payload: json(Self.valid[.code]!))
            let recorded = try await engine.recordProvenance(agentID: "planner", [code])
            #expect(recorded.map(\.key) == ["code/v1"] && recorded[0].commitTS == 1)
            #expect(try await engine.getProvenance(kind: .code, id: "v1").payload == recorded[0].payload)
            await #expect(throws: StatehouseError.self) {
                try await engine.recordProvenance(agentID: "planner", [code])
            }
            await #expect(throws: StatehouseError.self) {
                try await engine.recordProvenance(
                    agentID: "planner", [.init(kind: .tool, payload: json(#"{"name":"x","extra":1}"#))])
            }
            // A user commit cannot write the reserved agent.
            await #expect(throws: StatehouseError.self) {
                try await engine.put(agent: "@provenance", key: "code/v2", json: "{}")
            }

            let run = try await engine.startRun(
                agentID: "planner", id: "run-1",
                provenance: [
                    .init(kind: .environment, id: "e1", payload: json(Self.valid[.environment]!)),
                    .init(kind: .model, id: "m1", payload: json(Self.valid[.model]!)),
                ])
            #expect(run.status == "running" && run.provenance == ["environment/e1", "model/m1"])
            let inRun = try await engine.commit(
                AtomicCommit(
                    operations: [.put(agentID: "planner", key: "plan", value: json("1"))],
                    metadata: CommitMetadata(tags: [AgentRun.runTag: "run-1"])))
            try await engine.put(agent: "planner", key: "other", json: "2")  // not tagged: not the run's
            let ended = try await engine.endRun(id: "run-1", status: "failed")
            #expect(ended.status == "failed" && ended.endCommitTS != nil)
            await #expect(throws: StatehouseError.self) { try await engine.endRun(id: "run-1") }
            let commits = try await engine.runCommits(run: try await engine.getRun(id: "run-1"))
            #expect(commits.map(\.commitTS) == [inRun.commitTS])
            #expect(try await engine.listProvenance(runID: "run-1").items.map(\.key) == ["environment/e1", "model/m1"])

            // At the commit inside the run: the run's records. At the first commit: the newest of each kind then.
            let during = try await engine.provenance(agentID: "planner", at: .commit(inRun.commitTS))
            #expect(during.run?.id == "run-1" && during.records.map(\.key) == ["environment/e1", "model/m1"])
            let before = try await engine.provenance(agentID: "planner", at: .commit(1))
            #expect(before.run == nil && before.records.map(\.key) == ["code/v1"])
            let after = try await engine.provenance(agentID: "planner", at: .latest)
            #expect(after.run == nil && after.records.map(\.key) == ["code/v1", "environment/e1", "model/m1"])
        }
    }
}
