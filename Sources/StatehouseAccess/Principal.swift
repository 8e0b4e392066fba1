import StatehouseCore
public import StatehouseModel

/// Who a request was authenticated as: a token, a certificate principal, or anyone (auth off).
public struct Principal: Sendable, Hashable {
    /// The token id; `anonymous` without auth.
    public let id: String
    public let name: String
    public let grants: [AccessGrant]
    /// When the credentials stop authenticating; `nil`: never (they may still be revoked).
    public let expiresAtMicros: UInt64?
    /// Whether this is the principal of a daemon without auth, which may do everything.
    public let isAnonymous: Bool

    init(token: AccessToken) {
        self.id = token.id
        self.name = token.name
        self.grants = token.grants
        self.expiresAtMicros = token.expiresAtMicros
        self.isAnonymous = false
    }

    private init(anonymousWithGrants grants: [AccessGrant]) {
        self.id = "anonymous"
        self.name = "anonymous"
        self.grants = grants
        self.expiresAtMicros = nil
        self.isAnonymous = true
    }

    /// Every client of a daemon without auth: admin on every namespace.
    public static let anonymous = Self(anonymousWithGrants: [AccessGrant(everyNamespace: .admin)])

    /// The role the principal's grants give in a namespace; `nil` for none.
    public func role(in namespace: String) -> AccessRole? { self.grants.role(in: namespace) }

    /// Whether the principal is admin on every namespace (`*:admin`): what whole-store actions (backup) need.
    public var isAdminOfEverything: Bool {
        self.grants.contains { $0.namespacePattern == "*" && $0.role == .admin }
    }
}

/// The principal of the request the current task serves, bound by the transport (gRPC interceptor, HTTP middleware,
/// MCP listener) around each request.
public enum AccessScope {
    @TaskLocal public static var principal: Principal?
    /// Why the request's credentials did not authenticate, when its transport lets the handler answer that itself
    /// (a session answers each request with it, rather than the stream ending before it was read).
    @TaskLocal public static var refusal: StatehouseError?
}

extension AccessScope {
    /// Runs `body` as `principal`: binds it for the access checks and for the commits `body` makes
    /// (``StatehouseCore/CommitAttribution``; nothing for an anonymous principal).
    public static func bound<T>(_ principal: Principal, _ body: () async throws -> T) async throws -> T {
        try await AccessScope.$principal.withValue(principal) {
            try await CommitAttribution.$principalID.withValue(principal.isAnonymous ? nil : principal.id) {
                try await body()
            }
        }
    }
}
