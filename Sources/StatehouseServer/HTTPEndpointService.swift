import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import StatehouseCore
import StatehouseGRPC
import StatehouseHTTP
import StatehouseModel

/// The daemon's HTTP listener (`--http-listen`) as a service of the daemon's group: the JSON API, probes, metrics and
/// console over the same engine as gRPC.
///
/// On graceful shutdown it marks itself not ready, ends every watch (an SSE stream would otherwise wait for the next
/// commit and hold the listener open) and lets Hummingbird finish the requests in flight.
struct HTTPEndpointService: Service {
    let engine: StatehouseEngine
    let address: HostAndPort
    let version: String
    let serving: ServingState
    let probes: StatehouseHTTPServer.Probes
    let onListening: @Sendable (Int) -> Void
    let logger: Logger

    func run() async throws {
        let router = StatehouseHTTPServer.router(
            api: HTTPAPI(engine: self.engine, version: self.version, logger: self.logger), probes: self.probes)
        let logger = self.logger
        let onListening = self.onListening
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(self.address.host, port: self.address.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("HTTP serving", metadata: ["address": "\(HostAndPort(host: self.address.host, port: port))"])
                onListening(port)
            },
            logger: self.logger
        )
        try await withGracefulShutdownHandler {
            try await application.run()
        } onGracefulShutdown: {
            self.serving.beginShutdown()
            self.engine.endWatches()
        }
    }
}
