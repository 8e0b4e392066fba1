/// The bounds every request is checked against before it can touch stored data.
///
/// Each limit has a documented default (docs/architecture.md, "Limits") and can be changed by the operator. A request
/// at a limit passes; one unit over it fails with ``StatehouseError/invalidArgument(_:)`` (or
/// ``StatehouseError/resourceExhausted(_:)`` for capacity limits) and changes nothing.
public struct EngineLimits: Sendable, Hashable {
    /// Largest JSON value in bytes. The default is 1 MiB.
    public var maxValueBytes: Int = 1 << 20
    /// Longest key in UTF-8 bytes. The default is 1024.
    public var maxKeyBytes: Int = 1024
    /// Longest agent id in UTF-8 bytes. The default is 256.
    public var maxAgentIDBytes: Int = 256
    /// Longest namespace in characters of `[A-Za-z0-9._-]`. The default is 128.
    public var maxNamespaceLength: Int = 128
    /// Most operations (distinct keys written) in one transaction. The default is 10,000.
    public var maxOperationsPerTransaction: Int = 10_000
    /// Most bytes (agent ids + keys + values) written by one transaction. The default is 16 MiB.
    public var maxTransactionBytes: Int = 16 << 20
    /// Most interactive transactions open at once. The default is 10,000.
    public var maxOpenTransactions: Int = 10_000
    /// Timeout of an interactive transaction that asks for none. The default is 30 seconds.
    public var defaultTransactionTimeout: Duration = .seconds(30)
    /// Longest timeout a transaction may ask for. The default is 10 minutes.
    public var maxTransactionTimeout: Duration = .seconds(600)
    /// Deepest nesting of arrays and objects in a JSON value. The default is 512.
    ///
    /// Not in the original list of limits: it exists so that no client library (Python's `json` among them)
    /// fails to decode a value that Statehouse accepted.
    public var maxJSONDepth: Int = 512
    /// Most concurrent watch subscribers. The default is 10,000.
    public var maxWatchers: Int = 10_000
    /// Most committed events buffered for one watch subscriber before it is ended as too slow. The default is 4,096.
    public var watchBufferEvents: Int = 4096
    /// Longest metadata string (actor, reason, a tag key or value) in UTF-8 bytes. The default is 4096.
    public var maxMetadataStringBytes: Int = 4096
    /// Most metadata tags on one transaction. The default is 64.
    public var maxMetadataTags: Int = 64
    /// Longest idempotency key in UTF-8 bytes. The default is 256.
    public var maxIdempotencyKeyBytes: Int = 256
    /// Largest page a paginated read returns. The default is 10,000 items.
    public var maxPageSize: Int = 10_000

    public init() {}
}
