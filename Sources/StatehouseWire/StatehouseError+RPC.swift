public import GRPCCore
public import StatehouseModel
package import StatehouseProto

/// The one mapping between ``StatehouseModel/StatehouseError`` and gRPC statuses, both ways (docs/architecture.md,
/// "Errors").
///
/// Services throw `StatehouseError` as is; grpc-swift turns it into a status with ``rpcErrorCode``, the error's
/// one-line client-safe description and ``rpcErrorMetadata``: the reason (`statehouse-error`, the case's stable name)
/// and the structured facts of the case. Clients map back with ``Wire/error(_:)``, keyed on the reason, never on the
/// message; a status without a reason did not come from Statehouse's code (the connection failed, a proxy answered).
extension StatehouseError: RPCErrorConvertible {
    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .invalidArgument: .invalidArgument
        case .transactionNotFound, .notFound: .notFound
        case .transactionExpired, .failedPrecondition: .failedPrecondition
        case .conflict: .aborted  // re-read, then retry
        case .resourceExhausted, .subscriberTooSlow, .quotaExceeded: .resourceExhausted
        case .unauthenticated: .unauthenticated
        case .permissionDenied: .permissionDenied
        case .unavailable: .unavailable
        case .dataCorruption: .dataLoss
        case .internalError: .internalError
        }
    }

    public var rpcErrorMessage: String { self.description }

    public var rpcErrorMetadata: Metadata {
        var metadata: Metadata = [WireErrorKeys.reason: "\(self.reason)"]
        for (key, value) in self.wireDetails { metadata.addString(value, forKey: key) }
        return metadata
    }

    /// The case's associated facts, keyed as trailing metadata (and `SessionError.details`).
    package var wireDetails: [(String, String)] {
        switch self {
        case .subscriberTooSlow(let resumeFrom):
            return [(WireErrorKeys.resumeFrom, "\(resumeFrom)")]
        case .conflict(let agentID, let key, let expected, let actual):
            var details = [(WireErrorKeys.conflictAgentID, agentID), (WireErrorKeys.conflictKey, key)]
            if let expected { details.append((WireErrorKeys.conflictExpected, "\(expected)")) }
            if let actual { details.append((WireErrorKeys.conflictActual, "\(actual)")) }
            return details
        case .dataCorruption(let commitTS, let reason):
            return [(WireErrorKeys.corruptCommitTS, "\(commitTS)"), (WireErrorKeys.corruptReason, reason)]
        case .quotaExceeded(_, let retryAfterMilliseconds):
            // retry-after in whole seconds, rounded up, as HTTP's Retry-After; the exact delay beside it.
            return [
                (WireErrorKeys.retryAfter, "\((retryAfterMilliseconds + 999) / 1000)"),
                (WireErrorKeys.retryAfterMilliseconds, "\(retryAfterMilliseconds)"),
            ]
        default:
            return []
        }
    }
}

/// Trailing metadata keys of an error (docs/api.md, "Errors").
package enum WireErrorKeys {
    package static let reason = "statehouse-error"
    package static let resumeFrom = "statehouse-resume-from"
    package static let conflictAgentID = "statehouse-conflict-agent-id"
    package static let conflictKey = "statehouse-conflict-key"
    package static let conflictExpected = "statehouse-conflict-expected"
    package static let conflictActual = "statehouse-conflict-actual"
    package static let corruptCommitTS = "statehouse-corrupt-commit-ts"
    package static let corruptReason = "statehouse-corrupt-reason"
    package static let retryAfter = "retry-after"
    package static let retryAfterMilliseconds = "statehouse-retry-after-ms"
}

extension Wire {
    /// The error a session request ended with, as its `SessionError`: the status a unary call would have had.
    package static func sessionError(_ error: any Error) -> Statehouse_V2_SessionError {
        var failure = Statehouse_V2_SessionError()
        if let error = error as? StatehouseError {
            failure.code = Int32(error.rpcErrorCode.rawValue)
            failure.message = error.rpcErrorMessage
            failure.reason = error.reason
            failure.details = Dictionary(error.wireDetails, uniquingKeysWith: { first, _ in first })
        } else if let error = error as? RPCError {
            failure.code = Int32(error.code.rawValue)
            failure.message = error.message
        } else {
            failure.code = Int32(RPCError.Code.internalError.rawValue)
            failure.message = "internal error"
        }
        return failure
    }

    /// The `StatehouseError` a failed call reports, or nil when the status does not come from Statehouse (no
    /// `statehouse-error` reason: a transport failure, a deadline, a proxy), which the caller describes itself.
    package static func error(_ error: RPCError) -> StatehouseError? {
        let metadata = error.metadata
        func first(_ key: String) -> String? { metadata[stringValues: key].first(where: { _ in true }) }
        guard let reason = first(WireErrorKeys.reason) else { return nil }
        return self.error(reason: reason, message: error.message, detail: first)
    }

    /// The `StatehouseError` of a failed session request; nil as for ``error(_:)``.
    package static func error(_ failure: Statehouse_V2_SessionError) -> StatehouseError? {
        guard !failure.reason.isEmpty else { return nil }
        return self.error(reason: failure.reason, message: failure.message, detail: { failure.details[$0] })
    }

    private static func error(reason: String, message: String, detail: (String) -> String?) -> StatehouseError {
        switch reason {
        case "invalid_argument": return .invalidArgument(message)
        case "transaction_not_found": return .transactionNotFound(message)
        case "not_found": return .notFound(message)
        case "transaction_expired": return .transactionExpired(message)
        case "failed_precondition": return .failedPrecondition(message)
        case "conflict":
            return .conflict(
                agentID: detail(WireErrorKeys.conflictAgentID) ?? "",
                key: detail(WireErrorKeys.conflictKey) ?? "",
                expected: detail(WireErrorKeys.conflictExpected).flatMap { Version($0) },
                actual: detail(WireErrorKeys.conflictActual).flatMap { Version($0) }
            )
        case "resource_exhausted": return .resourceExhausted(message)
        case "quota_exceeded":
            return .quotaExceeded(
                message,
                retryAfterMilliseconds: detail(WireErrorKeys.retryAfterMilliseconds).flatMap { UInt64($0) } ?? 1000)
        case "unauthenticated": return .unauthenticated(message)
        case "permission_denied": return .permissionDenied(message)
        case "subscriber_too_slow":
            return .subscriberTooSlow(resumeFrom: detail(WireErrorKeys.resumeFrom).flatMap { CommitTS($0) } ?? 0)
        case "unavailable": return .unavailable(message)
        case "data_corruption":
            return .dataCorruption(
                commitTS: detail(WireErrorKeys.corruptCommitTS).flatMap { CommitTS($0) } ?? 0,
                reason: detail(WireErrorKeys.corruptReason) ?? message
            )
        case "internal": return .internalError(message)
        default:
            // A reason from a newer daemon: keep the message, classified as unexpected.
            return .internalError(message)
        }
    }
}
