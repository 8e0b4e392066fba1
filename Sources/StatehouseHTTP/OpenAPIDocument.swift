import StatehouseModel

/// The OpenAPI 3.1 document of the HTTP API, built from the route table (``HTTPAPI/routes``), so the document and
/// the router cannot disagree. Served at `/v1/openapi.json`; `statehoused --openapi` prints it and
/// `docs/openapi.json` is that output (a test keeps them equal).
enum OpenAPIDocument {
    static func make(routes: [HTTPRoute], version: String) -> JSONOutput {
        var paths: [(String, [(String, JSONOutput)])] = []
        for route in routes {
            if let index = paths.firstIndex(where: { $0.0 == route.path }) {
                paths[index].1.append((route.method.rawValue, self.operation(route)))
            } else {
                paths.append((route.path, [(route.method.rawValue, self.operation(route))]))
            }
        }
        return .object([
            ("openapi", .string("3.1.0")),
            (
                "info",
                .object([
                    ("title", .string("Statehouse HTTP API")), ("version", .string(version)),
                    (
                        "description",
                        .string(
                            "Versioned, verifiable agent state over HTTP/JSON. Values are the stored JSON bytes. Errors "
                                + "are RFC 9457 problems (application/problem+json). Path parameters are "
                                + "percent-encoded single segments (a key plan/1 is plan%2F1).")
                    ),
                ])
            ),
            ("paths", .object(paths.map { ($0.0, .object($0.1)) })),
            ("components", .object([("schemas", .object(self.schemas))])),
        ])
    }

    private static func operation(_ route: HTTPRoute) -> JSONOutput {
        var parameters: [JSONOutput] = route.pathParameters.map {
            self.parameter(
                name: $0, in: "path", required: true, schema: .object([("type", .string("string"))]),
                description: HTTPParameters.path[$0] ?? "")
        }
        for name in route.query {
            let (type, description) = route.queryDocs[name] ?? HTTPParameters.query[name] ?? ("string", "")
            parameters.append(
                self.parameter(
                    name: name, in: "query", required: false, schema: .object([("type", .string(type))]),
                    description: description))
        }
        for name in route.headers {
            parameters.append(
                self.parameter(
                    name: name, in: "header", required: false, schema: .object([("type", .string("string"))]),
                    description: HTTPParameters.header[name] ?? ""))
        }
        var members: [(String, JSONOutput)] = [
            ("operationId", .string(route.operationID)), ("summary", .string(route.summary)),
        ]
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        switch route.body {
        case .none:
            break
        case .value:
            members.append(
                ("requestBody", .object([("required", .bool(true)), ("content", self.jsonContent(.object([])))])))
        case .schema(let name):
            members.append(
                ("requestBody", .object([("required", .bool(true)), ("content", self.jsonContent(self.ref(name)))])))
        case .bytes:
            let schema = JSONOutput.object([("type", .string("string")), ("format", .string("binary"))])
            members.append(
                (
                    "requestBody",
                    .object([
                        ("required", .bool(true)),
                        ("content", .object([("application/octet-stream", .object([("schema", schema)]))])),
                    ])
                ))
        }
        var responses: [(String, JSONOutput)] = route.answers.map { answer in
            var response: [(String, JSONOutput)] = [("description", .string(answer.description))]
            switch answer.content {
            case .none: break
            case .schema(let name):
                let media = name == "Problem" ? "application/problem+json" : "application/json"
                response.append(("content", .object([(media, .object([("schema", self.ref(name))]))])))
            case .media(let mediaType, let description):
                let schema = JSONOutput.object([("description", .string(description))])
                response.append(("content", .object([(mediaType, .object([("schema", schema)]))])))
            }
            return ("\(answer.status)", .object(response))
        }
        if !route.answers.contains(where: { $0.status == 400 }) {
            responses.append(
                (
                    "400",
                    .object([
                        ("description", .string("Bad input: a name, parameter, header or body that does not parse.")),
                        (
                            "content",
                            .object([("application/problem+json", .object([("schema", self.ref("Problem"))]))])
                        ),
                    ])
                ))
        }
        members.append(("responses", .object(responses)))
        return .object(members)
    }

    private static func parameter(
        name: String, in location: String, required: Bool, schema: JSONOutput, description: String
    ) -> JSONOutput {
        .object([
            ("name", .string(name)), ("in", .string(location)), ("required", .bool(required)),
            ("description", .string(description)), ("schema", schema),
        ])
    }

    private static func jsonContent(_ schema: JSONOutput) -> JSONOutput {
        .object([("application/json", .object([("schema", schema)]))])
    }

    private static func ref(_ name: String) -> JSONOutput {
        .object([("$ref", .string("#/components/schemas/\(name)"))])
    }

    private static func object(_ properties: [(String, String)], required: [String] = []) -> JSONOutput {
        .object(
            [
                ("type", .string("object")),
                (
                    "properties",
                    .object(
                        properties.map { name, type in
                            (name, type.hasPrefix("#") ? self.ref(String(type.dropFirst())) : self.typed(type))
                        })
                ),
            ] + (required.isEmpty ? [] : [("required", .array(required.map { .string($0) }))]))
    }

    private static func typed(_ type: String) -> JSONOutput {
        switch type {
        case "any": return .object([("description", .string("Any JSON value, as stored."))])
        case "string?": return .object([("type", .array([.string("string"), .string("null")]))])
        case "integer?": return .object([("type", .array([.string("integer"), .string("null")]))])
        case "hex": return .object([("type", .string("string")), ("pattern", .string("^[0-9a-f]{64}$"))])
        case "time":
            return .object([("type", .array([.string("string"), .string("null")])), ("format", .string("date-time"))])
        case let array where array.hasPrefix("["):
            let item = String(array.dropFirst().dropLast())
            return .object([
                ("type", .string("array")),
                ("items", item.hasPrefix("#") ? self.ref(String(item.dropFirst())) : self.typed(item)),
            ])
        default: return .object([("type", .string(type))])
        }
    }

    private static func page(_ item: String) -> JSONOutput {
        self.object([("items", "[#\(item)]"), ("next_cursor", "string?")], required: ["items", "next_cursor"])
    }

    static var schemas: [(String, JSONOutput)] {
        [
            (
                "Problem",
                self.object(
                    [
                        ("type", "string"), ("title", "string"), ("status", "integer"), ("code", "string"),
                        ("detail", "string"),
                    ], required: ["type", "title", "status", "code", "detail"])
            ),
            ("Health", self.object([("status", "string"), ("version", "string")])),
            (
                "Artifact",
                self.object([
                    ("namespace", "string"), ("sha256", "hex"), ("size", "integer"), ("exists", "boolean"),
                    ("deduplicated", "boolean"),
                ])
            ),
            (
                "Identity",
                self.object([
                    ("principal_id", "string"), ("name", "string"), ("grants", "[string]"),
                    ("auth_required", "boolean"),
                ])
            ),
            (
                "Head",
                self.object([
                    ("namespace", "string"), ("commit_ts", "integer"), ("hash", "hex"), ("committed_at", "time"),
                ])
            ),
            ("HeadPage", self.page("Head")),
            (
                "Agent",
                self.object([
                    ("agent_id", "string"), ("display_name", "string?"), ("status", "string"), ("metadata", "any"),
                    ("created_at", "time"), ("updated_at", "time"), ("key_count", "integer"),
                    ("version_count", "integer"), ("deleted", "boolean"),
                ])
            ),
            ("AgentPage", self.page("Agent")),
            ("KeyEntry", self.object([("key", "string"), ("version", "integer"), ("deleted", "boolean")])),
            ("KeyPage", self.page("KeyEntry")),
            (
                "Record",
                self.object([
                    ("namespace", "string"), ("agent_id", "string"), ("key", "string"), ("value", "any"),
                    ("version", "integer"), ("commit_ts", "integer"), ("committed_at", "time"), ("exists", "boolean"),
                    ("deleted", "boolean"), ("expires_at", "time"), ("value_removed", "boolean"),
                ])
            ),
            ("RecordPage", self.page("Record")),
            ("Metadata", self.object([("actor", "string"), ("reason", "string"), ("tags", "object")])),
            ("HistoryPage", self.page("Record")),
            (
                "Operation",
                self.object(
                    [
                        ("op", "string"), ("agent_id", "string"), ("key", "string"), ("value", "any"),
                        ("version", "integer"), ("expires_at", "time"),
                    ], required: ["op", "agent_id", "key"])
            ),
            (
                "Condition",
                self.object(
                    [("agent_id", "string"), ("key", "string"), ("version", "integer")],
                    required: ["agent_id", "key", "version"])
            ),
            (
                "CommitRequest",
                self.object(
                    [
                        ("operations", "[#Operation]"), ("conditions", "[#Condition]"), ("idempotency_key", "string"),
                        ("metadata", "#Metadata"),
                    ], required: ["operations"])
            ),
            (
                "CommitResult",
                self.object([
                    ("namespace", "string"), ("txn_id", "string"), ("commit_ts", "integer"), ("committed_at", "time"),
                    ("versions", "[integer]"), ("hash", "hex"),
                ])
            ),
            (
                "Event",
                self.object([
                    ("namespace", "string"), ("commit_ts", "integer"), ("txn_id", "string"), ("committed_at", "time"),
                    ("operations", "[#Operation]"), ("metadata", "#Metadata"), ("prev_hash", "hex"), ("hash", "hex"),
                ])
            ),
            ("EventPage", self.page("Event")),
            ("Timeline", self.object([("items", "[#Event]"), ("next_before", "integer?")])),
            (
                "Verification",
                self.object([
                    ("namespace", "string"), ("ok", "boolean"), ("events_checked", "integer"),
                    ("events_with_removed_values", "integer"), ("first_bad_commit_ts", "integer?"),
                    ("reason", "string?"), ("head_commit_ts", "integer"), ("head_hash", "hex"),
                ])
            ),
            (
                "SignedTreeHead",
                self.object([
                    ("key_id", "string"), ("namespace", "string"), ("root_hash", "hex"), ("signature", "string"),
                    ("timestamp_micros", "integer"), ("tree_size", "integer"),
                ])
            ),
            (
                "InclusionProof",
                self.object([
                    ("namespace", "string"), ("commit_ts", "integer"), ("tree_size", "integer"), ("hashes", "[hex]"),
                ])
            ),
            ("AgentUpdate", self.object([("display_name", "string"), ("status", "string"), ("metadata", "any")])),
            (
                "Diff",
                self.object([
                    ("namespace", "string"), ("agent_id", "string"), ("from_commit_ts", "integer"),
                    ("to_commit_ts", "integer"), ("differences", "[#Difference]"),
                ])
            ),
            (
                "Difference",
                self.object([
                    ("key", "string"), ("change", "string"), ("before", "any"), ("after", "any"), ("patch", "any"),
                ])
            ),
            (
                "ForkRequest",
                self.object(
                    [
                        ("target_agent_id", "string"), ("target_namespace", "string"), ("at", "string"),
                        ("overwrite", "boolean"),
                    ], required: ["target_agent_id"])
            ),
            (
                "CopyResult",
                self.object([
                    ("commit", "#CommitResult"), ("puts", "integer"), ("deletes", "integer"),
                    ("source_commit_ts", "integer"),
                ])
            ),
            (
                "Snapshot",
                self.object([
                    ("namespace", "string"), ("name", "string"), ("agent_id", "string?"), ("commit_ts", "integer"),
                    ("description", "string"), ("metadata", "any"), ("created_at", "time"), ("expires_at", "time"),
                ])
            ),
            ("SnapshotPage", self.page("Snapshot")),
            (
                "SnapshotRequest",
                self.object(
                    [
                        ("name", "string"), ("agent_id", "string"), ("description", "string"), ("metadata", "any"),
                        ("expires_at", "string"), ("at", "string"),
                    ], required: ["name"])
            ),
            (
                "AgentEvent",
                self.object([
                    ("id", "string"), ("agent_id", "string"), ("type", "string"), ("session_id", "string?"),
                    ("actor", "string?"), ("content", "any"), ("metadata", "any"), ("occurred_at", "time"),
                    ("commit_ts", "integer"),
                ])
            ),
            ("AgentEventPage", self.page("AgentEvent")),
            ("AgentEventList", self.object([("items", "[#AgentEvent]")])),
            (
                "EventDraft",
                self.object(
                    [
                        ("id", "string"), ("agent_id", "string"), ("type", "string"), ("content", "any"),
                        ("session_id", "string"), ("actor", "string"), ("metadata", "any"), ("occurred_at", "string"),
                    ], required: ["agent_id", "type", "content"])
            ),
            ("EventsRequest", self.object([("events", "[#EventDraft]")], required: ["events"])),
            (
                "SearchHit",
                self.object([
                    ("kind", "string"), ("score", "number"), ("snippet", "string"), ("commit_ts", "integer"),
                    ("committed_at", "time"), ("agent_id", "string?"), ("key", "string?"), ("version", "integer?"),
                    ("event_id", "string?"), ("type", "string?"), ("session_id", "string?"), ("actor", "string?"),
                ])
            ),
            ("SearchPage", self.page("SearchHit")),
            (
                "Session",
                self.object([
                    ("id", "string"), ("agent_id", "string"), ("status", "string"), ("metadata", "any"),
                    ("started_at", "time"), ("ended_at", "time"),
                ])
            ),
            ("SessionPage", self.page("Session")),
            (
                "SessionRequest",
                self.object([("agent_id", "string"), ("id", "string"), ("metadata", "any")], required: ["agent_id"])
            ),
            ("SessionEnd", self.object([("status", "string")])),
            (
                "Task",
                self.object([
                    ("id", "string"), ("title", "string"), ("description", "string"), ("status", "string"),
                    ("assigned_to", "string?"), ("metadata", "any"), ("created_at", "time"), ("updated_at", "time"),
                ])
            ),
            ("TaskPage", self.page("Task")),
            (
                "TaskRequest",
                self.object(
                    [
                        ("id", "string"), ("title", "string"), ("description", "string"), ("status", "string"),
                        ("assigned_to", "string"), ("metadata", "any"),
                    ], required: ["title"])
            ),
            (
                "TaskUpdate",
                self.object([
                    ("title", "string"), ("description", "string"), ("status", "string"), ("assigned_to", "string"),
                    ("metadata", "any"),
                ])
            ),
            (
                "ConsistencyProof",
                self.object([
                    ("namespace", "string"), ("from_size", "integer"), ("to_size", "integer"), ("hashes", "[hex]"),
                ])
            ),
        ]
    }
}

/// What each path, query and header parameter means, for the document.
enum HTTPParameters {
    static let path: [String: String] = [
        "namespace": "The namespace.",
        "agent": "The agent id.",
        "key": "The key, percent-encoded as one path segment.",
        "commit_ts": "The commit's position in the namespace's log (from 1).",
        "name": "The snapshot's name.",
        "id": "The event's, session's or task's id.",
    ]

    static let query: [String: (type: String, description: String)] = [
        "limit": ("integer", "Most items in the page."),
        "cursor": ("string", "next_cursor of the previous page (opaque; only valid for the same query)."),
        "prefix": ("string", "Only keys starting with it."),
        "include_deleted": ("boolean", "Also list deleted keys or agents."),
        "status": ("string", "Only agents with this status."),
        "start_after": ("string", "Begin with the first key after it (byte order)."),
        "version": ("integer", "Read this version of the key."),
        "at": ("integer", "Read as of this commit_ts."),
        "as_of": ("string", "Read as of this time (RFC 3339, or microseconds since the epoch)."),
        "expires_at": ("string", "The value expires then (RFC 3339, or microseconds since the epoch)."),
        "from": ("integer", "First commit_ts."),
        "to": ("integer", "Last commit_ts."),
        "since": ("string", "Only commits at or after this time (RFC 3339, or microseconds)."),
        "until": ("string", "Only commits at or before this time (RFC 3339, or microseconds)."),
        "agent_id": ("string", "Only this agent's operations (and commits that have one)."),
        "key_prefix": ("string", "Only operations on keys with this prefix."),
        "before": ("integer", "Only commits before this commit_ts (next_before of the previous page)."),
        "size": ("integer", "The tree size (default: the current one)."),
        "commit_ts": ("integer", "The commit whose leaf is proven."),
        "from_size": ("integer", "The older tree size."),
        "to_size": ("integer", "The newer tree size (default: the current one)."),
        "force": ("boolean", "Restore even if the keys changed while it ran."),
        "q": ("string", "The search text (SQLite FTS5 query syntax)."),
        "kinds": ("string", "Comma-separated: state, event, commit (default: all)."),
        "type": ("string", "Only events of this type."),
        "session_id": ("string", "Only this session's events."),
        "actor": ("string", "Only this actor's events or commits."),
        "history": ("boolean", "Search every version of state values, not only current ones."),
        "assigned_to": ("string", "Only tasks assigned to this agent."),
        "known_size": (
            "integer", "A tree size the client already trusts: the answer adds a consistency proof from it."
        ),
        "vacuum": ("boolean", "VACUUM the store afterwards, shrinking the file (commits wait while it runs)."),
    ]

    static let header: [String: String] = [
        "If-Match": "Commit only if the key is at this version (an ETag such as \"3\"); else 412.",
        "If-None-Match":
            "On PUT, * commits only if the key does not exist (else 412); on GET, 304 if it names the current version.",
        "Idempotency-Key": "A retry with the same key and content returns the first commit's result.",
        "Statehouse-Actor": "The commit's actor (its metadata).",
        "Statehouse-Reason": "The commit's reason (its metadata).",
        "Last-Event-ID": "Resume after this commit_ts (sent by a reconnecting EventSource).",
    ]
}
