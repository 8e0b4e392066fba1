import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseModel

/// `agent show|update|delete`: an agent's record beside its keys.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Show, update or delete an agent's record (name, status, metadata).",
        subcommands: [AgentShow.self, AgentUpdateCommand.self, AgentDelete.self]
    )
}

struct AgentShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an agent's record.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let record = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.getAgent(namespace: self.global.namespaceName, agentID: self.agent)
        }
        if try self.global.format == .json {
            emit(ModelJSON.agent(record).text)
        } else {
            emit(LifecycleRender.agentTable([record], style: self.global.style))
        }
    }
}

struct AgentUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Set an agent's display name, status or metadata (one commit).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Option(help: "Display name.") var name: String?
    @Option(help: "Status, free text such as active, paused or done.") var status: String?
    @Option(help: "Metadata: one JSON text.") var metadata: String?

    func run() async throws {
        guard self.name != nil || self.status != nil || self.metadata != nil else {
            throw UsageError("give --name, --status or --metadata")
        }
        let update = AgentUpdate(
            displayName: self.name, status: self.status, metadata: try self.metadata.map(LifecycleRender.json))
        let (host, port) = try self.global.endpoint()
        let record = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.updateAgent(namespace: self.global.namespaceName, agentID: self.agent, update)
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.agent(record).text : LifecycleRender.agentTable([record], style: self.global.style))
    }
}

struct AgentDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete an agent: one commit tombstoning every key; history is kept.",
        discussion: "Exits 4 when the agent is written while the delete reads it (nothing is deleted)."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.deleteAgent(namespace: self.global.namespaceName, agentID: self.agent)
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.commit(result).text
                : "deleted agent '\(self.agent)' (\(result.versions.count - 1) keys) at commit_ts "
                    + self.global.style.commitTS("\(result.commitTS)"))
    }
}

/// `snapshot create|list|show|delete`.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Name a point of an agent's (or the namespace's) state, list, show or delete such names.",
        subcommands: [SnapshotCreate.self, SnapshotList.self, SnapshotShow.self, SnapshotDelete.self]
    )
}

struct SnapshotCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a snapshot: a name for the state as of now (or --at / --as-of); nothing is copied.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Snapshot name (unique in the namespace).") var name: String
    @Option(help: "The agent whose state it names.") var agent: String?
    @Flag(help: "Name the state of the whole namespace instead of one agent.") var all = false
    @Option(help: "Description.") var description: String = ""
    @Option(help: "Metadata: one JSON text.") var metadata: String?
    @Option(help: "Expire after this long: seconds, or a number with s, m, h or d (e.g. 7d).") var expiresIn: String?
    @Option(help: "Name the state as of this commit_ts.") var at: UInt64?
    @Option(help: "Name the state as of this time (RFC 3339).") var asOf: String?

    func run() async throws {
        guard (self.agent == nil) == self.all else { throw UsageError("give --agent AGENT or --all") }
        guard self.at == nil || self.asOf == nil else { throw UsageError("use --at or --as-of, not both") }
        let point: StatePoint =
            try self.at.map { .commit($0) } ?? self.asOf.map { .time(try TimeArgument.micros($0)) }
            ?? .latest
        let expiresAt = try self.expiresIn.map {
            Int64(Date().timeIntervalSince1970 * 1_000_000) + (try LifecycleRender.duration($0))
        }
        let (host, port) = try self.global.endpoint()
        let snapshot = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.createSnapshot(
                namespace: self.global.namespaceName, name: self.name, agentID: self.agent,
                description: self.description, metadata: try self.metadata.map(LifecycleRender.json),
                expiresAt: expiresAt, at: point)
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.snapshot(snapshot).text
                : "created snapshot '\(snapshot.name)' of \(snapshot.agentID.map { "agent '\($0)'" } ?? "the namespace") "
                    + "at commit_ts " + self.global.style.commitTS("\(snapshot.commitTS)"))
    }
}

struct SnapshotList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List snapshots (expired ones are left out).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only snapshots of this agent.") var agent: String?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let snapshots = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await allPages {
                try await client.listSnapshots(namespace: self.global.namespaceName, agentID: self.agent, cursor: $0)
            }
        }
        if try self.global.format == .json {
            emit(JSONOutput.array(snapshots.map(ModelJSON.snapshot)).text)
        } else if !snapshots.isEmpty {
            emit(LifecycleRender.snapshotTable(snapshots, style: self.global.style))
        }
    }
}

struct SnapshotShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a snapshot.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Snapshot name.") var name: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let snapshot = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.getSnapshot(namespace: self.global.namespaceName, name: self.name)
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.snapshot(snapshot).text
                : LifecycleRender.snapshotTable([snapshot], style: self.global.style))
    }
}

struct SnapshotDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a snapshot.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Snapshot name.") var name: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.deleteSnapshot(namespace: self.global.namespaceName, name: self.name)
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.commit(result).text
                : "deleted snapshot '\(self.name)' at commit_ts " + self.global.style.commitTS("\(result.commitTS)"))
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the current state equal to a snapshot's, in one new commit (history is kept).",
        discussion: """
            Puts for keys changed or removed since the snapshot, deletes for keys created since. Exits 4 when the \\
            agent (or namespace) is written while the restore runs (nothing is written), unless --force.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Snapshot name.") var name: String
    @Flag(help: "Write even if the state changes while the restore runs.") var force = false
    @Option(help: "The commit's reason (default: names the snapshot).") var reason: String?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.restoreSnapshot(
                namespace: self.global.namespaceName, name: self.name, force: self.force,
                metadata: CommitMetadata(reason: self.reason))
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.copy(result).text
                : LifecycleRender.copySummary(
                    result, what: "restored snapshot '\(self.name)'", style: self.global.style))
    }
}

struct Fork: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy an agent's state (now, or at a point) into another agent, in one commit.",
        discussion: "The target must have no live key unless --overwrite; it may be in another namespace."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The source agent.") var agent: String
    @Option(name: .customLong("to"), help: "The target agent.") var target: String
    @Option(help: "The target's namespace (default: the source's).") var toNamespace: String?
    @Option(help: "The point: latest (default), a commit_ts, an RFC 3339 time or a snapshot name.") var at: String?
    @Flag(help: "Replace the target's state (its other keys are deleted).") var overwrite = false

    func run() async throws {
        let point = try self.at.map(LifecycleRender.point) ?? .latest
        let (host, port) = try self.global.endpoint()
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.fork(
                namespace: self.global.namespaceName, agentID: self.agent, at: point,
                targetNamespace: self.toNamespace, targetAgentID: self.target, overwrite: self.overwrite)
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.copy(result).text
                : LifecycleRender.copySummary(
                    result, what: "forked '\(self.agent)' (commit_ts \(result.sourceCommitTS)) into '\(self.target)'",
                    style: self.global.style))
    }
}

struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What changed in an agent's state between two points.",
        discussion: """
            A point is latest, a commit_ts, an RFC 3339 time or a snapshot name (snapshot:NAME when the name looks \\
            like a number or a time). Text output is a coloured diff; -o json gives each key's RFC 6902 JSON Patch.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Option(help: "The first point.") var from: String
    @Option(help: "The second point (default: latest).") var to: String = "latest"

    func run() async throws {
        let (from, to) = (try LifecycleRender.point(self.from), try LifecycleRender.point(self.to))
        let (host, port) = try self.global.endpoint()
        let diff = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.diff(namespace: self.global.namespaceName, agentID: self.agent, from: from, to: to)
        }
        if try self.global.format == .json {
            emit(ModelJSON.diff(diff).text)
        } else {
            emit(LifecycleRender.diffText(diff, style: self.global.style))
        }
    }
}

/// `event record` and `events`: what happened to agents.
struct EventCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Record an agent event (a message, a tool call, an error) or show one.",
        subcommands: [EventRecord.self, EventShow.self]
    )
}

struct EventRecord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Record an event in one commit; prints its id.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Event type, e.g. message, tool_call, error.") var type: String
    @Argument(help: "Content: one JSON text.") var content: String
    @Option(help: "Session id.") var session: String?
    @Option(help: "Who acted (a user, a tool, the agent).") var actor: String?
    @Option(help: "Metadata: one JSON text.") var metadata: String?

    func run() async throws {
        let draft = AgentEventDraft(
            agentID: self.agent, type: self.type, content: try LifecycleRender.json(self.content),
            sessionID: self.session, actor: self.actor, metadata: try self.metadata.map(LifecycleRender.json))
        let (host, port) = try self.global.endpoint()
        let events = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.recordEvents(namespace: self.global.namespaceName, [draft])
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.agentEvent(events[0]).text
                : "recorded event \(events[0].id) at commit_ts " + self.global.style.commitTS("\(events[0].commitTS)"))
    }
}

struct EventShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one event by id.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Event id.") var id: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let event = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.event(namespace: self.global.namespaceName, id: self.id)
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.agentEvent(event).text : LifecycleRender.eventLines([event], style: self.global.style))
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List recorded events in the order they were recorded, by agent, session, type, actor or time.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this agent's.") var agent: String?
    @Option(help: "Only this session's.") var session: String?
    @Option(help: "Only this type.") var type: String?
    @Option(help: "Only this actor's.") var actor: String?
    @Option(help: "Only events that occurred at or after this time (RFC 3339).") var since: String?
    @Option(help: "Only events that occurred at or before this time (RFC 3339).") var until: String?
    @Option(help: "At most this many.") var limit: Int?

    func run() async throws {
        let filter = AgentEventFilter(
            agentID: self.agent, sessionID: self.session, type: self.type, actor: self.actor,
            since: try self.since.map(TimeArgument.micros), until: try self.until.map(TimeArgument.micros))
        if let limit = self.limit, limit < 1 { throw UsageError("--limit must be at least 1") }
        let (host, port) = try self.global.endpoint()
        let events = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            var events: [AgentEvent] = []
            var cursor: String?
            repeat {
                let page = try await client.events(
                    namespace: self.global.namespaceName, filter: filter,
                    limit: min(1000, (self.limit ?? 1000) - events.count), cursor: cursor)
                events += page.items
                cursor = page.nextCursor
            } while cursor != nil && events.count < (self.limit ?? .max)
            return events
        }
        if try self.global.format == .json {
            emit(JSONOutput.array(events.map(ModelJSON.agentEvent)).text)
        } else if !events.isEmpty {
            emit(LifecycleRender.eventLines(events, style: self.global.style))
        }
    }
}

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Full-text search over agent events, commit metadata and (when indexed) state values.",
        discussion: """
            The query is SQLite FTS5 syntax: words (all must match), "a phrase", OR, NOT, prefix*. State values are \\
            searched when the daemon runs with search-state on; hits are each key's current version unless \\
            --history. Matched words are highlighted (« » in pipes).
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The query.") var query: String
    @Option(help: "Only state, event or commit hits (repeatable).") var kind: [String] = []
    @Option(help: "Only this agent's.") var agent: String?
    @Option(help: "State hits only: keys starting with this.") var keyPrefix: String?
    @Option(help: "Only events of this type.") var type: String?
    @Option(help: "Only events of this session.") var session: String?
    @Option(help: "Only this actor's events and commits.") var actor: String?
    @Option(help: "Only at or after this time (RFC 3339).") var since: String?
    @Option(help: "Only at or before this time (RFC 3339).") var until: String?
    @Flag(help: "State hits from every version, not only current ones.") var history = false
    @Option(help: "At most this many hits.") var limit: Int = 20

    func run() async throws {
        let kinds = try self.kind.map { name -> SearchQuery.Kind in
            guard let kind = SearchQuery.Kind(rawValue: name) else {
                throw UsageError("--kind must be state, event or commit; got '\(name)'")
            }
            return kind
        }
        guard (1...10_000).contains(self.limit) else { throw UsageError("--limit must be between 1 and 10000") }
        let query = SearchQuery(
            self.query, kinds: Set(kinds), agentID: self.agent, keyPrefix: self.keyPrefix, type: self.type,
            sessionID: self.session, actor: self.actor, since: try self.since.map(TimeArgument.micros),
            until: try self.until.map(TimeArgument.micros), history: self.history)
        let (host, port) = try self.global.endpoint()
        let hits = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.search(namespace: self.global.namespaceName, query, limit: self.limit).items
        }
        if try self.global.format == .json {
            emit(JSONOutput.array(hits.map(ModelJSON.hit)).text)
        } else if !hits.isEmpty {
            emit(hits.map { LifecycleRender.hitLine($0, style: self.global.style) }.joined(separator: "\n"))
        }
    }
}
