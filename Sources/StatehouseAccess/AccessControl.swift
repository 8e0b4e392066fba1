public import Logging
public import StatehouseCore
public import StatehouseModel
import Synchronization

/// Authentication and authorization for every transport (docs/security.md): who a request is, and whether its
/// grants allow what it asks.
///
/// The transports bind the ``Principal`` that ``authenticate(authorization:certificateSubject:)`` returns to
/// ``AccessScope/principal`` (and ``StatehouseCore/CommitAttribution/principalID``) around each request, and each
/// handler calls ``authorize(_:namespace:)`` with the ``AccessCapability`` it uses: that is the one check. Without
/// auth every request is ``Principal/anonymous`` (admin everywhere) and checks cost one branch.
public final class AccessControl: Sendable {
    public struct Configuration: Sendable {
        /// Whether every request must carry a token (or, with mutual TLS, a certificate that maps to grants). The
        /// default is `false`: anyone who reaches the port may do anything.
        public var authRequired = false
        /// Where the first admin token is written (mode 0600) when auth is on and the store has no tokens yet.
        public var bootstrapTokenPath: String?
        public var quotas = QuotaConfiguration()

        public init() {}
    }

    public let configuration: Configuration
    let engine: StatehouseEngine
    let logger: Logger
    let registry = TokenRegistry()
    public let quotas: QuotaLimiter

    public init(engine: StatehouseEngine, configuration: Configuration, logger: Logger) {
        self.engine = engine
        self.configuration = configuration
        self.logger = logger
        self.quotas = QuotaLimiter(configuration: configuration.quotas, engine: engine)
    }

    public var authRequired: Bool { self.configuration.authRequired }

    /// Now on the engine's wall clock, as token times are kept.
    var nowMicros: UInt64 { UInt64(clamping: self.engine.wallClockMicroseconds) }

    // MARK: Authentication

    /// The principal a request's credentials name.
    ///
    /// - Parameters:
    ///   - authorization: the `authorization` header or metadata value (`Bearer tok_….secret`), if any.
    ///   - certificateSubject: the subject of the client certificate mutual TLS verified, if any.
    /// - Throws: ``StatehouseModel/StatehouseError/unauthenticated(_:)`` for missing, malformed, unknown, expired or
    ///   revoked credentials (the message never repeats a secret).
    public func authenticate(authorization: String?, certificateSubject: String?) async throws -> Principal {
        guard self.authRequired else { return .anonymous }
        await self.registry.loaded()
        let now = self.nowMicros
        if let authorization {
            let bearer = try Self.bearer(authorization)
            guard let stored = self.registry.token(id: bearer.id), let digest = stored.secretDigest,
                BearerToken.digestsEqual(digest, bearer.secretDigest)
            else {
                throw StatehouseError.unauthenticated("the token is not valid: unknown id or wrong secret")
            }
            try Self.requireValid(stored.token, now: now)
            return Principal(token: stored.token)
        }
        if let certificateSubject, let stored = self.registry.token(certificateSubject: certificateSubject) {
            try Self.requireValid(stored.token, now: now)
            return Principal(token: stored.token)
        }
        if let certificateSubject {
            throw StatehouseError.unauthenticated(
                "this daemon requires a token, and the client certificate '\(certificateSubject.prefix(200))' maps "
                    + "to no grants: send `authorization: Bearer TOKEN`")
        }
        throw StatehouseError.unauthenticated(
            "this daemon requires a token: send `authorization: Bearer TOKEN` (statehousectl --token, "
                + "STATEHOUSE_TOKEN)")
    }

    /// The bearer string in an `authorization` value.
    static func bearer(_ authorization: String) throws -> BearerToken {
        let trimmed = authorization.drop { $0 == " " }
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else {
            throw StatehouseError.unauthenticated(
                "the authorization value must be `Bearer TOKEN`; no other scheme is accepted")
        }
        return try BearerToken(parsing: trimmed.dropFirst(7).drop { $0 == " " })
    }

    static func requireValid(_ token: AccessToken, now: UInt64) throws {
        if token.revokedAtMicros != nil {
            throw StatehouseError.unauthenticated("token \(token.id) was revoked")
        }
        if let expiresAt = token.expiresAtMicros, now >= expiresAt {
            throw StatehouseError.unauthenticated(
                "token \(token.id) expired at \(RFC3339.text(Microseconds(clamping: expiresAt)))")
        }
    }

    // MARK: Authorization

    /// The principal of the current request: the one its transport bound, or anyone without auth.
    public func currentPrincipal() throws -> Principal {
        if let principal = AccessScope.principal { return principal }
        if let refusal = AccessScope.refusal { throw refusal }
        guard !self.authRequired else {
            // A transport that forgot to authenticate must not open the store: fail closed.
            throw StatehouseError.unauthenticated("the request was not authenticated")
        }
        return .anonymous
    }

    /// The principal of the current request, refused when its token was revoked or expired since the request (or its
    /// session) began.
    func validPrincipal() throws -> Principal {
        let principal = try self.currentPrincipal()
        try self.requireStillValid(principal)
        return principal
    }

    /// Checks a request that names an interactive transaction: the caller began it, and may commit in the namespace
    /// it writes to (`namespace`, or the transaction's, or "default" for one that bound none). A transaction that is
    /// not open (`transaction` nil) is checked against `namespace` alone; the engine then says why it is not open.
    public func authorizeTransaction(
        _ txnID: String, _ transaction: TransactionAccess?, writingTo namespace: String?
    )
        throws
    {
        guard self.authRequired else { return }
        if let owner = transaction?.owner, owner != (try self.currentPrincipal()).id {
            throw StatehouseError.permissionDenied(
                "transaction \(txnID.prefix(64)) was begun by another token; only its owner may use it")
        }
        guard let target = namespace ?? transaction.map({ $0.namespace ?? "default" }) else { return }
        try self.authorize(.commit, namespace: target)
    }

    /// Checks that the current request may use `capability` in `namespace`.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/permissionDenied(_:)`` naming the missing grant (the same message
    ///   whether the namespace exists or not); ``StatehouseModel/StatehouseError/unauthenticated(_:)`` when the
    ///   principal's token was revoked or expired since the request (or its session) began.
    public func authorize(_ capability: AccessCapability, namespace: String) throws {
        if namespace == SystemNamespace.name && capability.role > .read {
            throw StatehouseError.permissionDenied(
                "namespace '\(SystemNamespace.name)' holds Statehouse's tokens and audit trail; only the daemon writes "
                    + "it (statehousectl token ...)")
        }
        guard self.authRequired else { return }
        let principal = try self.validPrincipal()
        guard let role = principal.role(in: namespace), role >= capability.role else {
            throw StatehouseError.permissionDenied(
                "\(Self.describe(principal)) has no \(capability.role.rawValue) grant on namespace "
                    + "'\(namespace.prefix(128))' (needed to \(capability.purpose))")
        }
    }

    /// Checks that the current request may use `capability` on every namespace (a backup copies them all).
    public func authorizeEverywhere(_ capability: AccessCapability) throws {
        guard self.authRequired else { return }
        let principal = try self.validPrincipal()
        guard principal.grants.contains(where: { $0.namespacePattern == "*" && $0.role >= capability.role }) else {
            throw StatehouseError.permissionDenied(
                "\(Self.describe(principal)) has no \(capability.role.rawValue) grant on every namespace ('*'), "
                    + "needed to \(capability.purpose)")
        }
    }

    /// Checks that the current request is authenticated (for calls about the caller itself, such as WhoAmI).
    public func authorizeAuthenticated() throws {
        guard self.authRequired else { return }
        _ = try self.validPrincipal()
    }

    /// The namespaces among `namespaces` the current request may read: listings leave out the others, so that no
    /// one learns a namespace exists without a grant on it.
    public func readable(_ namespaces: [String]) throws -> [String] {
        guard self.authRequired else { return namespaces }
        let principal = try self.validPrincipal()
        return namespaces.filter { principal.role(in: $0) != nil }
    }

    /// A request of a principal whose token was revoked, or expired, after it was authenticated (a long session or
    /// watch) is refused from then on.
    func requireStillValid(_ principal: Principal) throws {
        guard !principal.isAnonymous else { return }
        guard let stored = self.registry.token(id: principal.id) else {
            throw StatehouseError.unauthenticated("token \(principal.id) no longer exists")
        }
        try Self.requireValid(stored.token, now: self.nowMicros)
    }

    static func describe(_ principal: Principal) -> String {
        principal.isAnonymous ? "the client" : "token \(principal.id)"
    }

    // MARK: Open streams

    /// Runs `body` (a watch) while the current principal stays valid: when its token is revoked or expires,
    /// `onInvalid` is called (it must make `body` end, as ending the subscription does), and this then throws
    /// ``StatehouseModel/StatehouseError/unauthenticated(_:)`` whatever `body` returned.
    public func whileValid<T>(
        onInvalid: @escaping @Sendable () -> Void, _ body: () async throws -> T
    ) async throws -> T {
        guard self.authRequired, let principal = AccessScope.principal, !principal.isAnonymous else {
            return try await body()
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.waitUntilInvalid(principal)
                if !Task.isCancelled { onInvalid() }
            }
            defer { group.cancelAll() }
            let result: T
            do {
                result = try await body()
            } catch {
                try self.requireStillValid(principal)
                throw error
            }
            try self.requireStillValid(principal)
            return result
        }
    }

    /// Returns when the principal's token is revoked or its expiry passes (or the task is cancelled).
    func waitUntilInvalid(_ principal: Principal) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.registry.waitForRevocation(of: principal.id) }
            if let expiresAt = principal.expiresAtMicros {
                group.addTask {
                    let now = self.nowMicros
                    if expiresAt > now {
                        try? await Task.sleep(for: .microseconds(Int64(clamping: expiresAt - now)))
                    }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
