import CoreMetrics
public import GRPCCore
import StatehouseCore

/// Times every RPC by method and counts failures by method and status code, through swift-metrics:
/// `statehouse_rpc_duration_seconds{method}` and `statehouse_rpc_errors_total{method, code}`.
///
/// A unary call is timed to its response; a streaming call (watch, replay, session) to the start of its response
/// stream, since its length is the client's choice.
public struct RPCMetricsInterceptor: ServerInterceptor {
    private let handles = RPCMetricHandles()

    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let method = context.descriptor.method
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            if case .failure(let error) = response.accepted {
                self.handles.record(method, since: started, failure: error.code)
            } else {
                self.handles.record(method, since: started, failure: nil)
            }
            return response
        } catch {
            let code = (error as? RPCError)?.code ?? (error as? any RPCErrorConvertible)?.rpcErrorCode ?? .unknown
            self.handles.record(method, since: started, failure: code)
            throw error
        }
    }
}

/// The handles of each method, made on its first call (shared with ``DirectUnaryCalls``).
final class RPCMetricHandles: Sendable {
    private let timers = MetricHandleCache<CoreMetrics.Timer>()
    private let errors = MetricHandleCache<CoreMetrics.Counter>()

    /// A code as gRPC's status names spell it (`invalidArgument` becomes `INVALID_ARGUMENT`).
    static func statusName(_ code: RPCError.Code) -> String {
        var name = ""
        for character in "\(code)" {
            if character.isUppercase { name.append("_") }
            name.append(contentsOf: character.uppercased())
        }
        return name
    }

    /// One call of `method`: its duration since `started`, and its status code when it failed.
    func record(_ method: String, since started: ContinuousClock.Instant, failure: RPCError.Code?) {
        self.timer(method).recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        if let failure { self.error(method: method, code: failure).increment() }
    }

    func timer(_ method: String) -> CoreMetrics.Timer {
        self.timers.handle(method) {
            CoreMetrics.Timer(label: "statehouse_rpc_duration_seconds", dimensions: [("method", method)])
        }
    }

    func error(method: String, code: RPCError.Code) -> CoreMetrics.Counter {
        let name = Self.statusName(code)
        return self.errors.handle(method + " " + name) {
            CoreMetrics.Counter(label: "statehouse_rpc_errors_total", dimensions: [("method", method), ("code", name)])
        }
    }
}
