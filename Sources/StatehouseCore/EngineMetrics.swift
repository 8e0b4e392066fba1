import CoreMetrics
import Synchronization

/// What the engine counts and times, through swift-metrics: the daemon bootstraps a Prometheus backend and serves it
/// at `/metrics`; any other embedder gets swift-metrics' no-op backend (or its own) at no measurable cost.
///
/// Names follow Prometheus conventions (docs/operations.md, "Metrics"). The handles are made once, when the engine is
/// created, so that the hot path only increments them.
struct EngineMetrics: Sendable {
    /// Transactions committed (one per commit_ts).
    let commits: CoreMetrics.Counter
    /// Time from a commit's arrival at the pipeline to its result (durable or failed), in seconds.
    let commitDuration: CoreMetrics.Timer
    /// Transactions per storage transaction (one fsync): how much group commit is sharing.
    let batchSize: CoreMetrics.Recorder
    /// Failed commits by error reason, one counter per reason made on first use.
    private let commitErrors: [String: CoreMetrics.Counter]
    /// Reads by kind (get, get_many, scan, list_keys, history, log, verify).
    private let reads: [ReadKind: CoreMetrics.Counter]
    /// Events read from the log (replay, export, follow's catch-up pages).
    let replayEvents: CoreMetrics.Counter

    enum ReadKind: String, CaseIterable, Sendable {
        case get
        case getMany = "get_many"
        case scan
        case listKeys = "list_keys"
        case history, log, verify
    }

    static let errorReasons = [
        "invalid_argument", "transaction_not_found", "not_found", "transaction_expired", "conflict",
        "failed_precondition", "resource_exhausted", "quota_exceeded", "unauthenticated", "permission_denied",
        "subscriber_too_slow", "unavailable", "data_corruption", "internal",
    ]

    init() {
        self.commits = CoreMetrics.Counter(label: "statehouse_commits_total")
        self.commitDuration = CoreMetrics.Timer(label: "statehouse_commit_duration_seconds")
        self.batchSize = CoreMetrics.Recorder(label: "statehouse_commit_batch_size", aggregate: true)
        var errors: [String: CoreMetrics.Counter] = [:]
        for reason in Self.errorReasons {
            errors[reason] = CoreMetrics.Counter(
                label: "statehouse_commit_errors_total", dimensions: [("reason", reason)])
        }
        self.commitErrors = errors
        var reads: [ReadKind: CoreMetrics.Counter] = [:]
        for kind in ReadKind.allCases {
            reads[kind] = CoreMetrics.Counter(label: "statehouse_reads_total", dimensions: [("kind", kind.rawValue)])
        }
        self.reads = reads
        self.replayEvents = CoreMetrics.Counter(label: "statehouse_replay_events_total")
    }

    func commitFailed(_ error: any Error) {
        let reason = (error as? StatehouseError)?.reason ?? "internal"
        self.commitErrors[reason]?.increment()
    }

    func replayed(_ events: Int) {
        if events > 0 { self.replayEvents.increment(by: events) }
    }

    func read(_ kind: ReadKind) {
        self.reads[kind]?.increment()
    }
}

/// Metric handles made on first use, one per label set (a route, a method, a method and code): the listeners' metrics
/// have labels known only when a request arrives, and a handle must not be made per request.
public final class MetricHandleCache<Handle: Sendable>: Sendable {
    private let handles = Mutex<[String: Handle]>([:])

    public init() {}

    /// The handle for `key`, made by `make` the first time.
    public func handle(_ key: String, make: () -> Handle) -> Handle {
        self.handles.withLock { handles in
            if let handle = handles[key] { return handle }
            let handle = make()
            handles[key] = handle
            return handle
        }
    }
}
