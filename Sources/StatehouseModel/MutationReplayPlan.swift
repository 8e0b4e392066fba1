/// The plan to replay the mutations a run consumed: per source (a Kafka topic partition, a database sequence), the
/// mutations in sequence order, and named findings about what would make a replay wrong (docs/api.md, "Replay plans").
public struct MutationReplayPlan: Sendable, Hashable {
    public struct Step: Sendable, Hashable {
        public var sequence: UInt64
        public var type: String
        public var id: String
        /// The mutation's record (`mutation/ID`).
        public var record: String
        public var hash: String?
    }

    public struct Source: Sendable, Hashable {
        public var source: String
        /// In sequence order; the first occurrence of a duplicate only.
        public var steps: [Step]
    }

    public struct Finding: Sendable, Hashable {
        /// `duplicate`, `gap`, `mixed_namespaces` or `config_mismatch`.
        public var rule: String
        public var source: String
        public var message: String
    }

    public var sources: [Source]
    public var findings: [Finding]

    /// A plan as a client receives it: sources with their steps (sequence, type, id, record), and findings (rule,
    /// source, message).
    public struct Wire: Sendable {
        public var sources: [(source: String, steps: [(sequence: UInt64, type: String, id: String, record: String)])]
        public var findings: [(rule: String, source: String, message: String)]

        public init(
            sources: [(source: String, steps: [(sequence: UInt64, type: String, id: String, record: String)])],
            findings: [(rule: String, source: String, message: String)]
        ) {
            self.sources = sources
            self.findings = findings
        }
    }

    /// Plans the replay of `mutations` (records of kind mutation) checked against the `configs` in effect (records of
    /// kind config): a mutation whose `config_sha256` is none of theirs was produced under another configuration.
    public init(mutations: [ProvenanceRecord], configs: [ProvenanceRecord]) {
        // Keyed by code points (ExactText), as every other reader of the plan compares them.
        var bySource: [ExactText: [(Step, namespace: String?, config: String?)]] = [:]
        for record in mutations where record.kind == .mutation {
            let payload = Payload(record.payload)
            guard let source = payload.string("source"), let text = payload.string("sequence"), !text.hasPrefix("-"),
                let sequence = UInt64(text)
            else { continue }
            let step = Step(
                sequence: sequence, type: payload.string("type") ?? "", id: payload.string("id") ?? "",
                record: record.key, hash: payload.string("hash"))
            bySource[ExactText(source), default: []].append(
                (step, payload.string("namespace"), payload.string("config_sha256")))
        }
        let configDigests = Set(
            configs.filter { $0.kind == .config }.compactMap {
                Payload($0.payload).string("sha256").map(ExactText.init)
            })
        var sources: [Source] = []
        var findings: [Finding] = []
        for key in bySource.keys.sorted() {
            let source = key.text
            let entries = bySource[key]!.sorted {
                $0.0.sequence != $1.0.sequence ? $0.0.sequence < $1.0.sequence : utf8Order($0.0.record, $1.0.record)
            }
            var steps: [Step] = []
            var seenIDs: Set<ExactText> = []
            for (step, _, _) in entries {
                if let last = steps.last, last.sequence == step.sequence {
                    findings.append(
                        Finding(
                            rule: "duplicate", source: source,
                            message: "sequence \(step.sequence) appears twice (\(last.record), \(step.record))"))
                    continue
                }
                if !seenIDs.insert(ExactText(step.id)).inserted {
                    findings.append(
                        Finding(
                            rule: "duplicate", source: source,
                            message: "mutation id '\(step.id)' appears at two sequences"))
                    continue
                }
                if let last = steps.last, step.sequence > last.sequence + 1 {
                    findings.append(
                        Finding(
                            rule: "gap", source: source,
                            message: "sequences \(last.sequence + 1) to \(step.sequence - 1) are missing"))
                }
                steps.append(step)
            }
            let namespaces = Set(entries.compactMap { $0.namespace.map(ExactText.init) })
            if namespaces.count > 1 {
                findings.append(
                    Finding(
                        rule: "mixed_namespaces", source: source,
                        message: "mutations of one source name namespaces "
                            + namespaces.sorted().map(\.text).joined(separator: ", ")))
            }
            for (step, _, config) in entries {
                if let config, !configDigests.contains(ExactText(config)) {
                    findings.append(
                        Finding(
                            rule: "config_mismatch", source: source,
                            message: "\(step.record) was produced under config \(String(config.prefix(12))), which "
                                + "no config record in effect has"))
                }
            }
            sources.append(Source(source: source, steps: steps))
        }
        self.sources = sources
        self.findings = findings
    }
}
