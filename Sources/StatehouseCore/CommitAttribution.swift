public import StatehouseModel
import Synchronization

/// Who the commits of the current task are made for.
///
/// The service layer (gRPC, HTTP, MCP) binds the principal it authenticated around each request; the engine writes it
/// into the metadata of every commit the request makes, as the tag ``StatehouseModel/SystemNamespace/principalTag``.
/// A client cannot set that tag itself (its commit is refused), so the tag is a record of who made each commit that
/// the hash chain then protects. Without auth nothing is bound and no tag is written.
public enum CommitAttribution {
    /// The principal's id (a token id), or `nil` when the daemon runs without auth.
    @TaskLocal public static var principalID: String?
}

extension StatehouseEngine {
    /// Validates metadata a client sent: the limits of ``validate(_:)``, and no principal tag (only the daemon sets
    /// it).
    func validateClientMetadata(_ metadata: CommitMetadata) throws {
        try self.validate(metadata)
        guard metadata.tags[SystemNamespace.principalTag] == nil else {
            throw StatehouseError.invalidArgument(
                "metadata tag '\(SystemNamespace.principalTag)' is set by the daemon to the token that made the "
                    + "commit; a client cannot set it")
        }
    }

    /// The metadata a commit is stored with: the caller's, plus the principal bound by ``CommitAttribution``.
    func attributed(_ metadata: CommitMetadata) -> CommitMetadata {
        guard let principal = CommitAttribution.principalID else { return metadata }
        var metadata = metadata
        metadata.tags[SystemNamespace.principalTag] = principal
        return metadata
    }
}

/// What an access check needs of an open transaction.
public struct TransactionAccess: Sendable, Hashable {
    /// The namespace it writes to; `nil` until its first write names one (the original API's transactions).
    public var namespace: String?
    /// The principal that began it; `nil` without auth.
    public var owner: String?
}

extension StatehouseEngine {
    /// The namespace and owner of an open transaction, for the access check of a request that names it; `nil` when it
    /// is not open (the request then fails as it would without auth: not found, expired, already committed).
    public func transactionAccess(txnID: String) -> TransactionAccess? {
        self.transactions.withState { $0.access(of: txnID) }
    }

    /// How many open transactions a principal began (`nil`: all of them). Counts by walking the open transactions.
    public func openTransactionCount(owner: String?) -> Int {
        self.transactions.withState { $0.openCount(owner: owner) }
    }
}

/// A check every commit a client asks for passes before it is submitted, and hears of after it committed: where the
/// daemon's quotas (docs/security.md, "Quotas") hook in, so that every path to a commit (one-shot, transaction,
/// restore, fork, events, agent records) is counted once and in one place. Imports are not counted.
public protocol CommitAdmission: Sendable {
    /// Throws to refuse the commit; nothing is written then. `bytes` is what its writes store (values, agent ids, keys).
    func admit(namespace: String, bytes: Int) async throws
    /// The commit was made (or returned the result of an earlier one with the same idempotency key).
    func committed(namespace: String, bytes: Int)
}

extension StatehouseEngine {
    /// Installs the check every client commit passes (the daemon's quotas); `nil` removes it.
    public func setCommitAdmission(_ admission: (any CommitAdmission)?) {
        self.admission.withLock { $0 = admission }
    }

    /// The engine's wall clock, in microseconds since 1970 (what commit times and expiries use).
    public var wallClockMicroseconds: Microseconds { self.clock.wallMicroseconds() }

    /// Submits a client's commit through the admission check.
    func admitted(_ request: CommitRequest) async throws -> CommitResult {
        guard let admission = self.admission.withLock({ $0 }) else { return try await self.pipeline.submit(request) }
        let bytes = request.operations.reduce(0) { $0 + $1.accountedBytes }
        try await admission.admit(namespace: request.namespace, bytes: bytes)
        let result = try await self.pipeline.submit(request)
        admission.committed(namespace: request.namespace, bytes: bytes)
        return result
    }
}
