import Hummingbird
import StatehouseCore
import StatehouseModel

/// What agents record beside their state: events, sessions and tasks, and full-text search over state, events and
/// commit metadata (StateStore's tables, docs/api.md "Lifecycle").
extension HTTPAPI {
    static let eventMembers: Set<String> = [
        "id", "agent_id", "type", "content", "session_id", "actor", "metadata", "occurred_at",
    ]

    var recordRoutes: [HTTPRoute] {
        let base = "/v1/namespaces/{namespace}"
        return [
            HTTPRoute(
                method: .post, path: base + "/events", operationID: "recordEvents",
                summary: "Records agent events (type, content, session, actor) in one commit.",
                headers: ["Statehouse-Actor", "Statehouse-Reason"], body: .schema("EventsRequest"),
                answers: [
                    .init(status: 201, description: "The events as recorded.", content: .schema("AgentEventList"))
                ]
            ) { request, _, input in
                let body = try await self.jsonBody(request, allowing: ["events"])
                let drafts = try body.required("events") { try body.objects($0, allowing: Self.eventMembers) }.map {
                    event in
                    AgentEventDraft(
                        agentID: try event.required("agent_id", event.string),
                        type: try event.required("type", event.string),
                        content: try event.required("content", event.json), sessionID: try event.string("session_id"),
                        actor: try event.string("actor"), metadata: try event.json("metadata"),
                        occurredAt: try event.time("occurred_at"), id: try event.string("id"))
                }
                let events = try await self.engine.recordEvents(
                    namespace: try input.path("namespace"), drafts, metadata: self.metadata(request.headers))
                return HTTPResponses.json(
                    .object([("items", .array(events.map(ModelJSON.agentEvent)))]), status: .created)
            },
            HTTPRoute(
                method: .get, path: base + "/events", operationID: "listEvents",
                summary: "Agent events in the order recorded, filtered by agent, session, type, actor and time.",
                query: ["agent_id", "session_id", "type", "actor", "since", "until", "limit", "cursor"],
                answers: [.init(status: 200, description: "A page of events.", content: .schema("AgentEventPage"))]
            ) { _, _, input in
                let filter = AgentEventFilter(
                    agentID: try input.nonEmpty("agent_id"), sessionID: try input.nonEmpty("session_id"),
                    type: try input.nonEmpty("type"), actor: try input.nonEmpty("actor"),
                    since: try input.time("since"),
                    until: try input.time("until"))
                let page = try await self.engine.events(
                    namespace: try input.path("namespace"), filter: filter,
                    limit: try input.limit(default: 100, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"))
                return HTTPResponses.page(page, ModelJSON.agentEvent)
            },
            HTTPRoute(
                method: .get, path: base + "/events/{id}", operationID: "getEvent", summary: "One agent event by id.",
                answers: [.init(status: 200, description: "The event.", content: .schema("AgentEvent"))]
            ) { _, _, input in
                HTTPResponses.json(
                    ModelJSON.agentEvent(
                        try await self.engine.event(namespace: try input.path("namespace"), id: try input.path("id"))))
            },
            HTTPRoute(
                method: .get, path: base + "/search", operationID: "search",
                summary:
                    "Full-text search, best first, over state values (when indexed), agent events and commit metadata; "
                    + "q in SQLite FTS5 syntax, kinds a comma-separated subset of state, event, commit.",
                query: [
                    "q", "kinds", "agent_id", "key_prefix", "type", "session_id", "actor", "since", "until", "history",
                    "limit", "cursor",
                ],
                answers: [.init(status: 200, description: "A page of hits.", content: .schema("SearchPage"))]
            ) { _, _, input in
                guard let text = input.string("q") else {
                    throw HTTPProblem.badRequest("q (the search text) is required")
                }
                var kinds: Set<SearchQuery.Kind> = []
                for name in (input.string("kinds") ?? "").split(separator: ",") {
                    guard let kind = SearchQuery.Kind(rawValue: String(name)) else {
                        throw HTTPProblem.badRequest("kinds takes state, event and commit; got '\(name)'")
                    }
                    kinds.insert(kind)
                }
                let query = SearchQuery(
                    text, kinds: kinds, agentID: try input.nonEmpty("agent_id"),
                    keyPrefix: try input.nonEmpty("key_prefix"), type: try input.nonEmpty("type"),
                    sessionID: try input.nonEmpty("session_id"), actor: try input.nonEmpty("actor"),
                    since: try input.time("since"), until: try input.time("until"), history: try input.bool("history"))
                let page = try await self.engine.search(
                    namespace: try input.path("namespace"), query,
                    limit: try input.limit(default: 20, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"))
                return HTTPResponses.page(page, ModelJSON.hit)
            },
            HTTPRoute(
                method: .post, path: base + "/sessions", operationID: "startSession",
                summary: "Starts a session of an agent (status active).", body: .schema("SessionRequest"),
                answers: [.init(status: 201, description: "The session.", content: .schema("Session"))]
            ) { request, _, input in
                let body = try await self.jsonBody(request, allowing: ["agent_id", "id", "metadata"])
                let session = try await self.engine.startSession(
                    namespace: try input.path("namespace"), agentID: try body.required("agent_id", body.string),
                    id: try body.string("id"), metadata: try body.json("metadata"))
                return HTTPResponses.json(ModelJSON.session(session), status: .created)
            },
            HTTPRoute(
                method: .get, path: base + "/sessions", operationID: "listSessions",
                summary: "Sessions, filtered by agent and status.", query: ["agent_id", "status", "limit", "cursor"],
                answers: [.init(status: 200, description: "A page of sessions.", content: .schema("SessionPage"))]
            ) { _, _, input in
                let page = try await self.engine.listSessions(
                    namespace: try input.path("namespace"), agentID: try input.nonEmpty("agent_id"),
                    status: try input.nonEmpty("status"),
                    limit: try input.limit(default: 100, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"))
                return HTTPResponses.page(page, ModelJSON.session)
            },
            HTTPRoute(
                method: .get, path: base + "/sessions/{id}", operationID: "getSession", summary: "One session.",
                answers: [.init(status: 200, description: "The session.", content: .schema("Session"))]
            ) { _, _, input in
                HTTPResponses.json(
                    ModelJSON.session(
                        try await self.engine.getSession(
                            namespace: try input.path("namespace"), id: try input.path("id"))))
            },
            HTTPRoute(
                method: .post, path: base + "/sessions/{id}/end", operationID: "endSession",
                summary: "Ends a session with a status (default ended).", body: .schema("SessionEnd"),
                answers: [.init(status: 200, description: "The session.", content: .schema("Session"))]
            ) { request, _, input in
                let body = try await self.jsonBody(request, allowing: ["status"])
                let session = try await self.engine.endSession(
                    namespace: try input.path("namespace"), id: try input.path("id"),
                    status: try body.string("status") ?? "ended")
                return HTTPResponses.json(ModelJSON.session(session))
            },
            HTTPRoute(
                method: .post, path: base + "/tasks", operationID: "createTask",
                summary: "Creates a task (status pending unless given).", body: .schema("TaskRequest"),
                answers: [.init(status: 201, description: "The task.", content: .schema("Task"))]
            ) { request, _, input in
                let body = try await self.jsonBody(
                    request, allowing: ["id", "title", "description", "status", "assigned_to", "metadata"])
                let task = try await self.engine.createTask(
                    namespace: try input.path("namespace"), title: try body.required("title", body.string),
                    description: try body.string("description") ?? "", status: try body.string("status") ?? "pending",
                    assignedTo: try body.string("assigned_to"), metadata: try body.json("metadata"),
                    id: try body.string("id"))
                return HTTPResponses.json(ModelJSON.task(task), status: .created)
            },
            HTTPRoute(
                method: .get, path: base + "/tasks", operationID: "listTasks",
                summary: "Tasks, filtered by status and assignee.",
                query: ["status", "assigned_to", "limit", "cursor"],
                answers: [.init(status: 200, description: "A page of tasks.", content: .schema("TaskPage"))]
            ) { _, _, input in
                let page = try await self.engine.listTasks(
                    namespace: try input.path("namespace"), status: try input.nonEmpty("status"),
                    assignedTo: try input.nonEmpty("assigned_to"),
                    limit: try input.limit(default: 100, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"))
                return HTTPResponses.page(page, ModelJSON.task)
            },
            HTTPRoute(
                method: .get, path: base + "/tasks/{id}", operationID: "getTask", summary: "One task.",
                answers: [.init(status: 200, description: "The task.", content: .schema("Task"))]
            ) { _, _, input in
                HTTPResponses.json(
                    ModelJSON.task(
                        try await self.engine.getTask(namespace: try input.path("namespace"), id: try input.path("id")))
                )
            },
            HTTPRoute(
                method: .patch, path: base + "/tasks/{id}", operationID: "updateTask",
                summary: "Changes a task's title, description, status, assignee or metadata (the members given).",
                body: .schema("TaskUpdate"),
                answers: [.init(status: 200, description: "The task.", content: .schema("Task"))]
            ) { request, _, input in
                let body = try await self.jsonBody(
                    request, allowing: ["title", "description", "status", "assigned_to", "metadata"])
                let update = AgentTaskUpdate(
                    title: try body.string("title"), description: try body.string("description"),
                    status: try body.string("status"), assignedTo: try body.string("assigned_to"),
                    metadata: try body.json("metadata"))
                let task = try await self.engine.updateTask(
                    namespace: try input.path("namespace"), id: try input.path("id"), update)
                return HTTPResponses.json(ModelJSON.task(task))
            },
        ]
    }
}
