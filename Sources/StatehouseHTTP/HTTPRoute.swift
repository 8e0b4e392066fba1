import Hummingbird

/// One route of the HTTP API: what it does for the OpenAPI document and how it is served.
///
/// The router and `/v1/openapi.json` are both built from ``HTTPAPI/routes``, so a route cannot be served without
/// being documented, and its query parameters are exactly those the document lists (``HTTPInput`` refuses others).
struct HTTPRoute: Sendable {
    enum Method: String, Sendable {
        case get, put, patch, delete, post
    }

    /// What the route's request body is, for the document.
    enum Body: Sendable {
        case none
        /// Any JSON value, stored as sent.
        case value
        /// An object described by a schema in `components/schemas`.
        case schema(String)
        /// Any bytes, streamed (an artifact).
        case bytes
    }

    struct Answer: Sendable {
        var status: Int
        var description: String
        /// `application/json` with this schema, another media type, or none.
        var content: Content

        enum Content: Sendable {
            case none
            case schema(String)
            case media(String, description: String)
        }
    }

    var method: Method
    /// The OpenAPI path, with `{name}` path parameters.
    var path: String
    var operationID: String
    var summary: String
    /// Query parameters, described in ``HTTPParameters`` unless ``queryDocs`` describes them for this route.
    var query: [String] = []
    /// Descriptions of query parameters whose meaning here differs from ``HTTPParameters``'s (type, description).
    var queryDocs: [String: (type: String, description: String)] = [:]
    /// Request headers the route reads, described in ``HTTPParameters``.
    var headers: [String] = []
    var body: Body = .none
    var answers: [Answer]
    var handle: @Sendable (Request, HTTPRequestContext, HTTPInput) async throws -> Response

    /// Hummingbird's form of the path: `{name}` becomes `:name`.
    var routerPath: String {
        self.path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : segment
        }.joined(separator: "/")
    }

    /// Names of the `{name}` parameters in the path.
    var pathParameters: [String] {
        self.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
    }
}
