/// Who may do what: roles, grants and tokens (docs/security.md, "Roles" and "Tokens").
///
/// These are plain values shared by the daemon, the clients and the CLI; the daemon's enforcement lives in
/// `StatehouseAccess`.

/// What a principal may do in a namespace. Each role includes the ones before it.
public enum AccessRole: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Get, list, scan, history, replay, watch, verify, proofs, search.
    case read
    /// Read, plus commits, transactions, agent records, snapshots, restore, fork, events, sessions and tasks.
    case write
    /// Write, plus tokens, retention, compaction, backup and import.
    case admin

    private var rank: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .admin: 2
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }

    /// The role a name spells (`read`, `write`, `admin`); anything else is an invalid argument naming them.
    public static func parse(_ text: String) throws -> Self {
        guard let role = Self(rawValue: text) else {
            throw StatehouseError.invalidArgument("role '\(text.prefix(32))' is not one of read, write, admin")
        }
        return role
    }
}

/// A role on the namespaces a pattern matches.
///
/// Patterns: a namespace name (`prod`: that namespace only), a prefix followed by `*` (`prod-*`: `prod-1`, `prod-eu`,
/// but not `prod`), or `*` (every namespace, the system namespace included).
public struct AccessGrant: Sendable, Hashable, CustomStringConvertible {
    public var namespacePattern: String
    public var role: AccessRole

    /// Checks the pattern's syntax: what may be in a namespace name, with at most one `*`, at the end.
    public init(namespacePattern: String, role: AccessRole) throws {
        let stem = namespacePattern.hasSuffix("*") ? String(namespacePattern.dropLast()) : namespacePattern
        guard !stem.contains("*") else {
            throw StatehouseError.invalidArgument(
                "namespace pattern '\(namespacePattern.prefix(64))' may have one '*', at its end")
        }
        if !stem.isEmpty {
            try NameValidation.validateNamespace(stem, limits: EngineLimits())
        } else if namespacePattern.isEmpty {
            throw StatehouseError.invalidArgument("namespace pattern must not be empty (use '*' for every namespace)")
        }
        self.namespacePattern = namespacePattern
        self.role = role
    }

    /// A role on every namespace (`*`).
    public init(everyNamespace role: AccessRole) {
        self.namespacePattern = "*"
        self.role = role
    }

    /// Parses `PATTERN:ROLE` (`prod-*:write`), the form the CLI and the configuration take.
    public init(parsing text: String) throws {
        guard let colon = text.lastIndex(of: ":") else {
            throw StatehouseError.invalidArgument(
                "grant '\(text.prefix(64))' must be PATTERN:ROLE, for example 'prod-*:write' or '*:read'")
        }
        try self.init(
            namespacePattern: String(text[..<colon]), role: AccessRole.parse(String(text[text.index(after: colon)...])))
    }

    /// Whether the pattern matches a namespace.
    public func matches(_ namespace: String) -> Bool {
        Self.pattern(self.namespacePattern, matches: namespace)
    }

    /// Whether every namespace `other` matches is matched by this grant's pattern too.
    public func covers(pattern other: String) -> Bool {
        guard self.namespacePattern.hasSuffix("*") else { return self.namespacePattern == other }
        return other.hasPrefix(self.namespacePattern.dropLast())
    }

    static func pattern(_ pattern: String, matches namespace: String) -> Bool {
        guard pattern.hasSuffix("*") else { return pattern == namespace }
        return namespace.hasPrefix(pattern.dropLast())
    }

    public var description: String { "\(self.namespacePattern):\(self.role.rawValue)" }
}

extension Array where Element == AccessGrant {
    /// The highest role these grants give in a namespace; `nil` when none matches.
    public func role(in namespace: String) -> AccessRole? {
        var best: AccessRole?
        for grant in self where grant.matches(namespace) {
            if best == nil || best! < grant.role { best = grant.role }
        }
        return best
    }
}

/// A token (or certificate principal) as the daemon keeps it: never its secret.
public struct AccessToken: Sendable, Hashable {
    /// `tok_` and 16 hex digits; also the first part of the bearer string.
    public var id: String
    /// A label for people; need not be unique.
    public var name: String
    public var grants: [AccessGrant]
    public var createdAtMicros: UInt64
    public var expiresAtMicros: UInt64?
    public var revokedAtMicros: UInt64?
    /// The principal that created it (`bootstrap` for the first admin token).
    public var createdBy: String
    /// Set for a certificate principal: a client certificate with exactly this subject gets the grants.
    public var certificateSubject: String?

    public init(
        id: String, name: String, grants: [AccessGrant], createdAtMicros: UInt64, expiresAtMicros: UInt64? = nil,
        revokedAtMicros: UInt64? = nil, createdBy: String, certificateSubject: String? = nil
    ) {
        self.id = id
        self.name = name
        self.grants = grants
        self.createdAtMicros = createdAtMicros
        self.expiresAtMicros = expiresAtMicros
        self.revokedAtMicros = revokedAtMicros
        self.createdBy = createdBy
        self.certificateSubject = certificateSubject
    }

    /// Whether it authenticates at a wall-clock time: not revoked, and not past its expiry.
    public func isValid(atMicros now: UInt64) -> Bool {
        self.revokedAtMicros == nil && (self.expiresAtMicros.map { now < $0 } ?? true)
    }
}

/// What `WhoAmI` answers: the principal a request was taken for.
public struct AccessIdentity: Sendable, Hashable {
    /// The token id, `cert:SUBJECT`'s token id for a certificate principal, or `anonymous` without auth.
    public var principalID: String
    public var name: String
    public var grants: [AccessGrant]
    public var authRequired: Bool

    public init(principalID: String, name: String, grants: [AccessGrant], authRequired: Bool) {
        self.principalID = principalID
        self.name = name
        self.grants = grants
        self.authRequired = authRequired
    }
}

/// The namespace that holds Statehouse's own records: tokens (under ``tokensAgent``) and the audit trail of admin
/// actions (under ``auditAgent``). Its agents are reserved, so no client commit can write them.
public enum SystemNamespace {
    public static let name = "_statehouse"
    /// One record per token, key = the token id.
    public static let tokensAgent = "@tokens"
    /// One record per admin action that is not a commit of its own (backup, compaction, import), key = a
    /// time-ordered id.
    public static let auditAgent = "@audit"
    /// The commit metadata tag that names the principal that made a commit; set by the daemon, never by a client.
    public static let principalTag = "statehouse.principal"
}
