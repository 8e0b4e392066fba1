/// The one error type of Statehouse.
///
/// Every failure a caller can see is one of these cases, so that the gRPC layer maps each case to exactly one
/// status code and the SDKs map that code back to the same case. Messages are written for the user and never
/// contain SQL, file paths of the server or stored values.
public enum StatehouseError: Error, Sendable, Equatable, Hashable {
    /// The request is malformed or over a limit; nothing was changed.
    case invalidArgument(String)
    /// The named transaction does not exist (never began, already finished, or forgotten after a restart).
    case transactionNotFound(String)
    /// What a request names does not exist: a namespace without commits asked to verify, for example. (A key that
    /// does not exist is a normal read result, never this error.)
    case notFound(String)
    /// The transaction outlived its timeout; it was rolled back.
    case transactionExpired(String)
    /// A key the transaction read or made a condition on changed before the commit; nothing was applied.
    ///
    /// `expected` and `actual` are key versions; `nil` means "no version" (the key was never written).
    case conflict(agentID: String, key: String, expected: Version?, actual: Version?)
    /// What the request needs is no longer there: a version whose value the retention policy removed.
    case failedPrecondition(String)
    /// A capacity limit (open transactions, watchers, disk space) was reached; retry later.
    case resourceExhausted(String)
    /// A quota of the caller's token or of the namespace is used up (docs/security.md, "Quotas"); nothing was
    /// changed. Retry after `retryAfterMilliseconds`.
    case quotaExceeded(String, retryAfterMilliseconds: UInt64)
    /// The request carries no credentials, or ones that do not authenticate: malformed, unknown, expired or revoked.
    case unauthenticated(String)
    /// The caller's grants do not give the role the request needs; the message names the missing grant.
    case permissionDenied(String)
    /// A watch subscriber fell too far behind the live log and was ended; resume from `resumeFrom`.
    case subscriberTooSlow(resumeFrom: CommitTS)
    /// The engine is shutting down or the store cannot serve now.
    case unavailable(String)
    /// Stored history does not verify; `commitTS` is the first bad position.
    case dataCorruption(commitTS: CommitTS, reason: String)
    /// An unexpected failure; the message is safe to show to clients.
    case internalError(String)
}

extension StatehouseError: CustomStringConvertible {
    /// One sentence a user can act on.
    public var description: String {
        switch self {
        case .invalidArgument(let message):
            return message
        case .transactionNotFound(let message):
            return message
        case .notFound(let message):
            return message
        case .transactionExpired(let message):
            return message
        case .conflict(let agentID, "", let expected?, let actual?):
            // A scope condition (ScopeCondition): the agent, or the namespace when agentID is empty, was written
            // after the state it was read at; expected and actual are commit_ts values then.
            return (agentID.isEmpty ? "conflict on the namespace" : "conflict on agent '\(agentID)'")
                + ": written at commit_ts \(actual), after the state read at commit_ts \(expected); re-read and retry"
        case .conflict(let agentID, let key, let expected, let actual):
            return "conflict on agent '\(agentID)' key '\(key)': expected \(Self.describe(expected)), "
                + "found \(Self.describe(actual)); re-read and retry"
        case .failedPrecondition(let message):
            return message
        case .resourceExhausted(let message):
            return message
        case .quotaExceeded(let message, _):
            return message
        case .unauthenticated(let message):
            return message
        case .permissionDenied(let message):
            return message
        case .subscriberTooSlow(let resumeFrom):
            return "watch subscriber fell too far behind the log and was ended; resume from commit_ts \(resumeFrom)"
        case .unavailable(let message):
            return message
        case .dataCorruption(let commitTS, let reason):
            // commit_ts 0: the store found damage that no single commit owns (a corrupt page, for example).
            return commitTS == 0
                ? "stored data is corrupt: \(reason)" : "history does not verify at commit_ts \(commitTS): \(reason)"
        case .internalError(let message):
            return message
        }
    }

    private static func describe(_ version: Version?) -> String {
        guard let version else { return "no version (key absent)" }
        return "version \(version)"
    }
}

extension StatehouseError {
    /// The case's stable name on the wire (`statehouse-error` trailing metadata, `SessionError.reason`): what
    /// clients map on, never the message text. docs/api.md, "Errors", lists them.
    public var reason: String {
        switch self {
        case .invalidArgument: "invalid_argument"
        case .transactionNotFound: "transaction_not_found"
        case .notFound: "not_found"
        case .transactionExpired: "transaction_expired"
        case .conflict: "conflict"
        case .failedPrecondition: "failed_precondition"
        case .resourceExhausted: "resource_exhausted"
        case .quotaExceeded: "quota_exceeded"
        case .unauthenticated: "unauthenticated"
        case .permissionDenied: "permission_denied"
        case .subscriberTooSlow: "subscriber_too_slow"
        case .unavailable: "unavailable"
        case .dataCorruption: "data_corruption"
        case .internalError: "internal"
        }
    }
}
