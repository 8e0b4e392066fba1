import CoreMetrics
import Hummingbird
import StatehouseModel
import Synchronization

/// Counts and times every HTTP request by route pattern (not by path, which would make a series per key):
/// `statehouse_http_requests_total{route, status}` and `statehouse_http_request_duration_seconds{route}`.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let handles = RouteMetricHandles()

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        // Streams (replay, watch) are timed to their first byte.
        let route = context.endpointPath ?? "unmatched"
        let elapsed = ContinuousClock.now - started
        self.handles.timer(route).recordNanoseconds(elapsed.nanoseconds)
        self.handles.counter(route: route, status: response.status.code).increment()
        return response
    }
}

/// The metric handles of each route, made on a route's first request.
final class RouteMetricHandles: Sendable {
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])

    func timer(_ route: String) -> CoreMetrics.Timer {
        self.timers.withLock { timers in
            if let timer = timers[route] { return timer }
            let timer = CoreMetrics.Timer(label: "statehouse_http_request_duration_seconds", dimensions: [("route", route)])
            timers[route] = timer
            return timer
        }
    }

    func counter(route: String, status: Int) -> CoreMetrics.Counter {
        let name = "\(route) \(status)"
        return self.counters.withLock { counters in
            if let counter = counters[name] { return counter }
            let counter = CoreMetrics.Counter(
                label: "statehouse_http_requests_total", dimensions: [("route", route), ("status", "\(status)")])
            counters[name] = counter
            return counter
        }
    }
}
