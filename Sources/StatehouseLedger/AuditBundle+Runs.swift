public import StatehouseModel

/// The run line of a bundle exported with `statehousectl audit export --run` (docs/architecture.md, "Audit bundles of
/// a run"): the run, the keys of its provenance records, the advisory against a baseline run and the mutation replay
/// plan. Every member is derived from the bundle's own state lines (the records under the reserved agents `@runs` and
/// `@provenance`), so a verifier recomputes the whole line from state it has proven and compares: the advisory and the
/// plan are covered by the same proofs as the records they come from.
extension AuditBundle {
    public struct RunLine: Sendable, Equatable {
        /// The line's member, as parsed or as built.
        var body: JSON

        public static func == (lhs: RunLine, rhs: RunLine) -> Bool { lhs.canonicalBytes == rhs.canonicalBytes }

        init(body: JSON) { self.body = body }

        public var runID: String { if case .string(let text)? = self.body["run_id"] { text } else { "" } }

        public var baselineRunID: String? {
            if case .string(let text)? = self.body["baseline_run_id"] { text } else { nil }
        }

        /// The advisory's score, or `nil` when the run has no baseline to compare with.
        public var score: Int? {
            if case .number(let text)? = self.body["advisory"]?["score"] { Int(text) } else { nil }
        }

        /// The advisory's findings as rule names, in order.
        public var advisoryRules: [String] { Self.rules(self.body["advisory"]?["findings"]) }

        /// The replay plan's findings as rule names, in order.
        public var planRules: [String] { Self.rules(self.body["replay_plan"]?["findings"]) }

        private static func rules(_ findings: JSON?) -> [String] {
            guard case .array(let items)? = findings else { return [] }
            return items.compactMap { if case .string(let rule)? = $0["rule"] { rule } else { nil } }
        }

        /// The line's member as compact JSON with members in UTF-8 byte order: how it is written, and what a verifier
        /// compares (so member order and whitespace in a bundle do not matter, and every value does).
        var canonicalBytes: [UInt8] {
            var writer = LineWriter(bytes: [])
            writer.canonical(self.body)
            return writer.bytes
        }
    }

    /// A run line that cannot be built from the state given.
    public struct RunLineError: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Builds the run line of `runID` from a bundle's state lines; only those of the reserved agents `@runs` and
    /// `@provenance` are read. With a `baselineRunID`, the advisory compares the baseline's provenance records (those
    /// whose `run_id` is the baseline) with the run's; without one, the advisory is `null`. The replay plan covers the
    /// run's mutation records, checked against its config records.
    ///
    /// - Throws: ``RunLineError`` when the run or the baseline has no record in `state`, or a record is malformed.
    public static func runLine(runID: String, baselineRunID: String?, state: [StateLine]) throws -> RunLine {
        let run = try self.run(runID, in: state)
        var records: [ProvenanceRecord] = []
        for line in state where line.agent_id == ReservedNames.provenanceAgent {
            records.append(try self.provenanceRecord(line))
        }
        // The records a run names (an ended run names all of its own) must be there: a state line dropped from the
        // bundle would otherwise change the advisory or the plan unnoticed.
        let present = Set(records.map { ExactText($0.key) })
        for named in [run] + (try baselineRunID.map { [try self.run($0, in: state)] } ?? []) {
            if let missing = named.provenance.first(where: { !present.contains(ExactText($0)) }) {
                throw RunLineError("provenance record '\(missing)' of run '\(named.id)' is not in the bundle's state")
            }
        }
        func recordsOf(_ id: String) -> [ProvenanceRecord] {
            records.filter { $0.runID.sameText(as: id) }.sorted { utf8Order($0.key, $1.key) }
        }
        let own = recordsOf(runID)
        var advisory = JSON.null
        if let baselineRunID {
            _ = try self.run(baselineRunID, in: state)
            let result = ProvenanceAdvisory(baseline: recordsOf(baselineRunID), candidate: own)
            advisory = .object([
                (
                    "findings",
                    .array(
                        result.findings.map {
                            .object([
                                ("message", .string($0.message)), ("points", .number(String($0.points))),
                                ("recommendation", .string($0.recommendation)), ("rule", .string($0.rule)),
                            ])
                        })
                ),
                ("score", .number(String(result.score))),
            ])
        }
        let plan = MutationReplayPlan(
            mutations: own.filter { $0.kind == .mutation }, configs: own.filter { $0.kind == .config })
        let sources = plan.sources.map { source in
            JSON.object([
                ("source", .string(source.source)),
                (
                    "steps",
                    .array(
                        source.steps.map {
                            .object([
                                ("hash", $0.hash.map(JSON.string) ?? .null), ("id", .string($0.id)),
                                ("record", .string($0.record)), ("sequence", .number(String($0.sequence))),
                                ("type", .string($0.type)),
                            ])
                        })
                ),
            ])
        }
        let planFindings = plan.findings.map {
            JSON.object([("message", .string($0.message)), ("rule", .string($0.rule)), ("source", .string($0.source))])
        }
        return RunLine(
            body: .object([
                ("advisory", advisory),
                ("agent_id", .string(run.agentID)),
                ("baseline_run_id", baselineRunID.map(JSON.string) ?? .null),
                ("provenance", .array(own.map { .string($0.key) })),
                ("replay_plan", .object([("findings", .array(planFindings)), ("sources", .array(sources))])),
                ("run_id", .string(runID)),
                ("status", .string(run.status)),
            ]))
    }

    /// The run of the same agent that started last before `runID` did (by `started_at`), among the state's runs: the
    /// default baseline of a run's bundle.
    public static func previousRun(of runID: String, state: [StateLine]) throws -> String? {
        let run = try self.run(runID, in: state)
        var best: AgentRun?
        for line in state where line.agent_id == ReservedNames.runsAgent && !line.key.utf8.elementsEqual(runID.utf8) {
            let other = try self.run(line)
            guard other.agentID.utf8.elementsEqual(run.agentID.utf8), other.startedAt < run.startedAt else { continue }
            if best.map({ other.startedAt > $0.startedAt }) ?? true { best = other }
        }
        return best?.id
    }

    private static func run(_ id: String, in state: [StateLine]) throws -> AgentRun {
        guard
            let line = state.first(where: {
                $0.agent_id == ReservedNames.runsAgent && $0.key.utf8.elementsEqual(id.utf8)
            })
        else {
            throw RunLineError("run '\(id)' has no record in the bundle's state")
        }
        return try self.run(line)
    }

    private static func run(_ line: StateLine) throws -> AgentRun {
        do {
            return try ProvenanceRecordCodec.run(try self.stored(line), startCommitTS: 0)
        } catch {
            throw RunLineError("the record of run '\(line.key)' is malformed")
        }
    }

    private static func provenanceRecord(_ line: StateLine) throws -> ProvenanceRecord {
        do {
            return try ProvenanceRecordCodec.record(try self.stored(line))
        } catch {
            throw RunLineError("provenance record '\(line.key)' is malformed")
        }
    }

    private static func stored(_ line: StateLine) throws -> StateRecord {
        StateRecord(
            agentID: line.agent_id, key: line.key, value: try JSONValue(validating: line.value),
            version: line.version, commitTS: line.commit_ts, committedAt: 0, deleted: false)
    }
}

extension LineWriter {
    /// Any parsed value as compact JSON with object members in UTF-8 byte order of their names.
    mutating func canonical(_ json: AuditBundle.JSON) {
        switch json {
        case .null:
            self.separate()
            self.raw("null")
        case .bool(let flag):
            self.separate()
            if flag { self.raw("true") } else { self.raw("false") }
        case .number(let text):
            self.separate()
            self.bytes.append(contentsOf: Array(text.utf8))
        case .string(let text):
            self.string(text)
        case .array(let items):
            self.separate()
            self.bytes.append(UInt8(ascii: "["))
            for item in items { self.canonical(item) }
            self.bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            self.object { writer in
                for (name, value) in members.sorted(by: { utf8Order($0.0, $1.0) }) {
                    writer.string(name)
                    writer.bytes.append(UInt8(ascii: ":"))
                    writer.canonical(value)
                }
            }
        }
    }
}
