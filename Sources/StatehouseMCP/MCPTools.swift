import Foundation
import MCP
import StatehouseClient
import StatehouseModel

/// One MCP tool: what the model sees (name, description, JSON schema, hints) and what a call does.
struct MCPToolDefinition: Sendable {
    let name: String
    let description: String
    /// The schema's properties (JSON Schema), without the namespace one, which the server adds when allowed.
    let properties: [String: Value]
    let required: [String]
    let annotations: Tool.Annotations
    let run: @Sendable (StatehouseClient, MCPArguments, String) async throws -> JSONText

    func tool(namespaceArgument: Bool) -> Tool {
        var properties = self.properties
        if namespaceArgument {
            properties["namespace"] = MCPSchema.string("The Statehouse namespace (default: the server's).")
        }
        return Tool(
            name: self.name,
            description: self.description,
            inputSchema: .object([
                "type": "object",
                "properties": .object(properties),
                "required": .array(self.required.map { .string($0) }),
                "additionalProperties": false,
            ]),
            annotations: self.annotations
        )
    }
}

enum MCPSchema {
    static func string(_ description: String) -> Value {
        .object(["type": "string", "description": .string(description)])
    }

    static func integer(_ description: String, minimum: Int = 0, maximum: Int? = nil) -> Value {
        var schema: [String: Value] = [
            "type": "integer", "description": .string(description), "minimum": .int(minimum),
        ]
        if let maximum { schema["maximum"] = .int(maximum) }
        return .object(schema)
    }

    static func boolean(_ description: String) -> Value {
        .object(["type": "boolean", "description": .string(description)])
    }

    static func number(_ description: String) -> Value {
        .object(["type": "number", "description": .string(description), "exclusiveMinimum": 0])
    }

    /// Any JSON value.
    static func anyJSON(_ description: String) -> Value {
        .object(["description": .string(description)])
    }

    static func point(_ description: String) -> Value {
        .object([
            "type": ["string", "integer"],
            "description": .string(
                description + " A snapshot name, a commit_ts (a number), an RFC 3339 time, or \"latest\"."),
        ])
    }

    static let agentID = string("The agent whose memory this is, e.g. \"research-assistant\".")
    static let key = string("The key within the agent's memory, e.g. \"notes/paris\" or \"plan\".")
    static let reason = string("Why, in a few words; stored with the change and shown in its history.")
}

/// The tools, in the order `tools/list` gives them.
enum MCPToolCatalog {
    static let all: [MCPToolDefinition] = [
        remember, recall, forget, listKeys, listAgents, history, replay, verify, snapshot, restore, diff, search,
    ]

    static let byName: [String: MCPToolDefinition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    static let remember = MCPToolDefinition(
        name: "remember",
        description: """
            Stores a JSON value under an agent's key, as one atomic, versioned commit (earlier versions stay in the \
            key's history). With expected_version the write happens only if the key is still at that version (0: it \
            must not exist yet); otherwise it fails with a conflict naming the current version, and nothing changes. \
            Returns the new version and the commit's commit_ts.
            """,
        properties: [
            "agent_id": MCPSchema.agentID, "key": MCPSchema.key,
            "value": MCPSchema.anyJSON("The JSON value to store (object, array, string, number, true, false or null)."),
            "expected_version": MCPSchema.integer(
                "Write only if the key's current version is this (0: only if it does not exist)."),
            "ttl_seconds": MCPSchema.number("Forget the value after this many seconds."),
            "reason": MCPSchema.reason,
        ],
        required: ["agent_id", "key", "value"],
        annotations: .init(title: "Remember", readOnlyHint: false, destructiveHint: false, idempotentHint: false)
    ) { client, arguments, namespace in
        try arguments.requireKnown([
            "agent_id", "key", "value", "expected_version", "ttl_seconds", "reason", "namespace",
        ])
        let agentID = try arguments.string("agent_id")
        let key = try arguments.string("key")
        let value = try arguments.json("value")
        var expiresAt: Microseconds?
        if let ttl = try arguments.optionalNumber("ttl_seconds") {
            guard ttl > 0, ttl < 1e9 else { throw arguments.problem("'ttl_seconds' must be above 0") }
            expiresAt = Microseconds(Date().timeIntervalSince1970 * 1_000_000) + Microseconds(ttl * 1_000_000)
        }
        let commit = AtomicCommit(
            namespace: namespace,
            operations: [.put(agentID: agentID, key: key, value: value, expiresAt: expiresAt)],
            conditions: try Self.expectation(arguments, agentID: agentID, key: key),
            metadata: CommitMetadata(actor: "mcp", reason: try arguments.optionalString("reason"))
        )
        let result = try await client.commit(commit)
        return .object([
            "agent_id": .string(agentID), "key": .string(key), "version": .number(result.versions.first ?? 0),
            "commit_ts": .number(result.commitTS), "committed_at": .time(result.committedAt),
        ])
    }

    static let recall = MCPToolDefinition(
        name: "recall",
        description: """
            Reads an agent's key: its current value, or its value at a version, at a commit_ts or at a time \
            (give at most one). A key that does not exist (never written, or forgotten) gives exists=false, \
            not an error.
            """,
        properties: [
            "agent_id": MCPSchema.agentID, "key": MCPSchema.key,
            "version": MCPSchema.integer("Read this version of the key (1 is its first write).", minimum: 1),
            "commit_ts": MCPSchema.integer("Read the key as it was at this commit_ts.", minimum: 1),
            "at_time": MCPSchema.string("Read the key as it was at this RFC 3339 time, e.g. 2026-12-05T14:30:00Z."),
        ],
        required: ["agent_id", "key"],
        annotations: .init(title: "Recall", readOnlyHint: true)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["agent_id", "key", "version", "commit_ts", "at_time", "namespace"])
        let agentID = try arguments.string("agent_id")
        let key = try arguments.string("key")
        let version = try arguments.optionalInteger("version", minimum: 1)
        let commitTS = try arguments.optionalInteger("commit_ts", minimum: 1)
        let time = try arguments.time("at_time")
        guard [version != nil, commitTS != nil, time != nil].filter({ $0 }).count <= 1 else {
            throw arguments.problem("give at most one of 'version', 'commit_ts' and 'at_time'")
        }
        let point: ReadPoint =
            version.map { .version(Version($0)) } ?? commitTS.map { .commit(CommitTS($0)) } ?? time.map { .time($0) }
            ?? .latest
        let record = try await client.get(namespace: namespace, agentID: agentID, key: key, at: point)
        return Self.record(record)
    }

    static let forget = MCPToolDefinition(
        name: "forget",
        description: """
            Deletes an agent's key (a new version that is a delete; the earlier values stay in its history). With \
            expected_version, only if the key is still at that version.
            """,
        properties: [
            "agent_id": MCPSchema.agentID, "key": MCPSchema.key,
            "expected_version": MCPSchema.integer("Delete only if the key's current version is this."),
            "reason": MCPSchema.reason,
        ],
        required: ["agent_id", "key"],
        annotations: .init(title: "Forget", readOnlyHint: false, destructiveHint: true, idempotentHint: true)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["agent_id", "key", "expected_version", "reason", "namespace"])
        let agentID = try arguments.string("agent_id")
        let key = try arguments.string("key")
        let commit = AtomicCommit(
            namespace: namespace,
            operations: [.delete(agentID: agentID, key: key)],
            conditions: try Self.expectation(arguments, agentID: agentID, key: key),
            metadata: CommitMetadata(actor: "mcp", reason: try arguments.optionalString("reason"))
        )
        let result = try await client.commit(commit)
        return .object([
            "agent_id": .string(agentID), "key": .string(key), "version": .number(result.versions.first ?? 0),
            "commit_ts": .number(result.commitTS),
        ])
    }

    static let listKeys = MCPToolDefinition(
        name: "list_keys",
        description: "Lists an agent's keys (those with a value) in order, with their current versions; pages with "
            + "next_cursor.",
        properties: [
            "agent_id": MCPSchema.agentID,
            "prefix": MCPSchema.string("Only keys starting with this, e.g. \"notes/\"."),
            "limit": MCPSchema.integer("At most this many keys (default 100).", minimum: 1, maximum: 1000),
            "cursor": MCPSchema.string("The next_cursor of the previous page."),
        ],
        required: ["agent_id"],
        annotations: .init(title: "List keys", readOnlyHint: true)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["agent_id", "prefix", "limit", "cursor", "namespace"])
        let page = try await client.listKeys(
            namespace: namespace, agentID: try arguments.string("agent_id"),
            prefix: try arguments.optionalString("prefix") ?? "",
            limit: try arguments.optionalInteger("limit", minimum: 1, maximum: 1000) ?? 100,
            cursor: try arguments.optionalString("cursor"))
        return .object([
            "keys": .array(page.items.map { .object(["key": .string($0.key), "version": .number($0.version)]) }),
            "next_cursor": .optional(page.nextCursor),
        ])
    }

    static let listAgents = MCPToolDefinition(
        name: "list_agents",
        description: "Lists the agents that have memory in this namespace, in order; pages with next_cursor.",
        properties: [
            "limit": MCPSchema.integer("At most this many agents (default 100).", minimum: 1, maximum: 1000),
            "cursor": MCPSchema.string("The next_cursor of the previous page."),
        ],
        required: [],
        annotations: .init(title: "List agents", readOnlyHint: true)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["limit", "cursor", "namespace"])
        let page = try await client.listAgents(
            namespace: namespace, limit: try arguments.optionalInteger("limit", minimum: 1, maximum: 1000) ?? 100,
            cursor: try arguments.optionalString("cursor"))
        return .object(["agents": .array(page.items.map { .string($0) }), "next_cursor": .optional(page.nextCursor)])
    }

    static let history = MCPToolDefinition(
        name: "history",
        description: """
            Every version of an agent's key, newest first: its value (or that it was deleted), when, by whom and why.
            """,
        properties: [
            "agent_id": MCPSchema.agentID, "key": MCPSchema.key,
            "limit": MCPSchema.integer("At most this many versions (default 20).", minimum: 1, maximum: 1000),
        ],
        required: ["agent_id", "key"],
        annotations: .init(title: "History", readOnlyHint: true)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["agent_id", "key", "limit", "namespace"])
        let page = try await client.transitions(
            namespace: namespace, agentID: try arguments.string("agent_id"), key: try arguments.string("key"),
            limit: try arguments.optionalInteger("limit", minimum: 1, maximum: 1000) ?? 20)
        return .object([
            "versions": .array(
                page.items.map { item in
                    .object([
                        "version": .number(item.record.version), "commit_ts": .number(item.record.commitTS),
                        "committed_at": .time(item.record.committedAt), "deleted": .bool(item.record.deleted),
                        "value_removed": .bool(item.record.valueRemoved), "value": .value(item.record.value),
                        "actor": .optional(item.metadata.actor), "reason": .optional(item.metadata.reason),
                    ])
                })
        ])
    }

    static let replay = MCPToolDefinition(
        name: "replay",
        description: """
            The namespace's log of commits in order (one agent's, when agent_id is given): each commit's commit_ts, \
            time, actor, reason and writes. Pages with next_cursor.
            """,
        properties: [
            "agent_id": MCPSchema.string("Only this agent's writes."),
            "from_commit_ts": MCPSchema.integer("First commit_ts (default 1).", minimum: 1),
            "to_commit_ts": MCPSchema.integer("Last commit_ts (default: the latest).", minimum: 1),
            "limit": MCPSchema.integer("At most this many commits (default 50).", minimum: 1, maximum: 1000),
            "cursor": MCPSchema.string("The next_cursor of the previous page."),
        ],
        required: [],
        annotations: .init(title: "Replay", readOnlyHint: true)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["agent_id", "from_commit_ts", "to_commit_ts", "limit", "cursor", "namespace"])
        let filter = LogFilter(
            namespace: namespace, agentID: try arguments.optionalString("agent_id"),
            fromCommitTS: try arguments.optionalInteger("from_commit_ts", minimum: 1).map { CommitTS($0) },
            toCommitTS: try arguments.optionalInteger("to_commit_ts", minimum: 1).map { CommitTS($0) })
        let page = try await client.readLog(
            filter, limit: try arguments.optionalInteger("limit", minimum: 1, maximum: 1000) ?? 50,
            cursor: try arguments.optionalString("cursor"))
        return .object(["events": .array(page.items.map(Self.event)), "next_cursor": .optional(page.nextCursor)])
    }

    static let verify = MCPToolDefinition(
        name: "verify",
        description: """
            Recomputes the namespace's hash chain (every commit's hash from its content and the previous hash) and \
            says whether it is intact, or where it breaks.
            """,
        properties: [
            "from_commit_ts": MCPSchema.integer("First commit_ts to check (default 1).", minimum: 1),
            "to_commit_ts": MCPSchema.integer("Last commit_ts to check (default: the latest).", minimum: 1),
        ],
        required: [],
        annotations: .init(title: "Verify", readOnlyHint: true)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["from_commit_ts", "to_commit_ts", "namespace"])
        let report = try await client.verify(
            namespace: namespace,
            from: CommitTS(try arguments.optionalInteger("from_commit_ts", minimum: 1) ?? 1),
            to: try arguments.optionalInteger("to_commit_ts", minimum: 1).map { CommitTS($0) })
        return .object([
            "ok": .bool(report.firstBadCommitTS == nil), "events_checked": .number(report.eventsChecked),
            "first_bad_commit_ts": report.firstBadCommitTS.map { .number($0) } ?? .null,
            "reason": .optional(report.reason),
        ])
    }

    static let snapshot = MCPToolDefinition(
        name: "snapshot",
        description: """
            Names the current state of an agent (or of the whole namespace when agent_id is left out) so that it can \
            be restored or compared later. It is a named point in the log, not a copy: instant whatever the size.
            """,
        properties: [
            "name": MCPSchema.string("A name unique in the namespace, e.g. \"before-refactor\"."),
            "agent_id": MCPSchema.string("The agent (default: the whole namespace)."),
            "description": MCPSchema.string("What this state is."),
        ],
        required: ["name"],
        annotations: .init(title: "Snapshot", readOnlyHint: false, destructiveHint: false, idempotentHint: false)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["name", "agent_id", "description", "namespace"])
        let snapshot = try await client.createSnapshot(
            namespace: namespace, name: try arguments.string("name"), agentID: try arguments.optionalString("agent_id"),
            description: try arguments.optionalString("description") ?? "")
        return .object([
            "name": .string(snapshot.name), "agent_id": .optional(snapshot.agentID),
            "commit_ts": .number(snapshot.commitTS), "created_at": .time(snapshot.createdAt),
        ])
    }

    static let restore = MCPToolDefinition(
        name: "restore",
        description: """
            Brings an agent (or the namespace) back to a snapshot's state in one commit: keys changed since are \
            written back, keys created since are deleted; history is kept. Fails with a conflict if the agent \
            changes while it runs, unless force is true.
            """,
        properties: [
            "name": MCPSchema.string("The snapshot's name."),
            "force": MCPSchema.boolean("Restore even if the agent changes meanwhile."),
            "reason": MCPSchema.reason,
        ],
        required: ["name"],
        annotations: .init(title: "Restore", readOnlyHint: false, destructiveHint: true, idempotentHint: true)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["name", "force", "reason", "namespace"])
        let result = try await client.restoreSnapshot(
            namespace: namespace, name: try arguments.string("name"),
            force: try arguments.optionalBool("force") ?? false,
            metadata: CommitMetadata(actor: "mcp", reason: try arguments.optionalString("reason")))
        return .object([
            "puts": .number(result.puts), "deletes": .number(result.deletes),
            "commit_ts": .number(result.commit.commitTS), "snapshot_commit_ts": .number(result.sourceCommitTS),
        ])
    }

    static let diff = MCPToolDefinition(
        name: "diff",
        description: """
            What changed in an agent's memory between two points: keys added, removed and changed, each change with \
            an RFC 6902 JSON Patch from the old value to the new.
            """,
        properties: [
            "agent_id": MCPSchema.agentID,
            "from": MCPSchema.point("The earlier point."),
            "to": MCPSchema.point("The later point (default \"latest\")."),
        ],
        required: ["agent_id", "from"],
        annotations: .init(title: "Diff", readOnlyHint: true)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["agent_id", "from", "to", "namespace"])
        guard let from = try arguments.point("from") else { throw arguments.problem("'from' is required") }
        let diff = try await client.diff(
            namespace: namespace, agentID: try arguments.string("agent_id"), from: from,
            to: try arguments.point("to") ?? .latest)
        return .object([
            "from_commit_ts": .number(diff.fromCommitTS), "to_commit_ts": .number(diff.toCommitTS),
            "differences": .array(
                diff.differences.map { difference in
                    .object([
                        "key": .string(difference.key), "change": .string("\(difference.change)"),
                        "before": .value(difference.before?.value), "after": .value(difference.after?.value),
                        "patch": .value(difference.patch),
                    ])
                }),
        ])
    }

    static let search = MCPToolDefinition(
        name: "search",
        description: """
            Full-text search over the namespace's events, commit reasons and (when the daemon indexes them) stored \
            values, best match first. The query uses SQLite FTS5 syntax: words, "exact phrases", OR, NOT, prefix*.
            """,
        properties: [
            "query": MCPSchema.string("What to look for, e.g. \"paris weather\"."),
            "agent_id": MCPSchema.string("Only this agent's."),
            "limit": MCPSchema.integer("At most this many hits (default 10).", minimum: 1, maximum: 100),
        ],
        required: ["query"],
        annotations: .init(title: "Search", readOnlyHint: true)
    ) { client, arguments, namespace in
        try arguments.requireKnown(["query", "agent_id", "limit", "namespace"])
        let query = SearchQuery(try arguments.string("query"), agentID: try arguments.optionalString("agent_id"))
        let page = try await client.search(
            namespace: namespace, query, limit: try arguments.optionalInteger("limit", minimum: 1, maximum: 100) ?? 10)
        return .object([
            "hits": .array(
                page.items.map { hit in
                    .object([
                        "kind": .string("\(hit.kind)"), "agent_id": .optional(hit.agentID), "key": .optional(hit.key),
                        "commit_ts": .number(hit.commitTS), "snippet": .string(hit.snippet),
                    ])
                })
        ])
    }

    // MARK: helpers

    static func expectation(
        _ arguments: MCPArguments, agentID: String, key: String
    ) throws
        -> [AtomicCommit.Condition]
    {
        guard let expected = try arguments.optionalInteger("expected_version") else { return [] }
        return [
            AtomicCommit.Condition(
                agentID: agentID, key: key, expected: expected == 0 ? .absent : .version(Version(expected)))
        ]
    }

    static func record(_ record: StateRecord) -> JSONText {
        .object([
            "agent_id": .string(record.agentID), "key": .string(record.key), "exists": .bool(record.exists),
            "value": .value(record.value), "version": .number(record.version),
            "commit_ts": .number(record.commitTS), "committed_at": .time(record.committedAt),
        ])
    }

    static func event(_ event: Event) -> JSONText {
        .object([
            "commit_ts": .number(event.commitTS), "committed_at": .time(event.committedAt),
            "actor": .optional(event.metadata.actor), "reason": .optional(event.metadata.reason),
            "operations": .array(
                event.operations.map { operation in
                    .object([
                        "agent_id": .string(operation.agentID), "key": .string(operation.key),
                        "kind": .string(operation.kind == .delete ? "delete" : "put"),
                        "version": .number(operation.version), "value": .value(operation.value),
                    ])
                }),
        ])
    }
}
