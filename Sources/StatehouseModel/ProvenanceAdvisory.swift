/// Reproducibility advice: what differs between the provenance of two points (or two runs), scored 0–100 by
/// documented rules (docs/api.md, "Advisory"), with a recommendation for each finding.
public struct ProvenanceAdvisory: Sendable, Hashable {
    public struct Finding: Sendable, Hashable {
        public init(rule: String, points: Int, message: String, recommendation: String) {
            self.rule = rule
            self.points = points
            self.message = message
            self.recommendation = recommendation
        }

        /// The rule's stable name (``Rule``).
        public var rule: String
        /// What the rule adds to the score.
        public var points: Int
        /// What differs, in plain words.
        public var message: String
        public var recommendation: String
    }

    /// The rules, each with its points; the score is their sum, at most 100.
    public enum Rule: String, Sendable, CaseIterable {
        /// The code of a repository is at another commit.
        case codeCommitChanged = "code_commit_changed"
        /// A work tree had changes no commit holds: nobody can check it out again.
        case dirtyTree = "dirty_tree"
        /// A configuration source has another digest.
        case configChanged = "config_changed"
        /// Another model provider, name or version.
        case modelChanged = "model_changed"
        /// The same model with other parameters or prompt template.
        case modelParametersChanged = "model_parameters_changed"
        /// Another runtime version (python, node, …).
        case runtimeChanged = "runtime_changed"
        /// Another operating system or processor architecture.
        case platformChanged = "platform_changed"
        /// A tool at another version or digest.
        case toolChanged = "tool_changed"
        /// No code, config, environment or model record on one side: what it used is unknown.
        case missingCapture = "missing_capture"

        public var points: Int {
            switch self {
            case .codeCommitChanged: 30
            case .dirtyTree: 20
            case .configChanged: 15
            case .modelChanged: 25
            case .modelParametersChanged: 10
            case .runtimeChanged: 10
            case .platformChanged: 10
            case .toolChanged: 5
            case .missingCapture: 10
            }
        }
    }

    public var findings: [Finding]
    /// 0: the two sides' provenance agrees on everything captured; 100: reproducing one from the other is unlikely.
    public var score: Int { min(100, self.findings.reduce(0) { $0 + $1.points }) }

    /// Compares the provenance of a baseline with that of a candidate (for example, the run that worked and the one
    /// that did not). Each rule adds its points once per finding; a rule can find several things (two configs).
    public init(baseline: [ProvenanceRecord], candidate: [ProvenanceRecord]) {
        var findings: [Finding] = []
        func add(_ rule: Rule, _ message: String, _ recommendation: String) {
            findings.append(
                Finding(rule: rule.rawValue, points: rule.points, message: message, recommendation: recommendation))
        }
        let before = Payloads(baseline)
        let after = Payloads(candidate)

        for kind in [ProvenanceKind.code, .config, .environment, .model] {
            let side = before.of(kind).isEmpty ? "baseline" : after.of(kind).isEmpty ? "candidate" : nil
            if let side {
                add(
                    .missingCapture, "the \(side) has no \(kind.rawValue) provenance",
                    "capture \(kind.rawValue) at the start of every run (statehousectl capture, or run start --capture)"
                )
            }
        }
        for (repository, code) in after.sortedByKey(.code, "repository") {
            if code.bool("dirty") == true {
                add(
                    .dirtyTree, "the candidate's work tree of \(repository) had uncommitted changes",
                    "commit (or stash) changes before a run, so that its commit names the code exactly")
            } else if let old = before.byKey(.code, "repository")[ExactText(repository)], old.bool("dirty") == true {
                add(
                    .dirtyTree, "the baseline's work tree of \(repository) had uncommitted changes",
                    "the baseline cannot be checked out again; compare against a run from a clean tree")
            }
            if let old = before.byKey(.code, "repository")[ExactText(repository)],
                !old.string("commit").sameText(as: code.string("commit"))
            {
                add(
                    .codeCommitChanged,
                    "\(repository) moved from commit \(old.string("commit") ?? "?") to \(code.string("commit") ?? "?")",
                    "check out \(old.string("commit") ?? "the baseline's commit") to reproduce the baseline")
            }
        }
        for (source, config) in after.sortedByKey(.config, "source") {
            if let old = before.byKey(.config, "source")[ExactText(source)],
                !old.string("sha256").sameText(as: config.string("sha256"))
            {
                add(
                    .configChanged,
                    "config \(source) changed (SHA-256 \(Self.short(old.string("sha256"))) → "
                        + "\(Self.short(config.string("sha256"))))",
                    "restore \(source) with SHA-256 \(Self.short(old.string("sha256"))) (store configs as artifacts "
                        + "to keep their content)")
            }
        }
        if let old = before.of(.model).first, let new = after.of(.model).first {
            let identity = { (model: Payload) in
                [model.string("provider"), model.string("name"), model.string("version")].map { $0 ?? "" }
            }
            if !identity(old).elementsEqual(identity(new), by: { $0.utf8.elementsEqual($1.utf8) }) {
                add(
                    .modelChanged,
                    "the model changed from \(identity(old).filter { !$0.isEmpty }.joined(separator: " ")) to "
                        + identity(new).filter { !$0.isEmpty }.joined(separator: " "),
                    "pin the model's provider, name and version")
            } else if old.member("parameters") != new.member("parameters")
                || !old.string("prompt_template_sha256").sameText(as: new.string("prompt_template_sha256"))
            {
                add(
                    .modelParametersChanged, "the model's parameters or prompt template changed",
                    "record and reuse the baseline's parameters and prompt template")
            }
        }
        if let old = before.of(.environment).first, let new = after.of(.environment).first {
            if !old.string("os").sameText(as: new.string("os")) || !old.string("arch").sameText(as: new.string("arch"))
            {
                add(
                    .platformChanged,
                    "the platform changed from \(old.string("os") ?? "?")/\(old.string("arch") ?? "?") to "
                        + "\(new.string("os") ?? "?")/\(new.string("arch") ?? "?")",
                    "run on the baseline's operating system and architecture")
            }
            let changedRuntimes = Self.changedEntries(old.strings("runtime"), new.strings("runtime"))
            if !changedRuntimes.isEmpty {
                add(
                    .runtimeChanged,
                    "runtime versions differ: "
                        + changedRuntimes.map { "\($0.name) \($0.old ?? "none") → \($0.new ?? "none")" }
                        .joined(separator: ", "),
                    "use the baseline's runtime versions (pin them in the lock file or the image)")
            }
        }
        for (name, tool) in after.sortedByKey(.tool, "name") {
            if let old = before.byKey(.tool, "name")[ExactText(name)],
                !old.string("version").sameText(as: tool.string("version"))
                    || !old.string("sha256").sameText(as: tool.string("sha256"))
            {
                add(
                    .toolChanged,
                    "tool \(name) changed (\(old.string("version") ?? "?") → "
                        + "\(tool.string("version") ?? "?"))",
                    "use the baseline's version of \(name)")
            }
        }
        self.findings = findings
    }

    static func short(_ digest: String?) -> String { digest.map { String($0.prefix(12)) } ?? "?" }

    /// The names whose values differ between two string maps, in UTF-8 byte order, with both values.
    static func changedEntries(
        _ old: [ExactText: String], _ new: [ExactText: String]
    ) -> [(name: String, old: String?, new: String?)] {
        Set(old.keys).union(new.keys).sorted().compactMap { name in
            let before = old[name]
            let after = new[name]
            return before.sameText(as: after) ? nil : (name.text, before, after)
        }
    }
}

/// Strings in UTF-8 byte order, which is code point order: what any other implementation sorts by (Swift's `<`
/// compares canonical equivalence instead), so that findings come in the same order everywhere.
package func utf8Order(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
}

/// A payload's top-level members, parsed once.
struct Payload {
    let parsed: ParsedJSON?

    init(_ value: JSONValue) { self.parsed = try? ParsedJSON(parsing: value.utf8) }

    func member(_ name: String) -> ParsedJSON? { self.parsed?[member: name] }

    func string(_ name: String) -> String? {
        if case .string(let text)? = self.member(name) { return text }
        if case .number(let text)? = self.member(name) { return text }
        return nil
    }

    func bool(_ name: String) -> Bool? {
        if case .bool(let value)? = self.member(name) { return value }
        return nil
    }

    /// A member that is an object of strings (a runtime map); empty when absent or of another shape.
    func strings(_ name: String) -> [ExactText: String] {
        guard case .object(let members)? = self.member(name) else { return [:] }
        var out: [ExactText: String] = [:]
        for member in members { if case .string(let text) = member.value { out[ExactText(member.name)] = text } }
        return out
    }
}

/// The payloads of a side by kind, newest record last (by commit_ts, then key, so that records of one commit come in
/// the same order whatever order they were listed in).
struct Payloads {
    let records: [ProvenanceRecord]

    init(_ records: [ProvenanceRecord]) {
        self.records = records.sorted {
            $0.commitTS != $1.commitTS ? $0.commitTS < $1.commitTS : utf8Order($0.key, $1.key)
        }
    }

    func of(_ kind: ProvenanceKind) -> [Payload] {
        self.records.filter { $0.kind == kind }.map { Payload($0.payload) }
    }

    /// The newest payload of a kind for each value of a member (config by source, code by repository).
    func byKey(_ kind: ProvenanceKind, _ member: String) -> [ExactText: Payload] {
        var result: [ExactText: Payload] = [:]
        for payload in self.of(kind) { if let key = payload.string(member) { result[ExactText(key)] = payload } }
        return result
    }

    /// ``byKey(_:_:)`` in UTF-8 byte order of the member's value: findings come in this order.
    func sortedByKey(_ kind: ProvenanceKind, _ member: String) -> [(key: String, value: Payload)] {
        self.byKey(kind, member).sorted { $0.key < $1.key }.map { ($0.key.text, $0.value) }
    }
}
