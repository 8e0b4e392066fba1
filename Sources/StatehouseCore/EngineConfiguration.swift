/// Settings of a ``StatehouseEngine`` that are not limits.
public struct EngineConfiguration: Sendable {
    /// Request limits. See ``StatehouseModel/EngineLimits``.
    public var limits = EngineLimits()
    /// Most transactions the commit pipeline puts into one storage transaction (one fsync). The default is 4,096.
    public var maxBatchTransactions: Int = 4096
    /// How often expired interactive transactions are reaped. The default is one second.
    public var reapInterval: Duration = .seconds(1)
    /// How often expired snapshots are deleted (one commit per namespace that has any). The default is one minute.
    public var snapshotSweepInterval: Duration = .seconds(60)
    /// The retention policy of namespaces that have none of their own (`SetRetention`). The default keeps everything.
    public var defaultRetention = RetentionPolicy.keepEverything
    /// How often every namespace is compacted (values its policy no longer keeps and those of expired keys removed).
    /// The default is ten minutes; zero turns the background compaction off (`Compact` still runs one).
    public var compactionInterval: Duration = .seconds(600)
    /// How often keys whose expiry passed get their delete committed (reads already leave them out). The default is
    /// one second.
    public var expirySweepInterval: Duration = .seconds(1)
    /// Most values one compaction step removes in one storage transaction; commits wait behind one step at most.
    /// The default is 128 (with the pause below: commit p99 about 1.6x during a compaction at 64 committers,
    /// docs/benchmarks.md, "Retention").
    public var compactionStepSize = 128
    /// How long a compaction waits between steps, leaving the writer to commits. The default is 10 ms.
    public var compactionPause: Duration = .milliseconds(10)
    /// How many finished transaction ids are remembered to give precise errors (aborted, expired, failed).
    /// The default is 65,536.
    public var finishedTransactionMemory: Int = 65_536
    /// The key that signs tree heads. The daemon loads or creates one in the data directory; without one the engine
    /// makes a random key that lives as long as the engine (tests and in-memory stores).
    public var signer: TreeHeadSigner?

    public init() {}

    /// Returns the defaults changed by `configure`.
    public static func defaults(configure: (inout Self) -> Void) -> Self {
        var configuration = Self()
        configure(&configuration)
        return configuration
    }
}
