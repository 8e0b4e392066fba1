import Hummingbird
import StatehouseAccess
import StatehouseCore
import StatehouseModel

/// The agent lifecycle: agent records, delete, fork, diff, snapshots and restore (docs/api.md, "Lifecycle").
extension HTTPAPI {
    var lifecycleRoutes: [HTTPRoute] {
        let agent = "/v1/namespaces/{namespace}/agents/{agent}"
        let snapshots = "/v1/namespaces/{namespace}/snapshots"
        return [
            HTTPRoute(
                method: .patch, path: agent, operationID: "updateAgent",
                summary: "Sets an agent's display name, status or metadata (the members given; one commit).",
                headers: ["Statehouse-Actor", "Statehouse-Reason"], body: .schema("AgentUpdate"),
                answers: [.init(status: 200, description: "The updated record.", content: .schema("Agent"))]
            ) { request, _, input in
                let body = try await self.jsonBody(request, allowing: ["display_name", "status", "metadata"])
                let update = AgentUpdate(
                    displayName: try body.string("display_name"), status: try body.string("status"),
                    metadata: try body.json("metadata"))
                let record = try await self.engine.updateAgent(
                    namespace: try input.path("namespace"), agentID: try input.path("agent"), update,
                    metadata: self.metadata(request.headers))
                return HTTPResponses.json(ModelJSON.agent(record))
            },
            HTTPRoute(
                method: .delete, path: agent, operationID: "deleteAgent",
                summary: "Tombstones every key of the agent in one commit (history kept); it is no longer listed.",
                headers: ["Statehouse-Actor", "Statehouse-Reason"],
                answers: [.init(status: 200, description: "Committed.", content: .schema("CommitResult"))]
            ) { request, _, input in
                let result = try await self.engine.deleteAgent(
                    namespace: try input.path("namespace"), agentID: try input.path("agent"),
                    metadata: self.metadata(request.headers))
                return HTTPResponses.json(ModelJSON.commit(result))
            },
            HTTPRoute(
                method: .get, path: agent + "/diff", operationID: "diffAgent",
                summary:
                    "What changed in an agent's state between two points (latest, a commit_ts, an RFC 3339 time or "
                    + "snapshot:NAME), key by key with JSON patches.",
                query: ["from", "to"],
                queryDocs: [
                    "from": ("string", "The earlier point: latest, a commit_ts, an RFC 3339 time or snapshot:NAME."),
                    "to": ("string", "The later point (default: latest)."),
                ],
                answers: [.init(status: 200, description: "The differences.", content: .schema("Diff"))]
            ) { _, _, input in
                guard let from = input.string("from") else { throw HTTPProblem.badRequest("from is required") }
                let diff = try await self.engine.diff(
                    namespace: try input.path("namespace"), agentID: try input.path("agent"),
                    from: try Self.statePoint(from, name: "from"),
                    to: try input.string("to").map { try Self.statePoint($0, name: "to") } ?? .latest)
                return HTTPResponses.json(ModelJSON.diff(diff))
            },
            HTTPRoute(
                method: .post, path: agent + "/fork", operationID: "forkAgent",
                summary:
                    "Copies the agent's state (at a point) to another agent, in this or another namespace, in one "
                    + "commit.",
                headers: ["Statehouse-Actor", "Statehouse-Reason"], body: .schema("ForkRequest"),
                answers: [.init(status: 200, description: "What was copied.", content: .schema("CopyResult"))]
            ) { request, _, input in
                let body = try await self.jsonBody(
                    request, allowing: ["target_agent_id", "target_namespace", "at", "overwrite"])
                try self.access.authorize(
                    .changeSnapshots, namespace: try body.string("target_namespace") ?? input.path("namespace"))
                let result = try await self.engine.fork(
                    namespace: try input.path("namespace"), agentID: try input.path("agent"),
                    at: try body.string("at").map { try Self.statePoint($0, name: "at") } ?? .latest,
                    targetNamespace: try body.string("target_namespace"),
                    targetAgentID: try body.required("target_agent_id", body.string),
                    overwrite: try body.bool("overwrite") ?? false, metadata: self.metadata(request.headers))
                return HTTPResponses.json(ModelJSON.copy(result))
            },
            HTTPRoute(
                method: .get, path: snapshots, operationID: "listSnapshots",
                summary: "The namespace's snapshots by name (expired ones left out).",
                query: ["agent_id", "limit", "cursor"],
                answers: [.init(status: 200, description: "A page of snapshots.", content: .schema("SnapshotPage"))]
            ) { _, _, input in
                let page = try await self.engine.listSnapshots(
                    namespace: try input.path("namespace"), agentID: try input.nonEmpty("agent_id"),
                    limit: try input.limit(default: 100, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"))
                return HTTPResponses.page(page, ModelJSON.snapshot)
            },
            HTTPRoute(
                method: .post, path: snapshots, operationID: "createSnapshot",
                summary:
                    "Names a point of an agent's (or the whole namespace's) state without copying data; it may expire.",
                body: .schema("SnapshotRequest"),
                answers: [.init(status: 201, description: "The snapshot.", content: .schema("Snapshot"))]
            ) { request, _, input in
                let body = try await self.jsonBody(
                    request, allowing: ["name", "agent_id", "description", "metadata", "expires_at", "at"])
                let snapshot = try await self.engine.createSnapshot(
                    namespace: try input.path("namespace"), name: try body.required("name", body.string),
                    agentID: try body.string("agent_id"), description: try body.string("description") ?? "",
                    metadata: try body.json("metadata"), expiresAt: try body.time("expires_at"),
                    at: try body.string("at").map { try Self.statePoint($0, name: "at") } ?? .latest)
                return HTTPResponses.json(ModelJSON.snapshot(snapshot), status: .created)
            },
            HTTPRoute(
                method: .get, path: snapshots + "/{name}", operationID: "getSnapshot", summary: "One snapshot.",
                answers: [.init(status: 200, description: "The snapshot.", content: .schema("Snapshot"))]
            ) { _, _, input in
                HTTPResponses.json(
                    ModelJSON.snapshot(
                        try await self.engine.getSnapshot(
                            namespace: try input.path("namespace"), name: try input.path("name"))))
            },
            HTTPRoute(
                method: .delete, path: snapshots + "/{name}", operationID: "deleteSnapshot",
                summary: "Deletes a snapshot (the state it named is untouched).",
                answers: [.init(status: 200, description: "Committed.", content: .schema("CommitResult"))]
            ) { _, _, input in
                HTTPResponses.json(
                    ModelJSON.commit(
                        try await self.engine.deleteSnapshot(
                            namespace: try input.path("namespace"), name: try input.path("name"))))
            },
            HTTPRoute(
                method: .post, path: snapshots + "/{name}/restore", operationID: "restoreSnapshot",
                summary:
                    "One commit that makes the current state equal to the snapshot's (history kept); a conflict if "
                    + "its keys change meanwhile, unless force.",
                query: ["force"], headers: ["Statehouse-Actor", "Statehouse-Reason"],
                answers: [
                    .init(status: 200, description: "What was written.", content: .schema("CopyResult")),
                    .init(status: 409, description: "The keys changed while it ran.", content: .schema("Problem")),
                ]
            ) { request, _, input in
                let result = try await self.engine.restoreSnapshot(
                    namespace: try input.path("namespace"), name: try input.path("name"),
                    force: try input.bool("force"),
                    metadata: self.metadata(request.headers))
                return HTTPResponses.json(ModelJSON.copy(result))
            },
        ]
    }

    /// A point in an agent's history as the lifecycle routes take it: `latest`, a commit_ts, an RFC 3339 time or
    /// `snapshot:NAME`.
    static func statePoint(_ text: String, name: String) throws -> StatePoint {
        if text == "latest" { return .latest }
        if text.hasPrefix("snapshot:"), text.count > "snapshot:".count {
            return .snapshot(String(text.dropFirst("snapshot:".count)))
        }
        if let commitTS = UInt64(text) { return .commit(commitTS) }
        if let time = RFC3339.micros(text) { return .time(time) }
        throw HTTPProblem.badRequest(
            "\(name) must be latest, a commit_ts, an RFC 3339 time or snapshot:NAME, got '\(text)'")
    }

    /// A JSON object body, with its content type and size checked.
    func jsonBody(_ request: Request, allowing names: Set<String>) async throws -> HTTPJSONObject {
        try Self.requireJSON(request)
        let bytes = try await Self.body(request, limit: self.limits.maxTransactionBytes, what: "the body")
        return try HTTPJSONObject.parse(bytes, limits: self.limits, allowing: names)
    }
}
