import HTTPTypes
import Hummingbird
import StatehouseModel

/// On a listener bound to a loopback address, answers only requests addressed to a loopback name (`Host:
/// localhost:8080`, `127.0.0.1:8080`, `[::1]:8080`), with 403 for any other `Host`.
///
/// Why: the HTTP API has no authentication yet and the console runs in a browser. A web page on another site cannot
/// read the API's answers (no CORS headers) or send it JSON writes (they need a CORS preflight, which fails), but
/// with DNS rebinding its own host name comes to resolve to 127.0.0.1, the browser treats the API as that page's
/// origin, and it could read and write every namespace. Such requests still carry the page's host name in `Host`,
/// which is what this refuses. A request without `Host` (HTTP/1.0 tools) is not a browser's and passes.
struct LoopbackHostMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        if let authority = request.head.authority, !Self.isLoopback(authority: authority) {
            throw HTTPProblem(
                status: .forbidden, code: "forbidden_host",
                detail: "this listener is bound to a loopback address and answers only requests for localhost, "
                    + "127.0.0.1 or [::1]; the Host header names '\(authority.prefix(100))'")
        }
        return try await next(request, context)
    }

    /// Whether an authority (`host[:port]`, `[v6]:port`) names a loopback host.
    static func isLoopback(authority: String) -> Bool {
        var host = Substring(authority)
        if host.hasPrefix("[") {
            guard let end = host.firstIndex(of: "]") else { return false }
            host = host[host.index(after: host.startIndex)..<end]
        } else if let colon = host.firstIndex(of: ":") {
            host = host[..<colon]
        }
        return HostAndPort.isLoopback(host: String(host))
    }
}
