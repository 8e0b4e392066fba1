public import StatehouseCore
public import StatehouseModel
import Synchronization

/// The limits each principal (or, without auth, each namespace) and each namespace may use (docs/security.md,
/// "Quotas"). Every limit is off at 0, the default.
public struct QuotaConfiguration: Sendable, Hashable {
    /// Commits per second, as a token bucket holding one second's worth (so bursts up to the rate pass at once).
    public var commitsPerSecond: Double = 0
    /// Bytes written per second (values, agent ids and keys), as a bucket of one second's worth; one commit larger
    /// than that passes when the bucket is full, and the next ones wait for the debt to be repaid.
    public var bytesPerSecond: Double = 0
    /// Bytes of stored values a namespace may hold, every version included; writes beyond it are refused, reads go on.
    public var storedBytesPerNamespace: Int = 0
    /// Bytes of artifacts (blobs) a namespace may hold; an upload beyond it is refused and nothing of it is kept.
    public var artifactBytesPerNamespace: Int = 0
    /// Interactive transactions one principal may hold open at once.
    public var openTransactions: Int = 0
    /// Watches (gRPC Watch, HTTP event streams) one principal may hold open at once.
    public var openWatches: Int = 0

    public init() {}

    public var isEmpty: Bool { self == Self() }
}

/// Enforces ``QuotaConfiguration`` for every client commit (as the engine's ``StatehouseCore/CommitAdmission``), and
/// for transactions and watches when the transports open them. Over a limit, the request fails with
/// ``StatehouseModel/StatehouseError/quotaExceeded(_:retryAfterMilliseconds:)`` before anything is written, and only
/// the principal over its limit waits: the others have buckets of their own.
public final class QuotaLimiter: CommitAdmission {
    private struct Buckets {
        var commits: TokenBucket
        var bytes: TokenBucket
    }

    private struct State {
        var buckets: [String: Buckets] = [:]
        /// Stored value bytes per namespace, counted once from the store, then kept up to date by each commit.
        var storedBytes: [String: Int] = [:]
        var watches: [String: Int] = [:]
    }

    public let configuration: QuotaConfiguration
    private let engine: StatehouseEngine
    private let state = Mutex(State())
    private let clock = ContinuousClock()
    private let epoch = ContinuousClock.now

    init(configuration: QuotaConfiguration, engine: StatehouseEngine) {
        self.configuration = configuration
        self.engine = engine
    }

    /// Whose buckets a request draws on: its token, or without auth the namespace.
    static func subject(namespace: String) -> String {
        guard let principal = AccessScope.principal, !principal.isAnonymous else { return "namespace " + namespace }
        return principal.id
    }

    /// A subject as messages name it: `token tok_…`, or `namespace NAME`.
    static func describe(_ subject: String) -> String {
        subject.hasPrefix("tok_") ? "token \(subject)" : subject
    }

    private var nowSeconds: Double {
        let elapsed = self.clock.now - self.epoch
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    // MARK: CommitAdmission

    public func admit(namespace: String, bytes: Int) async throws {
        // The daemon's own records (tokens, the audit trail) are never refused: a full quota must not keep an admin
        // from revoking a leaked token.
        guard namespace != SystemNamespace.name else { return }
        let limits = self.configuration
        if limits.storedBytesPerNamespace > 0 {
            try await self.checkStoredBytes(namespace: namespace, adding: bytes)
        }
        guard limits.commitsPerSecond > 0 || limits.bytesPerSecond > 0 else { return }
        let subject = Self.subject(namespace: namespace)
        let now = self.nowSeconds
        let wait = self.state.withLock { state -> Double? in
            var buckets =
                state.buckets[subject]
                ?? Buckets(
                    commits: TokenBucket(rate: limits.commitsPerSecond, now: now),
                    bytes: TokenBucket(rate: limits.bytesPerSecond, now: now))
            buckets.commits.refill(now: now)
            buckets.bytes.refill(now: now)
            let waitCommits = buckets.commits.wait(for: 1)
            let waitBytes = buckets.bytes.wait(for: Double(bytes))
            let wait = max(waitCommits, waitBytes)
            if wait <= 0 {
                buckets.commits.take(1)
                buckets.bytes.take(Double(bytes))
            }
            state.buckets[subject] = buckets
            return wait > 0 ? wait : nil
        }
        if let wait {
            throw StatehouseError.quotaExceeded(
                "\(Self.describe(subject)) is over its write rate (\(Self.rateText(limits))); retry after the delay",
                retryAfterMilliseconds: UInt64(max(1, (wait * 1000).rounded(.up))))
        }
    }

    public func committed(namespace: String, bytes: Int) {
        guard self.configuration.storedBytesPerNamespace > 0 else { return }
        self.state.withLock { state in
            if let stored = state.storedBytes[namespace] { state.storedBytes[namespace] = stored + bytes }
        }
    }

    private func checkStoredBytes(namespace: String, adding bytes: Int) async throws {
        var stored = self.state.withLock { $0.storedBytes[namespace] }
        if stored == nil {
            let counted = try await self.engine.storedValueBytes(namespace: namespace)
            stored = self.state.withLock { state in
                if let known = state.storedBytes[namespace] { return known }
                state.storedBytes[namespace] = counted
                return counted
            }
        }
        let limit = self.configuration.storedBytesPerNamespace
        if let stored, stored + bytes > limit {
            throw StatehouseError.quotaExceeded(
                "namespace '\(namespace)' stores \(stored) bytes of values; its quota is \(limit) bytes, so this "
                    + "write of \(bytes) bytes is refused (reads go on; a retention policy and a compaction free "
                    + "space)",
                retryAfterMilliseconds: 60_000)
        }
    }

    /// Forgets a namespace's stored-bytes count, so that the next write counts it again (after a compaction).
    public func recountStoredBytes(namespace: String) {
        self.state.withLock { _ = $0.storedBytes.removeValue(forKey: namespace) }
    }

    private static func rateText(_ limits: QuotaConfiguration) -> String {
        var parts: [String] = []
        if limits.commitsPerSecond > 0 { parts.append("\(Self.number(limits.commitsPerSecond)) commits/s") }
        if limits.bytesPerSecond > 0 { parts.append("\(Self.number(limits.bytesPerSecond)) bytes/s") }
        return parts.joined(separator: ", ")
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))" : "\(value)"
    }

    // MARK: Open transactions and watches

    /// Checks, before a transaction begins, that the current principal holds fewer than its quota open.
    public func checkOpenTransactions(namespace: String) throws {
        let limit = self.configuration.openTransactions
        guard limit > 0 else { return }
        let owner = CommitAttribution.principalID
        let open = self.engine.openTransactionCount(owner: owner)
        if open >= limit {
            throw StatehouseError.quotaExceeded(
                "\(owner.map { "token \($0)" } ?? "the client") holds \(open) open transactions, its quota; commit or "
                    + "abort one first",
                retryAfterMilliseconds: 1000)
        }
    }

    /// Takes a watch slot of the current principal for the length of `body`.
    public func withWatchSlot<T>(namespace: String, _ body: () async throws -> T) async throws -> T {
        let limit = self.configuration.openWatches
        guard limit > 0 else { return try await body() }
        let subject = Self.subject(namespace: namespace)
        let taken = self.state.withLock { state -> Bool in
            guard state.watches[subject, default: 0] < limit else { return false }
            state.watches[subject, default: 0] += 1
            return true
        }
        guard taken else {
            throw StatehouseError.quotaExceeded(
                "\(Self.describe(subject)) holds \(limit) open watches, its "
                    + "quota; end one first",
                retryAfterMilliseconds: 1000)
        }
        defer {
            self.state.withLock { state in
                state.watches[subject, default: 1] -= 1
                if state.watches[subject] == 0 { state.watches[subject] = nil }
            }
        }
        return try await body()
    }
}

/// A token bucket: `rate` tokens a second, holding at most one second's worth. A zero rate is no limit.
struct TokenBucket: Sendable {
    let rate: Double
    private(set) var tokens: Double
    private var updated: Double

    init(rate: Double, now: Double) {
        self.rate = rate
        self.tokens = rate
        self.updated = now
    }

    mutating func refill(now: Double) {
        guard self.rate > 0 else { return }
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
    }

    /// Seconds until `cost` may be taken; 0 or less: now. A cost above the capacity may be taken once the bucket is
    /// full, leaving a debt.
    func wait(for cost: Double) -> Double {
        guard self.rate > 0 else { return 0 }
        let needed = min(cost, self.rate)
        return self.tokens >= needed ? 0 : (needed - self.tokens) / self.rate
    }

    mutating func take(_ cost: Double) {
        guard self.rate > 0 else { return }
        self.tokens -= cost
    }
}
