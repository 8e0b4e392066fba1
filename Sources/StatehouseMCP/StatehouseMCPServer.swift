import Foundation
public import MCP
public import StatehouseClient
import StatehouseModel

/// What an MCP server of Statehouse may touch, set by whoever runs it (`statehousectl mcp`, `statehoused
/// --mcp-listen`), never by the model.
public struct StatehouseMCPConfiguration: Sendable {
    /// The namespace every tool and resource uses.
    public var namespace: String
    /// Whether tools take a `namespace` argument (the operator's choice; off by default, so a model can only reach
    /// the namespace it was given).
    public var namespaceArgument: Bool

    public init(namespace: String = "default", namespaceArgument: Bool = false) {
        self.namespace = namespace
        self.namespaceArgument = namespaceArgument
    }
}

/// The MCP server of Statehouse: memory tools (remember, recall, forget, list, history, replay, verify, snapshot,
/// restore, diff, search) and resources (an agent's current state and its recent timeline), each served through a
/// ``StatehouseClient`` of a daemon.
public enum StatehouseMCPServer {
    public static let name = "statehouse"

    /// A server with every handler registered; start it on a transport (stdio, or one HTTP session).
    public static func make(
        client: StatehouseClient, configuration: StatehouseMCPConfiguration, version: String
    ) async -> Server {
        let server = Server(
            name: Self.name,
            version: version,
            title: "Statehouse",
            instructions: """
                Statehouse keeps agents' memory as versioned JSON values under (agent_id, key), with every change in \
                a verifiable log. Use remember/recall/forget for memory, history and replay to see how it changed, \
                snapshot/restore/diff to save and compare states, search to find past events by text.
                """,
            capabilities: .init(
                resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false))
        )
        let tools = MCPToolCatalog.all.map { $0.tool(namespaceArgument: configuration.namespaceArgument) }
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: tools) }
        await server.withMethodHandler(CallTool.self) { parameters in
            await Self.call(parameters, client: client, configuration: configuration)
        }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in
            ListResourceTemplates.Result(templates: MCPResources.templates)
        }
        await server.withMethodHandler(ListResources.self) { parameters in
            try await MCPResources.list(client: client, namespace: configuration.namespace, cursor: parameters.cursor)
        }
        await server.withMethodHandler(ReadResource.self) { parameters in
            try await MCPResources.read(uri: parameters.uri, client: client, namespace: configuration.namespace)
        }
        return server
    }

    /// Runs one tool call; every failure becomes a tool error whose text is the daemon's (or the argument check's)
    /// message, so that the model can correct itself.
    static func call(
        _ parameters: CallTool.Parameters, client: StatehouseClient, configuration: StatehouseMCPConfiguration
    ) async -> CallTool.Result {
        guard let tool = MCPToolCatalog.byName[parameters.name] else {
            let names = MCPToolCatalog.all.map(\.name).joined(separator: ", ")
            return Self.failure("unknown tool '\(parameters.name)' (this server has: \(names))")
        }
        let arguments = MCPArguments(tool: tool.name, values: parameters.arguments)
        do {
            let namespace: String
            if let asked = try arguments.optionalString("namespace"), asked != configuration.namespace {
                guard configuration.namespaceArgument else {
                    throw arguments.problem(
                        "this server serves namespace '\(configuration.namespace)'; its operator did not allow "
                            + "choosing another")
                }
                namespace = asked
            } else {
                namespace = configuration.namespace
            }
            let result = try await tool.run(client, arguments, namespace)
            return CallTool.Result(
                content: [.text(text: result.text, annotations: nil, _meta: nil)], structuredContent: result.mcpValue,
                isError: false)
        } catch let error as MCPToolError {
            return Self.failure(error.description)
        } catch let error as StatehouseError {
            return Self.failure("\(tool.name): \(error) (\(error.reason))")
        } catch {
            return Self.failure("\(tool.name): \(error)")
        }
    }

    static func failure(_ message: String) -> CallTool.Result {
        CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }
}
