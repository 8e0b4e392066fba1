import GRPCCore

/// The `authorization` value of the calls the current task makes (``StatehouseClient/call(_:)`` binds its client's).
enum CallAuthorization {
    @TaskLocal static var value: String?
}

/// Adds the bound `authorization` value (``CallAuthorization``) to each call's metadata: how a client made with a
/// token authenticates to a daemon with `--auth required`.
struct AuthorizationInterceptor: ClientInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        guard let authorization = CallAuthorization.value else { return try await next(request, context) }
        var request = request
        request.metadata.replaceOrAddString(authorization, forKey: "authorization")
        return try await next(request, context)
    }
}
