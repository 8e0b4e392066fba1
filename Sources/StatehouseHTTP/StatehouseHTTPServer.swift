public import Hummingbird
import Logging
import NIOCore
import StatehouseCore
import StatehouseModel

/// The daemon's HTTP listener: the JSON API under `/v1` (``HTTPAPI``), `/v1/openapi.json`, the probes `/healthz` and
/// `/readyz`, `/metrics`, and the web console at `/`.
public enum StatehouseHTTPServer {
    /// What the probes and `/metrics` read from the daemon.
    public struct Probes: Sendable {
        /// nil when the daemon is ready for traffic, else why not (shutting down, the engine stopped).
        public var notReadyReason: @Sendable () -> String?
        public var gauges: StatehouseMetrics.Gauges

        public init(notReadyReason: @escaping @Sendable () -> String?, gauges: StatehouseMetrics.Gauges) {
            self.notReadyReason = notReadyReason
            self.gauges = gauges
        }
    }

    /// The OpenAPI document as served at `/v1/openapi.json` (what `statehoused --openapi` prints).
    public static func openAPIDocument(api: HTTPAPI) -> String {
        OpenAPIDocument.make(routes: api.routes, version: api.version).text + "\n"
    }

    /// The router with every route and middleware.
    ///
    /// - Parameter loopbackOnly: answer only requests whose `Host` is a loopback name (``LoopbackHostMiddleware``);
    ///   the daemon sets it when the listener is bound to a loopback address.
    public static func router(
        api: HTTPAPI, probes: Probes, loopbackOnly: Bool
    ) -> Router<HTTPRequestContext> {
        let router = Router(context: HTTPRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        if loopbackOnly { router.add(middleware: LoopbackHostMiddleware()) }
        for route in api.routes {
            let allowed = Set(route.query)
            let handle = route.handle
            guard let access = HTTPAPI.routeAccess[route.operationID] else {
                preconditionFailure("route \(route.operationID) has no entry in HTTPAPI.routeAccess")
            }
            let responder: @Sendable (Request, HTTPRequestContext) async throws -> Response = { request, context in
                try await api.withAccess(access, request, context) {
                    try await handle(request, context, try HTTPInput(request, context, allowed: allowed))
                }
            }
            switch route.method {
            case .get: router.get(RouterPath(route.routerPath), use: responder)
            case .put: router.put(RouterPath(route.routerPath), use: responder)
            case .patch: router.patch(RouterPath(route.routerPath), use: responder)
            case .delete: router.delete(RouterPath(route.routerPath), use: responder)
            case .post: router.post(RouterPath(route.routerPath), use: responder)
            }
        }
        let document = ByteBuffer(string: Self.openAPIDocument(api: api))
        router.get("/v1/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
        router.get("/healthz") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("/readyz") { _, _ in
            if let reason = probes.notReadyReason() {
                throw HTTPProblem(status: .serviceUnavailable, code: "unavailable", detail: reason)
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: await StatehouseMetrics.shared.scrape(probes.gauges))))
        }
        ConsoleAssets.register(on: router)
        return router
    }
}
