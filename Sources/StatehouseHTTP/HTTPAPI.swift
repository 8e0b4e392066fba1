public import Logging
public import StatehouseAccess
public import StatehouseArtifacts
public import StatehouseCore
import StatehouseModel

/// The JSON API under `/v1`: the gRPC API's reads, commits, log, watch, verification and proofs over HTTP, on the
/// same engine (docs/api.md, "HTTP API").
///
/// Handlers validate what HTTP adds (query parameters, headers, content types, sizes) and call the engine, whose
/// errors become problem responses (``HTTPProblem``); values go out as their stored bytes.
public struct HTTPAPI: Sendable {
    let engine: StatehouseEngine
    /// Who may do what; every route names what it needs in ``routeAccess``.
    let access: AccessControl
    /// The artifact store; `nil` (a daemon in memory) answers its routes with 503.
    let artifacts: (any ArtifactStorage)?
    let version: String
    /// How often an idle watch stream gets a `: keep-alive` comment (proxies close streams idle for a minute or so).
    let sseKeepAlive: Duration
    let logger: Logger

    /// - Parameter access: who may do what; the default lets every client do everything (a daemon without auth).
    public init(
        engine: StatehouseEngine, access: AccessControl? = nil, artifacts: (any ArtifactStorage)? = nil,
        version: String,
        sseKeepAlive: Duration = .seconds(15), logger: Logger
    ) {
        self.engine = engine
        self.artifacts = artifacts
        self.access = access ?? AccessControl(engine: engine, configuration: .init(), logger: logger)
        self.version = version
        self.sseKeepAlive = sseKeepAlive
        self.logger = logger
    }

    var limits: EngineLimits { self.engine.configuration.limits }

    /// Every route, in the order of the document.
    var routes: [HTTPRoute] {
        self.serviceRoutes + self.stateRoutes + self.keyRoutes + self.logRoutes + self.ledgerRoutes
            + self.lifecycleRoutes + self.recordRoutes + self.artifactRoutes
    }

    private var serviceRoutes: [HTTPRoute] {
        [
            HTTPRoute(
                method: .get, path: "/v1/health", operationID: "health",
                summary: "Whether the daemon serves (StateLedger's health endpoint); see also /readyz.",
                answers: [.init(status: 200, description: "Serving.", content: .schema("Health"))]
            ) { _, _, _ in
                HTTPResponses.json(.object([("status", .string("ok")), ("version", .string(self.version))]))
            },
            HTTPRoute(
                method: .get, path: "/v1/whoami", operationID: "whoAmI",
                summary:
                    "The token (or client certificate) the request authenticated as, and its grants (PATTERN:ROLE); "
                    + "anonymous with every grant when the daemon runs without auth.",
                answers: [
                    .init(status: 200, description: "Who the caller is.", content: .schema("Identity")),
                    .init(status: 401, description: "No valid credentials.", content: .schema("Problem")),
                ]
            ) { _, _, _ in
                let identity = try self.access.identity()
                return HTTPResponses.json(
                    .object([
                        ("principal_id", .string(identity.principalID)), ("name", .string(identity.name)),
                        ("grants", .array(identity.grants.map { .string($0.description) })),
                        ("auth_required", .bool(identity.authRequired)),
                    ]))
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces", operationID: "listNamespaces",
                summary: "Namespaces that have at least one commit, by name, with the head of each log.",
                query: ["limit", "cursor"],
                answers: [.init(status: 200, description: "A page of heads.", content: .schema("HeadPage"))]
            ) { _, _, input in
                var page = try await self.engine.listNamespaces(
                    limit: try input.limit(default: 100, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"))
                // Only the namespaces the caller may read: no one learns a namespace exists without a grant on it.
                let readable = Set(try self.access.readable(page.items.map(\.namespace)))
                page.items.removeAll { !readable.contains($0.namespace) }
                return HTTPResponses.page(page, ModelJSON.head)
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}", operationID: "getHead",
                summary: "The head of a namespace's log: last commit_ts, hash and time (commit_ts 0 when empty).",
                answers: [.init(status: 200, description: "The head.", content: .schema("Head"))]
            ) { _, _, input in
                HTTPResponses.json(ModelJSON.head(try await self.engine.head(namespace: try input.path("namespace"))))
            },
        ]
    }

    private var stateRoutes: [HTTPRoute] {
        [
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/agents", operationID: "listAgents",
                summary: "The agents of a namespace with their records (status, key and version counts).",
                query: ["status", "include_deleted", "limit", "cursor"],
                answers: [.init(status: 200, description: "A page of agent records.", content: .schema("AgentPage"))]
            ) { _, _, input in
                let page = try await self.engine.listAgentRecords(
                    namespace: try input.path("namespace"), status: try input.nonEmpty("status"),
                    includeDeleted: try input.bool("include_deleted"),
                    limit: try input.limit(default: 100, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"))
                return HTTPResponses.page(page, ModelJSON.agent)
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/agents/{agent}", operationID: "getAgent",
                summary: "One agent's record.",
                answers: [
                    .init(status: 200, description: "The record.", content: .schema("Agent")),
                    .init(status: 404, description: "No such agent.", content: .schema("Problem")),
                ]
            ) { _, _, input in
                HTTPResponses.json(
                    ModelJSON.agent(
                        try await self.engine.getAgent(
                            namespace: try input.path("namespace"), agentID: try input.path("agent"))))
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/agents/{agent}/keys", operationID: "listKeys",
                summary: "An agent's keys in byte order with their versions, without values.",
                query: ["prefix", "include_deleted", "limit", "cursor"],
                answers: [.init(status: 200, description: "A page of keys.", content: .schema("KeyPage"))]
            ) { _, _, input in
                let page = try await self.engine.listKeys(
                    namespace: try input.path("namespace"), agentID: try input.path("agent"),
                    prefix: input.string("prefix") ?? "", includeDeleted: try input.bool("include_deleted"),
                    limit: try input.limit(default: 1000, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"))
                return HTTPResponses.page(page) { entry in
                    .object([
                        ("key", .string(entry.key)), ("version", .int(entry.version)),
                        ("deleted", .bool(entry.deleted)),
                    ])
                }
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/agents/{agent}/state", operationID: "scanState",
                summary:
                    "An agent's live keys with their values in byte order, now or as of a commit_ts (at) or a time "
                    + "(as_of): StateLedger's state at time T.",
                query: ["prefix", "start_after", "at", "as_of", "limit", "cursor"],
                answers: [.init(status: 200, description: "A page of records.", content: .schema("RecordPage"))]
            ) { _, _, input in
                let namespace = try input.path("namespace")
                let page = try await self.engine.scan(
                    namespace: namespace, agentID: try input.path("agent"), prefix: input.string("prefix") ?? "",
                    at: try input.readPoint(allowVersion: false),
                    limit: try input.limit(default: 1000, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"), startAfter: input.string("start_after"))
                return HTTPResponses.page(page) { ModelJSON.record($0, namespace: namespace) }
            },
        ]
    }
}
