import CoreMetrics
import Hummingbird
import StatehouseCore

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
    private let timers = MetricHandleCache<CoreMetrics.Timer>()
    private let counters = MetricHandleCache<CoreMetrics.Counter>()

    func timer(_ route: String) -> CoreMetrics.Timer {
        self.timers.handle(route) {
            CoreMetrics.Timer(label: "statehouse_http_request_duration_seconds", dimensions: [("route", route)])
        }
    }

    func counter(route: String, status: Int) -> CoreMetrics.Counter {
        self.counters.handle("\(route) \(status)") {
            CoreMetrics.Counter(
                label: "statehouse_http_requests_total", dimensions: [("route", route), ("status", "\(status)")])
        }
    }
}
