import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCertificateReloading
import NIOCore
import NIOSSL
import ServiceLifecycle
import StatehouseAccess
import StatehouseArtifacts
import StatehouseCore
import StatehouseGRPC
import StatehouseHTTP
import StatehouseModel

/// The daemon's HTTP listener (`--http-listen`) as a service of the daemon's group: the JSON API, probes, metrics and
/// console over the same engine as gRPC.
///
/// On graceful shutdown it marks itself not ready, ends every watch (an SSE stream would otherwise wait for the next
/// commit and hold the listener open) and lets Hummingbird finish the requests in flight, for at most `gracePeriod`
/// (the gRPC server's): a replay still streaming then is cancelled, so that a slow client cannot keep the daemon up.
struct HTTPEndpointService: Service {
    let engine: StatehouseEngine
    let access: AccessControl
    let artifacts: (any ArtifactStorage)?
    let address: HostAndPort
    let version: String
    let serving: ServingState
    let probes: StatehouseHTTPServer.Probes
    let sseKeepAlive: Duration
    /// TLS material; nil serves plaintext.
    let tls: TLSCertificateFiles?
    let gracePeriod: Duration
    let onListening: @Sendable (Int) -> Void
    let logger: Logger

    /// HTTP/1.1, over TLS when the daemon has certificates (with client verification for mTLS).
    private func serverBuilder() throws -> HTTPServerBuilder {
        guard let tls = self.tls else { return .http1() }
        var configuration = try TLSConfiguration.makeServerConfiguration(certificateReloader: tls)
        if let roots = try tls.clientCertificates() {
            configuration.trustRoots = .certificates(roots)
            configuration.certificateVerification = .noHostnameVerification
        }
        return try .tls(.http1(), tlsConfiguration: configuration)
    }

    func run() async throws {
        let router = StatehouseHTTPServer.router(
            api: HTTPAPI(
                engine: self.engine, access: self.access, artifacts: self.artifacts, version: self.version,
                sseKeepAlive: self.sseKeepAlive, logger: self.logger),
            probes: self.probes,
            loopbackOnly: self.address.isLoopback)
        let logger = self.logger
        let onListening = self.onListening
        let application = Application(
            router: router,
            server: try self.serverBuilder(),
            configuration: .init(address: .hostname(self.address.host, port: self.address.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info(
                    "HTTP serving", metadata: ["address": "\(HostAndPort(host: self.address.host, port: port))"])
                onListening(port)
            },
            logger: self.logger
        )
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await withGracefulShutdownHandler {
                        try await application.run()
                    } onGracefulShutdown: {
                        self.serving.beginShutdown()
                        self.engine.endWatches()
                    }
                } catch is CancellationError {
                    // The grace period ran out (below): the cancelled requests are the intended end.
                }
                return true
            }
            group.addTask {
                try await gracefulShutdown()
                try await Task.sleep(for: self.gracePeriod)
                return false
            }
            while let serverEnded = try await group.next() {
                if !serverEnded {
                    self.logger.warning(
                        "HTTP requests still running after the shutdown grace period; cancelling them",
                        metadata: ["grace.period": "\(self.gracePeriod)"])
                }
                group.cancelAll()
                if serverEnded { return }
            }
        }
    }
}
