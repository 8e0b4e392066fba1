import Foundation
public import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
public import StatehouseModel

/// An error as HTTP shows it: a status and an RFC 9457 problem body (`application/problem+json`) naming the cause.
///
/// Every failure of the HTTP API ends up here, from the same ``StatehouseModel/StatehouseError`` the gRPC service
/// maps to status codes, so both transports say the same thing: `code` is the error's stable reason
/// (`invalid_argument`, `conflict`, ...), `detail` its one-line message. Nothing else (no stack, no internal type
/// names) reaches the client.
public struct HTTPProblem: Error, Sendable {
    public var status: HTTPResponse.Status
    /// The stable reason, also the last part of `type` (`urn:statehouse:problem:REASON`).
    public var code: String
    public var detail: String
    /// Extension members (a conflict's key and versions, a retry hint).
    public var extensions: [(String, JSONOutput)] = []
    /// Extra response headers (`Retry-After`).
    public var headers: HTTPFields = [:]

    public init(status: HTTPResponse.Status, code: String, detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    static func badRequest(_ detail: String) -> Self {
        Self(status: .badRequest, code: "invalid_argument", detail: detail)
    }

    /// The problem for an engine error. `conditional` marks a request whose only condition came from `If-Match` /
    /// `If-None-Match`: its failed condition is 412 Precondition Failed, where a commit's own conditions give 409.
    public init(_ error: StatehouseError, conditional: Bool = false) {
        self.init(status: Self.status(of: error, conditional: conditional), code: error.reason, detail: "\(error)")
        switch error {
        case .conflict(let agentID, let key, let expected, let actual):
            self.extensions = [
                ("agent_id", .string(agentID)), ("key", .string(key)),
                ("expected_version", expected.map { .int($0) } ?? .null),
                ("actual_version", actual.map { .int($0) } ?? .null),
            ]
        case .subscriberTooSlow(let resumeFrom):
            self.extensions = [("resume_from", .int(resumeFrom))]
        case .resourceExhausted:
            self.headers[.retryAfter] = "1"
        case .quotaExceeded(_, let retryAfterMilliseconds):
            self.headers[.retryAfter] = "\((retryAfterMilliseconds + 999) / 1000)"
            self.extensions = [("retry_after_ms", .int(retryAfterMilliseconds))]
        case .unauthenticated:
            // RFC 6750: the scheme the daemon takes.
            self.headers[.wwwAuthenticate] = "Bearer realm=\"statehouse\""
        case .unavailable:
            self.headers[.retryAfter] = "1"
        default:
            break
        }
    }

    /// The gRPC status table in HTTP terms (docs/api.md, "HTTP errors").
    static func status(of error: StatehouseError, conditional: Bool) -> HTTPResponse.Status {
        switch error {
        case .invalidArgument: .badRequest
        case .transactionNotFound, .notFound: .notFound
        case .transactionExpired: .gone
        case .conflict: conditional ? .preconditionFailed : .conflict
        case .failedPrecondition: .preconditionFailed
        case .resourceExhausted, .subscriberTooSlow, .quotaExceeded: .tooManyRequests
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .unavailable: .serviceUnavailable
        case .dataCorruption, .internalError: .internalServerError
        }
    }

    /// The problem body as JSON text.
    public var json: JSONOutput {
        .object(
            [
                ("type", .string("urn:statehouse:problem:\(self.code)")),
                ("title", .string(self.status.reasonPhrase)),
                ("status", .int(self.status.code)),
                ("code", .string(self.code)),
                ("detail", .string(self.detail)),
            ] + self.extensions)
    }

    public var response: Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(
            status: self.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: self.json.text + "\n")))
    }
}

/// Turns every error a route throws into a problem response, and logs the ones that are the server's fault.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let problem as HTTPProblem {
            return problem.response
        } catch let error as StatehouseError {
            let problem = HTTPProblem(error)
            if problem.status == .internalServerError {
                context.logger.error("HTTP request failed", metadata: ["error": "\(error)"])
            }
            return problem.response
        } catch let error as HTTPError {
            // Hummingbird's own: no route (404), method not allowed, a body over the limit (413), ...
            let code =
                switch error.status {
                case .notFound: "not_found"
                case .contentTooLarge: "too_large"
                case .methodNotAllowed: "method_not_allowed"
                default: error.status.code >= 500 ? "internal" : "invalid_argument"
                }
            let detail =
                error.body ?? (error.status == .notFound ? "no such route: \(request.uri.path)" : "\(error.status)")
            return HTTPProblem(status: error.status, code: code, detail: detail).response
        } catch is CancellationError {
            return HTTPProblem(status: .serviceUnavailable, code: "unavailable", detail: "the request was cancelled")
                .response
        } catch {
            context.logger.error("HTTP request failed", metadata: ["error": "\(error)"])
            return HTTPProblem(status: .internalServerError, code: "internal", detail: "internal error").response
        }
    }
}
