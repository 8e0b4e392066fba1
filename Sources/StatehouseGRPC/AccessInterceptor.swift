public import GRPCCore
public import StatehouseAccess
public import StatehouseModel

/// Authenticates every call, once, before its handler runs: reads the `authorization` metadata (and, through
/// `certificateSubject`, the client certificate of mutual TLS), asks ``StatehouseAccess/AccessControl`` for the
/// principal, and binds it for the handler (``StatehouseAccess/AccessScope`` and
/// ``StatehouseCore/CommitAttribution``), which then checks its capability. Installed only when auth is on; a call that
/// fails authentication ends with UNAUTHENTICATED before any handler or store work.
///
/// `Health` and `Version` of the Statehouse services, and `grpc.health.v1`, answer without credentials: what probes and
/// load balancers call.
public struct AccessInterceptor: ServerInterceptor {
    let access: AccessControl
    let certificateSubject: @Sendable (ServerContext) -> String?

    public init(access: AccessControl, certificateSubject: @escaping @Sendable (ServerContext) -> String?) {
        self.access = access
        self.certificateSubject = certificateSubject
    }

    static func isPublic(_ descriptor: MethodDescriptor) -> Bool {
        if descriptor.service.fullyQualifiedService == "grpc.health.v1.Health" { return true }
        return descriptor.method == "Health" || descriptor.method == "Version"
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard !Self.isPublic(context.descriptor) else { return try await next(request, context) }
        let authorization = request.metadata[stringValues: "authorization"].first(where: { _ in true })
        let principal: Principal
        do {
            principal = try await self.access.authenticate(
                authorization: authorization, certificateSubject: self.certificateSubject(context))
        } catch let refusal as StatehouseError where context.descriptor.method == "Session" {
            // A session stream opens anyway and answers each request with the refusal (as a session error with its
            // request id): a bidirectional stream the server ends before reading it races the client's first
            // messages, which some clients (grpc core) then report as INTERNAL instead of this status.
            return try await Self.within(.refusal(refusal)) { try await next(request, context) }
        }
        return try await Self.within(.principal(principal)) { try await next(request, context) }
    }

    /// What a call runs with: the principal it authenticated as, or the refusal its handler answers with.
    enum Binding: Sendable {
        case principal(Principal)
        case refusal(StatehouseError)

        func run<T>(_ body: () async throws -> T) async throws -> T {
            switch self {
            case .principal(let principal): try await AccessScope.bound(principal, body)
            case .refusal(let refusal): try await AccessScope.$refusal.withValue(refusal) { try await body() }
            }
        }
    }

    /// Runs `next` with `binding`, and the response's producer too: a streaming response's body runs after the
    /// interceptor returns, outside anything bound around `next`.
    static func within<Output: Sendable>(
        _ binding: Binding, _ next: () async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        var response = try await binding.run(next)
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in try await binding.run { try await producer(writer) } }
            response.accepted = .success(contents)
        }
        return response
    }
}
