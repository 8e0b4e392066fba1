public import GRPCCore
public import GRPCInProcessTransport
import GRPCNIOTransportHTTP2
public import StatehouseCore
import StatehouseGRPC
import StatehouseSQLite

/// Serves both APIs (statehouse.v2 and the original statehouse.v1, on one server as statehoused does) over a fresh
/// engine of the standard store (``StoreKind/standard``: in memory unless `STATEHOUSE_TEST_STORE` names another, which
/// is how scripts/test.sh runs the service suites on PostgreSQL too) through an in-process transport, and runs `body`
/// with the client end of that transport (for a client that owns its transport, such as
/// `withStatehouseClient(transport:address:)`) and the engine.
public func withInProcessServices(
    configuration: EngineConfiguration = EngineConfiguration(),
    clock: any StatehouseClock = SystemClock(),
    _ body: @Sendable (InProcessTransport.Client, StatehouseEngine) async throws -> Void
) async throws {
    try await withTestEngine(.standard, configuration: configuration, clock: clock) { engine in
        let build = StatehouseGRPCService.BuildInfo(version: "1.2.3", gitSHA: "abcdef0")
        let service = StatehouseGRPCService(engine: engine, build: build, logger: testLogger)
        let v1Service = StatehouseV1CompatibilityService(engine: engine, build: build, logger: testLogger)
        let transport = InProcessTransport()
        try await withGRPCServer(transport: transport.server, services: [service, v1Service]) { _ in
            try await body(transport.client, engine)
        }
    }
}

/// ``withInProcessServices(configuration:clock:_:)`` with a running gRPC client of it.
public func withInProcessServer(
    configuration: EngineConfiguration = EngineConfiguration(),
    clock: any StatehouseClock = SystemClock(),
    _ body: @Sendable (GRPCClient<InProcessTransport.Client>, StatehouseEngine) async throws -> Void
) async throws {
    try await withInProcessServices(configuration: configuration, clock: clock) { transport, engine in
        try await withGRPCClient(transport: transport) { client in
            try await body(client, engine)
        }
    }
}

/// What ``withLoopbackServer(_:)`` could not do.
public struct LoopbackServerError: Error, CustomStringConvertible {
    public var description: String
}

/// Serves statehouse.v2 over a fresh in-memory engine on a loopback port the kernel picks, and runs `body` with
/// that port; the server and engine stop afterwards.
public func withLoopbackServer(_ body: @Sendable (Int) async throws -> Void) async throws {
    let backend = try await SQLiteBackend.open(configuration: .inMemory(), logger: testLogger)
    let engine = StatehouseEngine(backend: backend, logger: testLogger)
    let service = StatehouseGRPCService(engine: engine, build: .init(version: "t", gitSHA: "t"), logger: testLogger)
    let server = GRPCServer(
        transport: HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0),
            transportSecurity: .plaintext
        ),
        services: [service]
    )
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await engine.run() }
        group.addTask { try await server.serve() }
        do {
            guard let port = try await server.listeningAddress?.ipv4?.port else {
                throw LoopbackServerError(description: "the test server did not listen on an IPv4 address")
            }
            try await body(port)
        } catch {
            engine.endWatches()
            server.beginGracefulShutdown()
            group.cancelAll()
            throw error
        }
        engine.endWatches()
        server.beginGracefulShutdown()
        group.cancelAll()
    }
}
