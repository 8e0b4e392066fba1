import GRPCCore
import GRPCInProcessTransport
import Logging
import ServiceLifecycle
import StatehouseClient
import StatehouseGRPC
import StatehouseMCP
import StatehouseModel

/// The daemon's MCP endpoint (`--mcp-listen`) as a service: Streamable HTTP on a loopback port, whose tools reach
/// the engine through the same gRPC service as every client, over an in-process transport (no socket, the same
/// validation, limits and errors).
struct MCPEndpointService: Service {
    let service: StatehouseGRPCService
    let address: HostAndPort
    let configuration: StatehouseMCPConfiguration
    let version: String
    let logger: Logger

    func run() async throws {
        let transport = InProcessTransport()
        try await withGRPCServer(transport: transport.server, services: [self.service]) { _ in
            try await withStatehouseClient(transport: transport.client, address: "in-process") { client in
                let configuration = self.configuration
                let version = self.version
                let listener = MCPHTTPListener(logger: self.logger) {
                    await StatehouseMCPServer.make(client: client, configuration: configuration, version: version)
                }
                try await cancelWhenGracefulShutdown {
                    try await listener.run(host: self.address.host, port: self.address.port)
                }
            }
        }
    }
}
