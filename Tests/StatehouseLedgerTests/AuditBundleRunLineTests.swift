import Foundation
import StatehouseLedger
import StatehouseModel
import Testing

/// The run line (`audit export --run`): built from state lines of `@runs` and `@provenance`, and read back equal
/// whatever the member order or whitespace, and unequal when any value differs.
@Suite("Audit bundle run lines")
struct AuditBundleRunLineTests {
    static func state(_ agent: String, _ key: String, _ commitTS: UInt64, _ value: String) -> AuditBundle.StateLine {
        AuditBundle.StateLine(agent_id: agent, key: key, version: 1, commit_ts: commitTS, value: value)
    }

    static func record(_ key: String, run: String, _ commitTS: UInt64, _ payload: String) -> AuditBundle.StateLine {
        self.state(
            ReservedNames.provenanceAgent, key, commitTS,
            #"{"agent_id":"planner","captured_at":1,"payload":\#(payload),"run_id":"\#(run)"}"#)
    }

    static func run(_ id: String, started: Int, _ commitTS: UInt64) -> AuditBundle.StateLine {
        self.state(
            ReservedNames.runsAgent, id, commitTS,
            #"{"agent_id":"planner","ended_at":null,"metadata":null,"provenance":[],"started_at":\#(started),"#
                + #""status":"succeeded"}"#)
    }

    /// Run r1, then r2 with another config digest, a newer python and mutations 1, 3, 3 of one source.
    static func twoRuns() -> [AuditBundle.StateLine] {
        [
            self.record(
                "config/a", run: "r1", 1, #"{"source":"agent.json","sha256":"\#(String(repeating: "a", count: 64))"}"#),
            self.record("environment/a", run: "r1", 1, #"{"os":"linux","arch":"x86_64","runtime":{"python":"3.11"}}"#),
            self.record(
                "config/b", run: "r2", 3, #"{"source":"agent.json","sha256":"\#(String(repeating: "b", count: 64))"}"#),
            self.record("environment/b", run: "r2", 3, #"{"os":"linux","arch":"x86_64","runtime":{"python":"3.12"}}"#),
            self.record("mutation/m1", run: "r2", 3, #"{"type":"kafka","id":"o1","source":"orders","sequence":1}"#),
            self.record("mutation/m3", run: "r2", 3, #"{"type":"kafka","id":"o3","source":"orders","sequence":3}"#),
            self.record("mutation/m4", run: "r2", 3, #"{"type":"kafka","id":"o4","source":"orders","sequence":3}"#),
            self.run("r1", started: 10, 2),
            self.run("r2", started: 20, 4),
            self.state("planner", "notes", 4, #""not a run""#),
        ]
    }

    func decode(_ text: String) throws -> AuditBundle.RunLine? {
        try Array(text.utf8).withUnsafeBytes { try AuditBundle.decodeLine($0) }.run
    }

    @Test("the advisory and the replay plan of a run, from the provenance its state lines hold")
    func build() throws {
        let line = try AuditBundle.runLine(runID: "r2", baselineRunID: "r1", state: Self.twoRuns())
        #expect(line.runID == "r2" && line.baselineRunID == "r1")
        // missing_capture ×2 (code, model) + config_changed + runtime_changed.
        #expect(line.advisoryRules == ["missing_capture", "missing_capture", "config_changed", "runtime_changed"])
        #expect(line.score == 10 + 10 + 15 + 10)
        #expect(line.planRules == ["gap", "duplicate"])
        let text = String(decoding: AuditBundle.encode(AuditBundle.Line(run: line)), as: UTF8.self)
        #expect(text.contains(#""message":"runtime versions differ: python 3.11 → 3.12""#))
        #expect(text.contains(#""provenance":["config/b","environment/b","mutation/m1","mutation/m3","mutation/m4"]"#))
        #expect(try AuditBundle.previousRun(of: "r2", state: Self.twoRuns()) == "r1")
        #expect(try AuditBundle.previousRun(of: "r1", state: Self.twoRuns()) == nil)
        let alone = try AuditBundle.runLine(runID: "r1", baselineRunID: nil, state: Self.twoRuns())
        #expect(alone.score == nil && alone.advisoryRules.isEmpty && alone.planRules.isEmpty)
    }

    @Test("strings are compared by code points: 'é' and 'e' + U+0301 are different model names, as in Python")
    func codePoints() throws {
        let model = { (run: String, name: String, commitTS: UInt64) in
            Self.record("model/\(run)", run: run, commitTS, #"{"provider":"p","name":"\#(name)"}"#)
        }
        let state = [
            model("r1", "caf\u{E9}", 1), model("r2", "cafe\u{301}", 3), Self.run("r1", started: 10, 2),
            Self.run("r2", started: 20, 4),
        ]
        let line = try AuditBundle.runLine(runID: "r2", baselineRunID: "r1", state: state)
        #expect(line.advisoryRules.contains("model_changed"))
    }

    @Test("a run or baseline without a record, or a malformed record, is an error naming it")
    func missing() {
        #expect(throws: AuditBundle.RunLineError.self) {
            try AuditBundle.runLine(runID: "r3", baselineRunID: nil, state: Self.twoRuns())
        }
        #expect(throws: AuditBundle.RunLineError.self) {
            try AuditBundle.runLine(runID: "r2", baselineRunID: "r0", state: Self.twoRuns())
        }
        let broken = Self.twoRuns() + [Self.state(ReservedNames.provenanceAgent, "colour/x", 5, "{}")]
        #expect(throws: AuditBundle.RunLineError.self) {
            try AuditBundle.runLine(runID: "r2", baselineRunID: nil, state: broken)
        }
    }

    @Test(
        "read back, a run line equals the built one whatever its member order and whitespace; not when a value differs"
    )
    func canonicalEquality() throws {
        let line = try AuditBundle.runLine(runID: "r2", baselineRunID: "r1", state: Self.twoRuns())
        let text = String(decoding: AuditBundle.encode(AuditBundle.Line(run: line)).dropLast(), as: UTF8.self)
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted])
        #expect(try self.decode(String(decoding: pretty, as: UTF8.self)) == line)
        // Bundles hold integers only: another spelling of a number is no bundle line.
        #expect(throws: (any Error).self) {
            try self.decode(text.replacingOccurrences(of: #""score":45"#, with: #""score":45.0"#))
        }
        #expect(try self.decode(text.replacingOccurrences(of: #""score":45"#, with: #""score":44"#)) != line)
        #expect(throws: (any Error).self) { try self.decode(#"{"run":{"status":"x"}}"#) }
    }
}
