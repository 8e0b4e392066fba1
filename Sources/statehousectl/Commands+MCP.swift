import ArgumentParser
import Foundation
import Logging
import MCP
import StatehouseBuildInfo
import StatehouseClient
import StatehouseMCP

/// `statehousectl mcp`: an MCP server on standard input and output, for a desktop client (Claude Desktop, an IDE) to
/// launch; its tools and resources reach the daemon at `--addr`.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve MCP (Model Context Protocol) over stdio: memory tools and resources of one namespace.",
        discussion: """
            Speaks JSON-RPC on standard input and output until standard input closes; logs go to standard error. \
            The tools (remember, recall, forget, list_keys, list_agents, history, replay, verify, snapshot, \
            restore, diff, search) and resources (statehouse://agents/AGENT/state and /timeline) use the namespace \
            of -n/--namespace; a model may name another only with --allow-namespace-argument. A client \
            configuration: {"mcpServers": {"statehouse": {"command": "statehousectl", "args": ["--addr", \
            "127.0.0.1:50051", "-n", "agents", "mcp"]}}}.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Flag(name: .customLong("allow-namespace-argument"), help: "Let tool calls name another namespace.")
    var allowNamespaceArgument = false

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let configuration = StatehouseMCPConfiguration(
            namespace: self.global.namespaceName, namespaceArgument: self.allowNamespaceArgument)
        try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            let server = await StatehouseMCPServer.make(
                client: client, configuration: configuration, version: StatehouseBuild.version)
            var logger = Logger(label: "statehouse.mcp") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = .warning
            try await server.start(transport: StdioTransport(logger: logger))
            await server.waitUntilCompleted()
        }
    }
}
