import GRPCCore
import GRPCInProcessTransport
import Logging
import ServiceLifecycle
import StatehouseAccess
import StatehouseClient
import StatehouseGRPC
import StatehouseMCP
import StatehouseModel

/// The daemon's MCP endpoint (`--mcp-listen`) as a service: Streamable HTTP on a loopback port, whose tools reach
/// the engine through the same gRPC service as every client, over an in-process transport (no socket, the same
/// validation, limits and errors).
///
/// With auth on, each HTTP request's `Authorization` header is checked by the daemon's access control, and the session's
/// tool calls carry it to the gRPC service, which checks every call's grants as for any client.
struct MCPEndpointService: Service {
    let service: StatehouseGRPCService
    let address: HostAndPort
    let configuration: StatehouseMCPConfiguration
    let version: String
    let logger: Logger

    func run() async throws {
        let transport = InProcessTransport()
        let access = self.service.access
        let interceptors: [any ServerInterceptor] =
            access.authRequired ? [AccessInterceptor(access: access, certificateSubject: { _ in nil })] : []
        try await withGRPCServer(transport: transport.server, services: [self.service], interceptors: interceptors) {
            _ in
            try await withStatehouseClient(transport: transport.client, address: "in-process") { client in
                let configuration = self.configuration
                let version = self.version
                let listener = MCPHTTPListener(
                    logger: self.logger,
                    authenticate: { authorization in
                        guard access.authRequired else { return nil }
                        do {
                            _ = try await access.authenticate(authorization: authorization, certificateSubject: nil)
                            return nil
                        } catch {
                            return "\(error)"
                        }
                    }
                ) { authorization in
                    await StatehouseMCPServer.make(
                        client: client.withAuthorization(authorization), configuration: configuration,
                        version: version)
                }
                try await cancelWhenGracefulShutdown {
                    try await listener.run(host: self.address.host, port: self.address.port)
                }
            }
        }
    }
}
