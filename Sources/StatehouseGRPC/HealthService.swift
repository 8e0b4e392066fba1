public import GRPCCore
import StatehouseProto
import Synchronization

/// Whether the daemon serves: SERVING from start until a shutdown begins, then NOT_SERVING. Shared by the health
/// service's calls; a change reaches every `Watch` at once.
public final class ServingState: Sendable {
    private struct State {
        var serving = true
        var watchers: [Int: AsyncStream<Bool>.Continuation] = [:]
        var nextWatcher = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var isServing: Bool { self.state.withLock { $0.serving } }

    /// Marks the daemon as shutting down; every watcher sees NOT_SERVING and its stream ends.
    public func beginShutdown() {
        let watchers = self.state.withLock { state -> [AsyncStream<Bool>.Continuation] in
            state.serving = false
            defer { state.watchers = [:] }
            return Array(state.watchers.values)
        }
        for watcher in watchers {
            watcher.yield(false)
            watcher.finish()
        }
    }

    /// The status now, then its change (if any); ends after NOT_SERVING.
    func changes() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream<Bool>.makeStream()
        let id: Int? = self.state.withLock { state in
            continuation.yield(state.serving)
            guard state.serving else { return nil }
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = continuation
            return state.nextWatcher
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}

/// gRPC's standard health service (`grpc.health.v1.Health`) for the daemon's gRPC port, so that Kubernetes gRPC
/// probes and `grpc_health_probe` work: the server as a whole (`""`) and each API it serves are SERVING until a
/// shutdown begins, then NOT_SERVING; any other service name is NOT_FOUND (`Check`) or SERVICE_UNKNOWN (`Watch`).
public struct StatehouseHealthService: RegistrableRPCService {
    /// The names `Check` knows: the server, and the two Statehouse APIs.
    public static let services = ["", "statehouse.v2.StatehouseService", "statehouse.v1.StatehouseService"]

    let implementation: HealthImplementation

    public init(state: ServingState) {
        self.implementation = HealthImplementation(state: state)
    }

    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        self.implementation.registerMethods(with: &router)
    }
}

struct HealthImplementation: Grpc_Health_V1_Health.SimpleServiceProtocol {
    typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    let state: ServingState

    private func response(_ status: Status) -> Grpc_Health_V1_HealthCheckResponse {
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = status
        return response
    }

    private var current: Status { self.state.isServing ? .serving : .notServing }

    func check(
        request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard StatehouseHealthService.services.contains(request.service) else {
            throw RPCError(code: .notFound, message: "unknown service '\(request.service.prefix(200))'")
        }
        return self.response(self.current)
    }

    func list(
        request: Grpc_Health_V1_HealthListRequest, context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthListResponse {
        var response = Grpc_Health_V1_HealthListResponse()
        for service in StatehouseHealthService.services { response.statuses[service] = self.response(self.current) }
        return response
    }

    func watch(
        request: Grpc_Health_V1_HealthCheckRequest,
        response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        guard StatehouseHealthService.services.contains(request.service) else {
            // The protocol's answer for a service the server does not know: SERVICE_UNKNOWN, and the call stays open
            // (a service may appear later; here none does, so it ends when the client cancels or the server stops).
            try await response.write(self.response(.serviceUnknown))
            for await serving in self.state.changes() where !serving { return }
            return
        }
        for await serving in self.state.changes() {
            try await response.write(self.response(serving ? .serving : .notServing))
        }
    }
}
