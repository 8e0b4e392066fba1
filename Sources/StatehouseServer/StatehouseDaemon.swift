import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import StatehouseAccess
import StatehouseArtifacts
import StatehouseBuildInfo
import StatehouseCore
import StatehouseGRPC
import StatehouseHTTP
import StatehousePostgres
import StatehouseSQLite
import UnixSignals
import X509

/// Runs Statehouse as a daemon: the store, the engine and the gRPC server, as one service group.
///
/// SIGTERM and SIGINT start a graceful shutdown in reverse order: watches end, the gRPC server stops accepting calls
/// and finishes the ones in flight, then the engine finishes queued commits and closes the store.
public enum StatehouseDaemon {
    /// The version reported by `Version` and the startup banner.
    public static var version: String { StatehouseBuild.version }

    /// The git commit the binary was built from (embedded at build time).
    public static var gitSHA: String { StatehouseBuild.gitSHA }

    /// The HTTP/2 flow-control window of each gRPC stream and of each connection (grpc-swift's default: 64 KiB).
    static let http2WindowBytes = 4 << 20
    /// The largest HTTP/2 frame the daemon accepts (the protocol's default and grpc-swift's: 16 KiB).
    static let http2MaxFrameBytes = 256 << 10
    /// How long grpc-swift holds a response's flush to write it together with others (its default: 100 µs).
    ///
    /// The default delays every response by up to 100 µs: a lone client's point get took 461 µs instead of 352 and
    /// ran 25 % slower. A delay this short still writes everything that became ready in one event-loop pass with one
    /// `writev` (the flush waits for the next pass), which is where the coalescing pays at 64 in flight.
    static let flushCoalescingDelay = Duration.microseconds(1)

    /// Opens the store and serves until a shutdown signal (or until the calling task is cancelled).
    ///
    /// - Parameters:
    ///   - onListening: called with the bound port once the gRPC server accepts calls.
    ///   - onHTTPListening: called with the HTTP listener's bound port once it accepts requests.
    /// - Throws: a ``StatehouseModel/StatehouseError`` with a one-line cause when the store cannot be opened, or the
    ///   transport's error when the address cannot be bound.
    public static func run(
        configuration: ServerConfiguration,
        gitSHA: String,
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in },
        onHTTPListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws {
        logger.info(
            "Statehouse starting",
            metadata: [
                "version": "\(Self.version)", "git.sha": "\(gitSHA)", "listen": "\(configuration.listenAddress)",
                "store":
                    "\(configuration.backend == .postgres ? "postgres" : configuration.useMemory ? "memory" : configuration.dataDirectory)",
                "durability": "\(configuration.durability)",
            ])
        // Resolve and try the address before the store is opened: a daemon that cannot listen stops here, before it
        // creates or locks anything on disk.
        let socketAddress = try ListenAddress.checkedSocketAddress(
            HostAndPort(host: configuration.host, port: configuration.port), shownAs: configuration.listenAddress)
        if let http = configuration.httpListen {
            _ = try ListenAddress.checkedSocketAddress(http, shownAs: "\(http) (http-listen)")
        }
        // The TLS files too: a missing or unreadable certificate stops the daemon before anything is created.
        let tls = try configuration.tlsCertificatePath.map { certificate in
            try TLSCertificateFiles(
                certificatePath: certificate, keyPath: configuration.tlsKeyPath ?? "",
                clientCAPath: configuration.tlsClientCAPath)
        }
        // Before the engine and the store make their metric handles.
        StatehouseMetrics.bootstrap()
        let backend: any StorageBackend
        if let postgres = try configuration.postgresSettings() {
            // The data directory still holds what is this daemon's own: its signing key (give every daemon of one
            // database the same key file, --signing-key), its bootstrap token and its artifacts.
            try FileManager.default.createDirectory(
                atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            backend = try await PostgresBackend(
                settings: postgres, searchState: configuration.searchState,
                requestTimeout: configuration.postgresRequestTimeout, logger: logger)
        } else {
            backend = try await SQLiteBackend.open(configuration: configuration.storage, logger: logger)
        }
        var engineConfiguration = configuration.engine
        do {
            // After the store is open: the data directory exists and is locked by this process.
            engineConfiguration.signer = try SigningKeyFile.signer(for: configuration, logger: logger)
        } catch {
            await backend.close()
            throw error
        }
        let engine = StatehouseEngine(backend: backend, configuration: engineConfiguration, logger: logger)
        let access = AccessControl(engine: engine, configuration: configuration.access, logger: logger)
        if !configuration.quotas.isEmpty { engine.setCommitAdmission(access.quotas) }
        let build = StatehouseGRPCService.BuildInfo(version: Self.version, gitSHA: gitSHA)
        // Blobs live beside the database (in it, on PostgreSQL: every daemon of the database serves them); a daemon in
        // memory has none.
        let artifacts: (any ArtifactStorage)?
        do {
            if let postgres = backend as? PostgresBackend {
                artifacts = PostgresArtifactStore(backend: postgres)
            } else {
                artifacts =
                    configuration.useMemory
                    ? nil : try ArtifactStore(directory: configuration.dataDirectory + "/artifacts")
            }
        } catch {
            await backend.close()
            throw StatehouseError.unavailable("cannot open the artifact store: \(error)")
        }
        engine.setCompactionFollowUp(
            CompactionFollowUp(
                engine: engine, access: access, artifacts: artifacts,
                minimumAge: configuration.artifactCollectionMinimumAge, logger: logger
            ).run)
        let service = StatehouseGRPCService(
            engine: engine, build: build, access: access, artifacts: artifacts, logger: logger)
        // The original Statehouse API on the same port, so that its clients work unchanged (docs/compatibility.md).
        let v1Service = StatehouseV1CompatibilityService(engine: engine, build: build, access: access, logger: logger)
        // Where the server's tasks and the direct unary calls run (see ``EventLoopTaskExecutor``).
        let executor = EventLoopTaskExecutor(group: .singletonMultiThreadedEventLoopGroup)
        let transport = HTTP2ServerTransport.Posix(
            address: socketAddress,
            transportSecurity: tls.map(Self.grpcSecurity) ?? .plaintext,
            config: .defaults {
                $0.rpc.maxRequestPayloadSize = configuration.maxMessageBytes
                // grpc-swift's server window is 64 KiB: a stream upload (PutArtifact) then waits a round trip for every
                // 64 KiB and ran at 126 MB/s on loopback with both processes mostly idle. A larger window and frames
                // let a client stream at disk speed; each stream buffers at most one window.
                $0.http2.targetWindowSize = Self.http2WindowBytes
                $0.http2.maxFrameSize = Self.http2MaxFrameBytes
                $0.connection.flushCoalescing = .init(maxFlushDelay: Self.flushCoalescingDelay, maxBytes: 64 << 10)
                if configuration.grpcDirectUnary {
                    $0.channelDebuggingCallbacks.onAcceptHTTP2Stream = Self.directUnaryCalls(
                        DirectUnaryCalls(
                            service: service, v1Service: v1Service,
                            authenticateWith: configuration.authRequired ? access : nil,
                            recordMetrics: configuration.rpcMetrics),
                        maxRequestBytes: configuration.maxMessageBytes, executor: executor,
                        readsClientCertificates: configuration.tlsClientCAPath != nil && configuration.authRequired)
                }
            }
        )
        // grpc.health.v1 on the same port, for Kubernetes gRPC probes and grpc_health_probe.
        let serving = ServingState()
        let server = GRPCServer(
            transport: transport, services: [service, v1Service, StatehouseHealthService(state: serving)],
            interceptors: Self.interceptors(configuration, access: access))
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: EngineService(engine: engine), successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: AccessService(access: access), successTerminationBehavior: .gracefullyShutdownGroup),
            .init(
                service: GRPCServerService(
                    server: server,
                    engine: engine,
                    sessions: service.sessions,
                    serving: serving,
                    gracePeriod: configuration.shutdownGracePeriod,
                    access: access,
                    executor: executor,
                    onListening: onListening,
                    logger: logger
                ),
                successTerminationBehavior: .gracefullyShutdownGroup
            ),
        ]
        if let address = configuration.httpListen {
            let sessions = service.sessions
            var databaseSize: (@Sendable () async -> Int?)?
            if configuration.backend == .postgres {
                let store = backend
                databaseSize = { try? await store.storeFileBytes() }
            }
            let probes = StatehouseHTTPServer.Probes(
                notReadyReason: {
                    if !serving.isServing { return "Statehouse is shutting down" }
                    if !engine.isRunning { return "the engine is not running" }
                    return nil
                },
                gauges: .init(
                    openTransactions: { engine.openTransactionCount }, watchers: { engine.watcherCount },
                    sessions: { sessions.count },
                    databasePath: configuration.useMemory || configuration.backend == .postgres
                        ? nil : configuration.dataDirectory + "/" + SQLiteConfiguration.databaseFileName,
                    databaseSize: databaseSize))
            services.append(
                .init(
                    service: HTTPEndpointService(
                        engine: engine, access: access, artifacts: artifacts, address: address, version: Self.version,
                        serving: serving,
                        probes: probes,
                        sseKeepAlive: configuration.httpSSEKeepAlive, tls: tls,
                        gracePeriod: configuration.shutdownGracePeriod, onListening: onHTTPListening,
                        logger: logger),
                    successTerminationBehavior: .gracefullyShutdownGroup))
        }
        services.append(
            .init(
                service: ReloadService(tls: tls, logger: logger), successTerminationBehavior: .gracefullyShutdownGroup))
        if let address = configuration.mcpListen {
            // Last, so that a shutdown stops it first (the group stops services in reverse order).
            services.append(
                .init(
                    service: MCPEndpointService(
                        service: service, address: address, configuration: configuration.mcp, version: Self.version,
                        logger: logger),
                    successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch let error as RuntimeError where error.code == .transportError {
            await backend.close()
            throw Self.listenError(error, address: configuration.listenAddress)
        } catch {
            await backend.close()
            throw error
        }
        logger.info("Statehouse stopped")
    }
}

extension StatehouseDaemon {
    /// The gRPC interceptors: access first (a call without valid credentials costs nothing more), then metrics.
    static func interceptors(_ configuration: ServerConfiguration, access: AccessControl) -> [any ServerInterceptor] {
        var interceptors: [any ServerInterceptor] = []
        if configuration.authRequired {
            interceptors.append(AccessInterceptor(access: access, certificateSubject: Self.certificateSubject))
        }
        if configuration.rpcMetrics { interceptors.append(RPCMetricsInterceptor()) }
        return interceptors
    }

    /// Puts ``UnaryFastPathHandler`` first in each HTTP/2 stream's pipeline, in front of grpc-swift's handlers; with
    /// mutual TLS and auth on it reads each call's client certificate from the connection (`readsClientCertificates`:
    /// with auth off nothing looks at it).
    static func directUnaryCalls(
        _ calls: DirectUnaryCalls, maxRequestBytes: Int, executor: EventLoopTaskExecutor, readsClientCertificates: Bool
    ) -> @Sendable (any Channel) -> EventLoopFuture<Void> {
        { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    UnaryFastPathHandler(
                        calls: calls, maxRequestBytes: maxRequestBytes, executor: executor,
                        readsClientCertificates: readsClientCertificates),
                    position: .first)
            }
        }
    }

    /// The subject of the client certificate mutual TLS verified for a call, RFC 4514 style (`CN=agent-1,O=Acme`).
    @Sendable static func certificateSubject(_ context: ServerContext) -> String? {
        (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate.map {
            String(describing: $0.subject)
        }
    }

    /// gRPC's TLS from the daemon's files; the files are also its certificate reloader (SIGHUP).
    static func grpcSecurity(_ files: TLSCertificateFiles) -> HTTP2ServerTransport.Posix.TransportSecurity {
        var tls = HTTP2ServerTransport.Posix.TransportSecurity.TLS.defaults(
            certificateChain: [.file(path: files.certificatePath, format: .pem)],
            privateKey: .file(path: files.keyPath, format: .pem))
        tls.certificateReloader = files
        if let clientCA = files.clientCAPath {
            tls.clientCertificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates([.file(path: clientCA, format: .pem)])
        }
        return .tls(tls)
    }

    /// The HTTP API's OpenAPI document, as `/v1/openapi.json` serves it (built from the route table over an engine
    /// that is never run).
    public static func openAPIDocument() async throws -> String {
        var logger = Logger(label: "openapi")
        logger.logLevel = .error
        let backend = try await SQLiteBackend.open(configuration: .inMemory(), logger: logger)
        let engine = StatehouseEngine(backend: backend, logger: logger)
        let document = StatehouseHTTPServer.openAPIDocument(
            api: HTTPAPI(engine: engine, version: Self.version, logger: logger))
        await backend.close()
        return document
    }

    /// A one-line cause for a server that could not start listening.
    static func listenError(_ error: RuntimeError, address: String) -> StatehouseError {
        let cause = error.cause.map { "\($0)" } ?? error.message
        if cause.contains("Address already in use") {
            return .unavailable("cannot listen on \(address): the address is already in use")
        }
        if cause.contains("Cannot assign requested address") {
            return .unavailable("cannot listen on \(address): no such local address")
        }
        return .unavailable("cannot listen on \(address): \(cause)")
    }
}

/// Access control as a service: reads the token records (and with auth on a new store, creates the first admin token)
/// once the engine runs; requests wait for it. Then it waits for the shutdown.
struct AccessService: Service {
    let access: AccessControl

    func run() async throws {
        try await self.access.start()
        try? await gracefulShutdown()
    }
}

/// The engine as a service: runs its pipeline until graceful shutdown, then drains and closes the store.
struct EngineService: Service {
    let engine: StatehouseEngine

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.engine.run()
        }
    }
}

/// The gRPC server as a service. On graceful shutdown it ends watches (they would otherwise wait for the next commit
/// forever) and sessions (they stay open as long as their clients want), then lets the server finish the calls in
/// flight, for at most `gracePeriod`: calls still running then are cancelled, so that a stuck client cannot keep the
/// daemon from stopping (the engine still drains every commit it accepted).
struct GRPCServerService: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let engine: StatehouseEngine
    let sessions: SessionRegistry
    /// What the health service reports; NOT_SERVING from the start of a shutdown.
    let serving: ServingState
    let gracePeriod: Duration
    /// Announced as listening only once access control is ready (the bootstrap token file written).
    let access: AccessControl
    /// Where the server's tasks run (see ``EventLoopTaskExecutor``).
    let executor: EventLoopTaskExecutor
    let onListening: @Sendable (Int) -> Void
    let logger: Logger

    private enum Finished {
        case server
        case listening
        case gracePeriodElapsed
    }

    func run() async throws {
        try await withThrowingTaskGroup(of: Finished.self) { group in
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await withTaskExecutorPreference(self.executor) {
                        try await self.server.serve()
                    }
                } onGracefulShutdown: {
                    self.serving.beginShutdown()
                    self.engine.endWatches()
                    self.sessions.endAll()
                    self.server.beginGracefulShutdown()
                }
                return .server
            }
            group.addTask {
                try await gracefulShutdown()
                try await Task.sleep(for: self.gracePeriod)
                return .gracePeriodElapsed
            }
            group.addTask {
                await self.access.ready()
                await self.announceListening()
                return .listening
            }
            while let finished = try await group.next() {
                switch finished {
                case .listening:
                    continue
                case .server:
                    group.cancelAll()  // the grace period timer
                    return
                case .gracePeriodElapsed:
                    self.logger.warning(
                        "Calls still running after the shutdown grace period; cancelling them",
                        metadata: [
                            "grace.period": "\(self.gracePeriod)"
                        ])
                    group.cancelAll()  // cancels serve(), which cancels every call handler; the loop then sees .server
                }
            }
        }
    }

    /// Logs the bound address and reports its port once the server listens.
    private func announceListening() async {
        let address: HostAndPort
        do {
            guard let bound = try await self.server.listeningAddress else { return }
            if let ipv4 = bound.ipv4 {
                address = HostAndPort(host: ipv4.host, port: ipv4.port)
            } else if let ipv6 = bound.ipv6 {
                address = HostAndPort(host: ipv6.host, port: ipv6.port)
            } else {
                return
            }
        } catch {
            // The server could not bind; `serve()` fails with the cause (for example, the address is in use) and the
            // group rethrows that.
            return
        }
        self.logger.info("Listening", metadata: ["address": "\(address)"])
        self.onListening(address.port)
    }
}
