import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseLedger
import StatehouseModel

/// `capture`, `provenance` and `run`: what produced an agent's state (docs/api.md, "Provenance").
struct CaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture provenance (git, env, config, model, tool): print it, or record it with --agent.",
        subcommands: [CaptureGit.self, CaptureEnv.self, CaptureConfig.self, CaptureModel.self, CaptureTool.self]
    )
}

/// Where a capture goes: printed (the default), or recorded for an agent (and a run).
struct CaptureTarget: ParsableArguments {
    @Option(help: "Record it as provenance of this agent (default: only print the payload).") var agent: String?
    @Option(help: "With --agent: the run it belongs to.") var run: String?
    @Option(help: "With --agent: the record's id (default: one the daemon makes).") var id: String?

    func emitOrRecord(
        _ kind: ProvenanceKind, _ payloads: [JSONOutput], global: GlobalOptions
    ) async throws {
        guard let agent = self.agent else {
            for payload in payloads { emit(payload.text) }
            return
        }
        if self.id != nil, payloads.count > 1 { throw ValidationError("--id names one record; this captures several") }
        let drafts = try payloads.map {
            StatehouseClient.ProvenanceDraft(kind: kind, id: self.id, payload: try JSONValue(validating: $0.text))
        }
        let (host, port) = try global.endpoint()
        let records = try await withStatehouseClient(
            host: host, port: port, tls: try global.tls(), token: try global.token()
        ) { try await $0.recordProvenance(namespace: global.namespaceName, agentID: agent, drafts, runID: self.run) }
        for record in records {
            emit(try global.format == .json ? ProvenanceRender.json(record).text : ProvenanceRender.line(record))
        }
    }
}

struct CaptureGit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git", abstract: "Code: repository, commit, dirty or not, branch, lock files with digests.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: CaptureTarget
    @Argument(help: "A directory in the work tree (default: the current one).") var path: String = "."

    func run() async throws {
        try await self.target.emitOrRecord(.code, [try Collectors.code(at: self.path)], global: self.global)
    }
}

struct CaptureEnv: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Environment: OS, kernel, architecture, runtimes, locale, time zone, clock source, host name.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: CaptureTarget

    func run() async throws {
        try await self.target.emitOrRecord(.environment, [Collectors.environment()], global: self.global)
    }
}

struct CaptureConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Config: each file's path, SHA-256 and size (one record per file).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: CaptureTarget
    @Flag(help: "Also store each file's content as an artifact of the namespace (the payload's 'artifact').")
    var store = false
    @Argument(help: "The files.") var files: [String]

    func validate() throws {
        guard !self.files.isEmpty else { throw ValidationError("name at least one file") }
    }

    func run() async throws {
        let payloads = try self.files.map { try Collectors.config(file: $0, stored: self.store) }
        if self.store { try await Collectors.storeConfigs(payloads, files: self.files, global: self.global) }
        try await self.target.emitOrRecord(.config, payloads, global: self.global)
    }
}

struct CaptureModel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Model: provider, name, version, parameters, prompt template digest.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: CaptureTarget
    @Option(help: "The provider, e.g. anthropic.") var provider: String
    @Option(help: "The model's name.") var name: String
    @Option(help: "The model's version.") var version: String?
    @Option(help: "A parameter KEY=VALUE (repeatable; VALUE is JSON when it parses, else a string).")
    var param: [String] = []
    @Option(help: "A prompt template file; its SHA-256 is recorded.") var promptTemplate: String?

    func run() async throws {
        let payload = try Collectors.model(
            provider: self.provider, name: self.name, version: self.version, parameters: self.param,
            promptTemplate: self.promptTemplate)
        try await self.target.emitOrRecord(.model, [payload], global: self.global)
    }
}

struct CaptureTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tool", abstract: "Tool: name, version, and the SHA-256 of its file.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: CaptureTarget
    @Option(help: "The tool's name.") var name: String
    @Option(help: "Its version.") var version: String?
    @Option(help: "Its file (a script, a binary); its SHA-256 is recorded.") var file: String?

    func run() async throws {
        var fields: [(String, JSONOutput)] = [("name", .string(self.name))]
        if let version = self.version { fields.append(("version", .string(version))) }
        if let file = self.file { fields.append(("sha256", .string(try Collectors.digest(ofFile: file).sha256))) }
        try await self.target.emitOrRecord(.tool, [.object(fields)], global: self.global)
    }
}

struct ProvenanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provenance",
        abstract: "Provenance records: in effect at a point (the default), record one, list them.",
        subcommands: [ProvenanceAt.self, ProvenanceRecordCommand.self, ProvenanceList.self],
        defaultSubcommand: ProvenanceAt.self
    )
}

struct ProvenanceAt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "at",
        abstract:
            "The code, config, environment, model and tools in effect for an agent at a point, and its state then.",
        discussion: """
            The records of the run in effect then, or else the newest record of each kind recorded by then, and the \
            agent's keys at that point. Each record, the run and each key comes with the event that wrote it and \
            that event's inclusion proof in the namespace's signed tree head, checked (with --public-key, trusting \
            that key) before anything is printed; -o json prints them for a third party to check again. A point is \
            latest, a commit_ts, an RFC 3339 time or a snapshot name; --as-of takes a time.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The agent.") var agent: String
    @Option(help: "The point (default: latest).") var at: String = "latest"
    @Option(help: "A time (RFC 3339); same as --at TIME.") var asOf: String?
    @Option(help: "The ledger public key (PEM) to trust; without it, the key the daemon reports.")
    var publicKey: String?

    func run() async throws {
        let point = try LifecycleRender.point(self.asOf ?? self.at)
        let trusted = try self.publicKey.map(LedgerKeyCommand.readPublicKey)
        let namespace = self.global.namespaceName
        let (host, port) = try self.global.endpoint()
        typealias Proven = (record: StateRecord, witness: AuditBundle.WitnessLine)
        let (found, key, head, proven, state) = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            let found = try await client.provenance(namespace: namespace, agentID: self.agent, at: point)
            let proofs = try await StateProofs.start(client: client, namespace: namespace, trusted: trusted)
            let at = ReadPoint.commit(found.commitTS)
            var addresses = found.records.map { (ReservedNames.provenanceAgent, $0.key) }
            if let run = found.run { addresses.append((ReservedNames.runsAgent, run.id)) }
            var proven: [Proven] = []
            for (agent, key) in addresses {
                let record = try await client.get(namespace: namespace, agentID: agent, key: key, at: at)
                proven.append((record, try await proofs.prove(record)))
            }
            try Self.check(found.records, run: found.run, against: proven.map(\.record))
            let state = try await proofs.proveState(agent: self.agent, at: at)
            return (found, proofs.key, proofs.head, proven, state)
        }
        if try self.global.format == .json {
            let headJSON = String(decoding: AuditBundle.encode(AuditBundle.Head(head)), as: UTF8.self)
            emit(
                JSONOutput.object([
                    ("commit_ts", .int(found.commitTS)),
                    ("run", found.run.map(ProvenanceRender.json) ?? .null),
                    ("records", .array(found.records.map(ProvenanceRender.json))),
                    ("state", StateProofs.json(state)),
                    ("proofs", StateProofs.json(proven)),
                    ("head", .raw(headJSON)), ("public_key", .string(key.pem)),
                ]).text)
            return
        }
        emit(
            "provenance of agent '\(self.agent)' at commit_ts \(found.commitTS)"
                + (found.run.map { " (run \($0.id), \($0.status))" } ?? ""))
        if found.records.isEmpty { emit("no provenance recorded by then") }
        for record in found.records { emit(ProvenanceRender.line(record)) }
        emit("state of agent '\(self.agent)' at commit_ts \(found.commitTS): \(state.count) keys")
        for entry in state {
            emit("  \(entry.record.key)\tv\(entry.record.version)\t\(entry.record.value?.text ?? "")")
        }
        Terminal.standardError.note(
            "\(proven.count) records and \(state.count) keys, each proven against the tree head of size "
                + "\(head.head.treeSize) signed by key \(key.keyID)")
    }

    /// What is printed must be what was proven: the records and the run the daemon answered must be exactly the ones
    /// the proven state entries hold (a daemon could otherwise answer one payload and prove another).
    static func check(_ records: [ProvenanceRecord], run: AgentRun?, against proven: [StateRecord]) throws {
        let provenRecords = try proven.filter { $0.agentID == ReservedNames.provenanceAgent }.map {
            try ProvenanceRecordCodec.record($0)
        }
        let provenRun = try proven.first { $0.agentID == ReservedNames.runsAgent }.map {
            try ProvenanceRecordCodec.run($0, startCommitTS: 0)
        }
        func same(_ a: AgentRun?, _ b: AgentRun?) -> Bool {
            guard let a, let b else { return a == nil && b == nil }
            return a.id == b.id && a.agentID == b.agentID && a.status == b.status && a.startedAt == b.startedAt
                && a.endedAt == b.endedAt && a.provenance == b.provenance && a.metadata == b.metadata
        }
        guard Set(provenRecords) == Set(records), same(provenRun, run) else {
            throw StatehouseError.dataCorruption(
                commitTS: 0, reason: "the provenance the daemon answered is not the provenance its proofs hold")
        }
    }
}

struct ProvenanceRecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Record a provenance payload of a kind (checked against its schema).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "code, config, environment, mutation, model or tool.") var kind: String
    @Argument(help: "The payload: a JSON object.") var payload: String
    @Option(help: "The agent.") var agent: String
    @Option(help: "The run it belongs to.") var run: String?
    @Option(help: "The record's id (default: one the daemon makes).") var id: String?

    func run() async throws {
        let kind: ProvenanceKind
        let payload: JSONValue
        do {
            kind = try ProvenanceKind.parse(self.kind)
            payload = try JSONValue(validating: self.payload)
        } catch let error as StatehouseError {
            throw ValidationError("\(error)")
        }
        let (host, port) = try self.global.endpoint()
        let records = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.recordProvenance(
                namespace: self.global.namespaceName, agentID: self.agent,
                [.init(kind: kind, id: self.id, payload: payload)], runID: self.run)
        }
        for record in records {
            emit(try self.global.format == .json ? ProvenanceRender.json(record).text : ProvenanceRender.line(record))
        }
    }
}

struct ProvenanceList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Provenance records by kind and id, narrowed to an agent, a kind or a run.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this agent's.") var agent: String?
    @Option(help: "Only this kind.") var kind: String?
    @Option(help: "Only this run's.") var run: String?

    func run() async throws {
        let kind = try self.kind.map { kind -> ProvenanceKind in
            do { return try ProvenanceKind.parse(kind) } catch let error as StatehouseError {
                throw ValidationError("\(error)")
            }
        }
        let (host, port) = try self.global.endpoint()
        let records = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            var records: [ProvenanceRecord] = []
            var cursor: String?
            repeat {
                let page = try await client.listProvenance(
                    namespace: self.global.namespaceName, agentID: self.agent, kind: kind, runID: self.run,
                    cursor: cursor)
                records += page.items
                cursor = page.nextCursor
            } while cursor != nil
            return records
        }
        if try self.global.format == .json {
            emit(JSONOutput.array(records.map(ProvenanceRender.json)).text)
        } else {
            for record in records { emit(ProvenanceRender.line(record)) }
        }
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs: start one with the provenance in effect, end it, show it with its commits.",
        subcommands: [RunStart.self, RunEnd.self, RunShow.self, RunPlan.self]
    )
}

struct RunStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a run of an agent, recording its provenance; prints the run id.",
        discussion: """
            Tag the agent's commits of the run with the metadata tag run_id=ID (the SDKs' run helpers do). \\
            --capture env and --capture git[=PATH] run the collectors; --record KIND=JSON adds a payload as is.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent.") var agent: String
    @Option(help: "The run's id (default: one the daemon makes).") var id: String?
    @Option(help: "env, or git[=PATH] (repeatable).") var capture: [String] = []
    @Option(help: "KIND=JSON (repeatable).") var record: [String] = []

    func run() async throws {
        var drafts: [StatehouseClient.ProvenanceDraft] = []
        for capture in self.capture {
            if capture == "env" {
                drafts.append(
                    .init(kind: .environment, payload: try JSONValue(validating: Collectors.environment().text)))
            } else if capture == "git" || capture.hasPrefix("git=") {
                let path = capture == "git" ? "." : String(capture.dropFirst(4))
                drafts.append(.init(kind: .code, payload: try JSONValue(validating: Collectors.code(at: path).text)))
            } else {
                throw ValidationError("--capture takes env or git[=PATH], not '\(capture)'")
            }
        }
        for record in self.record {
            guard let equals = record.firstIndex(of: "="),
                let kind = ProvenanceKind(rawValue: String(record[..<equals]))
            else { throw ValidationError("--record takes KIND=JSON, got '\(record.prefix(40))'") }
            do {
                drafts.append(
                    .init(
                        kind: kind, payload: try JSONValue(validating: String(record[record.index(after: equals)...]))))
            } catch let error as StatehouseError {
                throw ValidationError("--record \(kind.rawValue): \(error)")
            }
        }
        let (host, port) = try self.global.endpoint()
        let run = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.startRun(
                namespace: self.global.namespaceName, agentID: self.agent, id: self.id, provenance: drafts)
        }
        emit(try self.global.format == .json ? ProvenanceRender.json(run).text : run.id)
    }
}

struct RunEnd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "end", abstract: "End a run with a status.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The run's id.") var id: String
    @Option(help: "succeeded (default), failed, or your word.") var status: String = "succeeded"

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let run = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { try await $0.endRun(namespace: self.global.namespaceName, id: self.id, status: self.status) }
        emit(
            try self.global.format == .json
                ? ProvenanceRender.json(run).text
                : "ended run \(run.id) (\(run.status)) at commit_ts \(run.endCommitTS ?? 0)")
    }
}

struct RunShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "A run: its status, the provenance recorded with it, and the commits it made.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The run's id.") var id: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let shown = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { try await $0.run(namespace: self.global.namespaceName, id: self.id) }
        if try self.global.format == .json {
            emit(
                JSONOutput.object([
                    ("run", ProvenanceRender.json(shown.run)),
                    ("provenance", .array(shown.provenance.map(ProvenanceRender.json))),
                    ("commits", .array(shown.commits.map { ModelJSON.event($0) })),
                ]).text)
            return
        }
        let run = shown.run
        emit(
            "run \(run.id) of agent '\(run.agentID)': \(run.status), started \(RFC3339.text(run.startedAt)) at "
                + "commit_ts \(run.startCommitTS)"
                + (run.endedAt.map { ", ended \(RFC3339.text($0)) at commit_ts \(run.endCommitTS ?? 0)" } ?? ""))
        for record in shown.provenance { emit("  " + ProvenanceRender.line(record)) }
        emit("\(shown.commits.count) commit(s): " + shown.commits.map { "\($0.commitTS)" }.joined(separator: ", "))
    }
}

enum ProvenanceRender {
    static func json(_ record: ProvenanceRecord) -> JSONOutput {
        .object([
            ("kind", .string(record.kind.rawValue)), ("id", .string(record.id)), ("agent_id", .string(record.agentID)),
            ("captured_at", .string(RFC3339.text(record.capturedAt))), ("payload", .raw(record.payload.text)),
            ("run_id", record.runID.map { .string($0) } ?? .null), ("commit_ts", .int(record.commitTS)),
        ])
    }

    static func json(_ run: AgentRun) -> JSONOutput {
        .object([
            ("id", .string(run.id)), ("agent_id", .string(run.agentID)), ("status", .string(run.status)),
            ("started_at", .string(RFC3339.text(run.startedAt))),
            ("ended_at", run.endedAt.map { .string(RFC3339.text($0)) } ?? .null),
            ("start_commit_ts", .int(run.startCommitTS)), ("end_commit_ts", run.endCommitTS.map { .int($0) } ?? .null),
            ("provenance", .array(run.provenance.map { .string($0) })),
            ("metadata", run.metadata.map { .raw($0.text) } ?? .null),
        ])
    }

    static func line(_ record: ProvenanceRecord) -> String {
        "\(record.kind.rawValue)/\(record.id)  \(record.payload.text)  (commit_ts \(record.commitTS)"
            + (record.runID.map { ", run \($0)" } ?? "") + ")"
    }
}

struct Advisory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advisory",
        abstract: "What differs between the provenance of two points or two runs, with a reproducibility risk score.",
        discussion: """
            The score (0-100) adds up the rules that find something (docs/api.md, "Advisory"): code commit changed 30, \\
            model changed 25, dirty work tree 20, config changed 15, model parameters changed 10, runtime changed 10, \\
            platform changed 10, a capture missing 10, tool changed 5.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The agent (with --from / --to).") var agent: String?
    @Option(help: "The baseline's point: latest, a commit_ts, an RFC 3339 time or a snapshot.") var from: String?
    @Option(help: "The candidate's point (default: latest).") var to: String = "latest"
    @Option(help: "Compare runs instead: the baseline run.") var fromRun: String?
    @Option(help: "The candidate run.") var toRun: String?

    func validate() throws {
        if self.fromRun != nil || self.toRun != nil {
            guard self.fromRun != nil, self.toRun != nil else {
                throw ValidationError("give both --from-run and --to-run")
            }
        } else {
            guard self.agent != nil, self.from != nil else {
                throw ValidationError("give --agent and --from (and --to), or --from-run and --to-run")
            }
        }
    }

    func run() async throws {
        let from = try self.from.map(LifecycleRender.point) ?? .latest
        let to = try LifecycleRender.point(self.to)
        let (host, port) = try self.global.endpoint()
        let advice = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.advise(
                namespace: self.global.namespaceName, agentID: self.agent ?? "", from: from, to: to,
                fromRun: self.fromRun, toRun: self.toRun)
        }
        if try self.global.format == .json {
            emit(
                JSONOutput.object([
                    ("from_commit_ts", .int(advice.fromCommitTS)), ("to_commit_ts", .int(advice.toCommitTS)),
                    ("score", .int(advice.score)),
                    (
                        "findings",
                        .array(
                            advice.findings.map {
                                .object([
                                    ("rule", .string($0.rule)), ("points", .int($0.points)),
                                    ("message", .string($0.message)), ("recommendation", .string($0.recommendation)),
                                ])
                            })
                    ),
                ]).text)
            return
        }
        emit("reproducibility risk \(advice.score)/100" + (advice.findings.isEmpty ? ": nothing differs" : ""))
        for finding in advice.findings {
            emit("  +\(finding.points) \(finding.rule): \(finding.message)")
            emit("      \(finding.recommendation)")
        }
    }
}

struct RunPlan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "The plan to replay the mutations a run recorded, per source, with findings.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The run's id.") var id: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let plan = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { try await $0.replayPlan(namespace: self.global.namespaceName, runID: self.id) }
        if try self.global.format == .json {
            emit(
                JSONOutput.object([
                    (
                        "sources",
                        .array(
                            plan.sources.map { source in
                                .object([
                                    ("source", .string(source.source)),
                                    (
                                        "steps",
                                        .array(
                                            source.steps.map {
                                                .object([
                                                    ("sequence", .int($0.sequence)), ("type", .string($0.type)),
                                                    ("id", .string($0.id)), ("record", .string($0.record)),
                                                ])
                                            })
                                    ),
                                ])
                            })
                    ),
                    (
                        "findings",
                        .array(
                            plan.findings.map {
                                .object([
                                    ("rule", .string($0.rule)), ("source", .string($0.source)),
                                    ("message", .string($0.message)),
                                ])
                            })
                    ),
                ]).text)
            return
        }
        for source in plan.sources {
            emit(
                "\(source.source): " + source.steps.map { "\($0.sequence) \($0.type) \($0.id)" }.joined(separator: ", ")
            )
        }
        for finding in plan.findings { emit("\(finding.rule) (\(finding.source)): \(finding.message)") }
        if plan.sources.isEmpty { emit("the run recorded no mutation") }
    }
}

struct ManifestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Capture manifests: validate one, show what it captures, or run it (start a run with it).",
        subcommands: [ManifestValidate.self, ManifestShow.self, ManifestRun.self]
    )
}

struct ManifestValidate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check a manifest's structure (no capture, no daemon).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The manifest (JSON).") var file: String

    func run() async throws {
        let manifest = try CaptureManifest(path: self.file)
        emit("ok: \(manifest.entries.count) capture(s) for agent '\(manifest.agent)'")
    }
}

struct ManifestShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Run a manifest's collectors and print each payload (no daemon).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The manifest (JSON).") var file: String

    func run() async throws {
        let captured = try CaptureManifest(path: self.file).capture()
        if try self.global.format == .json {
            emit(
                JSONOutput.array(
                    captured.map { .object([("kind", .string($0.0.rawValue)), ("payload", .raw($0.1.text))]) }
                ).text)
        } else {
            for (kind, payload) in captured { emit("\(kind.rawValue)  \(payload.text)") }
        }
    }
}

struct ManifestRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Capture what a manifest lists and start a run of its agent with it; prints the run id.",
        discussion: "With --no-run the records are recorded for the agent without a run.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The manifest (JSON).") var file: String
    @Option(help: "The run's id (default: one the daemon makes).") var id: String?
    @Flag(help: "Record the provenance without starting a run.") var noRun = false

    func run() async throws {
        let manifest = try CaptureManifest(path: self.file)
        let captured = try manifest.capture()
        let drafts = captured.map { StatehouseClient.ProvenanceDraft(kind: $0.0, payload: $0.1) }
        let (host, port) = try self.global.endpoint()
        try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            // Config contents first, each checked against the digest just captured, so the records name stored blobs.
            for file in manifest.storedFiles {
                let digest = try Collectors.digest(ofFile: file).sha256
                guard captured.contains(where: { $0.0 == .config && $0.1.text.contains(digest) }) else {
                    throw StatehouseError.invalidArgument("\(file) changed while the manifest was captured")
                }
                _ = try await client.putArtifact(
                    namespace: self.global.namespaceName, file: file, expectedSHA256: digest)
            }
            if self.noRun {
                let records = try await client.recordProvenance(
                    namespace: self.global.namespaceName, agentID: manifest.agent, drafts)
                for record in records { emit(ProvenanceRender.line(record)) }
            } else {
                let run = try await client.startRun(
                    namespace: self.global.namespaceName, agentID: manifest.agent, id: self.id, provenance: drafts)
                emit(try self.global.format == .json ? ProvenanceRender.json(run).text : run.id)
            }
        }
    }
}
