import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseModel

/// The dump file format (docs/api.md, "Dump files"): one JSON document naming where and when it was read, so that
/// `load` can write it back (into the same or another namespace or agent).
///
/// ```json
/// {
///   "statehouse_dump": 1,
///   "namespace": "default",
///   "commit_ts": 42,
///   "as_of": null,
///   "agents": {
///     "agent-1": {
///       "task": {"value": {"goal": "research"}, "version": 3, "commit_ts": 40, "committed_at": "2026-…Z"}
///     }
///   }
/// }
/// ```
///
/// Values are the stored JSON text, byte for byte. `load` also reads the original CLI's dump (`{"KEY": {"value": …,
/// "version": …, "commit_ts": …}}`, one agent, no header) when told the agent.
enum DumpFormat {
    static let formatVersion = 1
}

struct Dump: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the state of an agent (or of every agent) to a JSON dump, or print it as text.",
        discussion: """
            Reads one consistent point of the log: the head when the dump starts, or --at / --as-of. `dump AGENT -o \
            backup.json` writes the file (the original CLI's backup instruction; --out FILE is the explicit form); \
            -o text or -o json only chooses the format, which is JSON unless asked. `statehousectl load FILE` writes \
            a dump back.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this agent (default: every agent of the namespace).") var agent: String?
    @Option(name: .customLong("out"), help: "Write the dump to this file (replaced atomically).") var outFile: String?
    @Option(name: .customLong("format"), help: "json (default) or text.") var formatName: OutputFormat?
    @Option(help: "As of commit_ts S.") var at: UInt64?
    @Option(help: "As of a time (RFC 3339): the state at time T.") var asOf: String?

    /// The format and the file, from `-o`, `--out`, `--format` and `--json`.
    func destination() throws -> (format: OutputFormat, file: String?) {
        var file = self.outFile
        var format = self.formatName ?? (self.global.json ? .json : nil)
        if let output = self.global.output {
            if let chosen = OutputFormat(rawValue: output) {
                guard format == nil || format == chosen else {
                    throw UsageError("-o \(output) and --format \(format!.rawValue) disagree")
                }
                format = chosen
            } else {
                guard file == nil else { throw UsageError("give the file once: -o FILE or --out FILE") }
                file = output
            }
        }
        return (format ?? .json, file)
    }

    func run() async throws {
        let (format, file) = try self.destination()
        let requested = try ReadPoint(at: self.at, asOf: self.asOf)
        let namespace = self.global.namespaceName
        let (host, port) = try self.global.endpoint()
        let sink = OutputSink(file: file)
        let progress = Progress("dump")
        defer { sink.discard() }  // a dump that fails or is interrupted leaves no partial file behind
        let summary = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            // Pin the latest state to the head, so that every agent and page is read at the same commit.
            let head = try await client.head(namespace: namespace)
            let point: ReadPoint = requested == .latest ? .commit(head.commitTS) : requested
            let agents: [String]
            if let agent = self.agent {
                agents = [agent]
            } else {
                agents = try await allPages { try await client.listAgents(namespace: namespace, cursor: $0) }
            }
            var keys = 0
            var writtenAgents = 0
            var pinnedCommit: CommitTS?
            if case .commit(let commitTS) = point { pinnedCommit = commitTS }
            switch format {
            case .json:
                try sink.write(
                    "{\n  \"statehouse_dump\": \(DumpFormat.formatVersion),\n  \"namespace\": \(JSONOutput.quote(namespace)),\n"
                )
                try sink.write("  \"commit_ts\": \(pinnedCommit.map { "\($0)" } ?? "null"),\n")
                try sink.write("  \"as_of\": \(self.asOf.map { JSONOutput.quote($0) } ?? "null"),\n  \"agents\": {")
            case .text:
                let when = pinnedCommit.map { "commit_ts \($0)" } ?? "time \(self.asOf ?? "")"
                try sink.write("State dump of namespace '\(namespace)' at \(when)\n")
            }
            for agent in agents {
                var cursor: String?
                var first = true
                repeat {
                    let page = try await client.scan(namespace: namespace, agentID: agent, at: point, cursor: cursor)
                    for record in page.items {
                        guard let value = record.value else { continue }
                        switch format {
                        case .json:
                            if first {
                                try sink.write((writtenAgents > 0 ? "," : "") + "\n    \(JSONOutput.quote(agent)): {")
                            }
                            try sink.write(
                                (first ? "" : ",")
                                    + "\n      \(JSONOutput.quote(record.key)): {\"value\": \(value.text), "
                                    + "\"version\": \(record.version), \"commit_ts\": \(record.commitTS), "
                                    + "\"committed_at\": \(ModelJSON.time(record.committedAt).text)}")
                        case .text:
                            if first { try sink.write("\nAgent '\(agent)':\n") }
                            try sink.write(
                                "\n  \(record.key):\n    Version: \(record.version)\n    Commit TS: \(record.commitTS)\n"
                                    + "    Committed at: \(Render.time(record.committedAt))\n    Value: \(value.text)\n"
                            )
                        }
                        if first { writtenAgents += 1 }
                        first = false
                        keys += 1
                        progress.update(keys, unit: "keys")
                    }
                    cursor = page.nextCursor
                } while cursor != nil
                if !first && format == .json { try sink.write("\n    }") }
            }
            if format == .json { try sink.write(writtenAgents > 0 ? "\n  }\n}\n" : "}\n}\n") }
            return (keys: keys, agents: writtenAgents, commitTS: pinnedCommit)
        }
        progress.finish()
        try sink.commit()
        if let file {
            let at = summary.commitTS.map { "commit_ts \($0)" } ?? "time \(self.asOf ?? "")"
            emit(
                "✓ State dumped to \(file): \(summary.keys) keys of \(summary.agents) agent\(summary.agents == 1 ? "" : "s") "
                    + "from namespace '\(namespace)' at \(at)")
        }
    }
}

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a dump back as one atomic commit (into the same or another namespace or agent).",
        discussion: """
            Every key of the dump is written with its value, in one commit; keys the target has and the dump lacks are \
            left as they are. The namespace is the dump's unless -n/--namespace names another; --agent writes a \
            one-agent dump into another agent. A dump of the original CLI (keys only, no header) needs --agent.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The dump file (from statehousectl dump).") var file: String
    @Option(help: "Write the dump's agent into this agent instead.") var agent: String?

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: self.file) else {
            throw UsageError("cannot read \(self.file): \(String(cString: strerror(errno)))")
        }
        let dump = try LoadedDump(text: String(decoding: data, as: UTF8.self), file: self.file)
        var agents = dump.agents
        if let target = self.agent {
            guard agents.count <= 1 else {
                throw UsageError(
                    "--agent renames one agent, and \(self.file) holds \(agents.count) (\(agents.map(\.name).joined(separator: ", ")))"
                )
            }
            agents = agents.map { (name: target, keys: $0.keys) }
        }
        guard !agents.contains(where: { $0.name.isEmpty }) else {
            throw UsageError(
                "\(self.file) is a dump of the original CLI, which does not name its agent: give --agent AGENT")
        }
        let namespace = self.global.namespace ?? dump.namespace ?? "default"
        var operations: [WriteOperation] = []
        for agent in agents {
            for (key, value) in agent.keys {
                operations.append(.put(agentID: agent.name, key: key, value: value))
            }
        }
        guard !operations.isEmpty else { throw UsageError("\(self.file) holds no keys") }
        let commit = AtomicCommit(
            namespace: namespace,
            operations: operations,
            metadata: CommitMetadata(
                actor: "statehousectl", reason: "load \((self.file as NSString).lastPathComponent)")
        )
        let (host, port) = try self.global.endpoint()
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.commit(commit)
        }
        if try self.global.format == .json {
            emit(ModelJSON.commit(result).text)
        } else {
            emit(
                "loaded \(operations.count) keys of \(agents.count) agent\(agents.count == 1 ? "" : "s") into namespace "
                    + "'\(namespace)' at commit_ts \(result.commitTS)")
        }
    }
}

/// A dump file read back: its namespace (if it names one) and each agent's keys with their stored JSON text.
struct LoadedDump {
    var namespace: String?
    var agents: [(name: String, keys: [(String, JSONValue)])]

    init(text: String, file: String) throws {
        func bad(_ why: String) -> UsageError { UsageError("\(file) is not a Statehouse dump: \(why)") }
        guard let top = JSONTree.rawMembers(ofObject: text) else { throw bad("it is not a JSON object") }
        if let version = top.first(where: { $0.0 == "statehouse_dump" })?.1 {
            guard version == "\(DumpFormat.formatVersion)" else {
                throw bad("format \(version) is newer than this statehousectl reads (\(DumpFormat.formatVersion))")
            }
            if case .string(let namespace)? = top.first(where: { $0.0 == "namespace" }).map({ JSONTree(parsing: $0.1) })
            {
                self.namespace = namespace
            }
            guard let agentsText = top.first(where: { $0.0 == "agents" })?.1,
                let agents = JSONTree.rawMembers(ofObject: agentsText)
            else { throw bad("\"agents\" is missing or not an object") }
            self.agents = try agents.map { name, keysText in
                guard let keys = JSONTree.rawMembers(ofObject: keysText) else {
                    throw bad("agent '\(name)' is not an object")
                }
                return (name, try keys.map { try Self.value(key: $0.0, entry: $0.1, file: file) })
            }
        } else {
            // The original CLI's dump: {"KEY": {"value": ..., "version": ..., "commit_ts": ...}}, agent not named.
            self.namespace = nil
            self.agents = [("", try top.map { try Self.value(key: $0.0, entry: $0.1, file: file) })]
        }
    }

    static func value(key: String, entry: String, file: String) throws -> (String, JSONValue) {
        guard let fields = JSONTree.rawMembers(ofObject: entry), let raw = fields.first(where: { $0.0 == "value" })?.1
        else {
            throw UsageError("\(file) is not a Statehouse dump: key '\(key)' has no \"value\"")
        }
        do {
            return (key, try JSONValue(validating: raw))
        } catch let error as StatehouseError {
            throw UsageError("\(file): the value of key '\(key)': \(error)")
        }
    }
}
