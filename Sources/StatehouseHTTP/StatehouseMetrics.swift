import CoreMetrics
import Foundation
public import Prometheus

/// The daemon's Prometheus registry, installed as swift-metrics' backend once per process, and the gauges read at
/// each scrape (docs/operations.md, "Metrics").
///
/// The engine, the SQLite store and both listeners count through swift-metrics; ``bootstrap()`` must run before the
/// engine is created, or its handles stay on the no-op backend. A process bootstraps at most once (swift-metrics'
/// rule), so the registry is a process-wide singleton.
public final class StatehouseMetrics: Sendable {
    public static let shared = StatehouseMetrics()

    public let registry: PrometheusCollectorRegistry

    /// Values sampled when `/metrics` is scraped.
    public struct Gauges: Sendable {
        public var openTransactions: @Sendable () -> Int
        public var watchers: @Sendable () -> Int
        public var sessions: @Sendable () -> Int
        /// The data directory's database file, or nil in memory and on PostgreSQL.
        public var databasePath: String?
        /// The database's size when it is not a file here (PostgreSQL: `pg_database_size`); nil when there is none.
        public var databaseSize: (@Sendable () async -> Int?)?

        public init(
            openTransactions: @escaping @Sendable () -> Int, watchers: @escaping @Sendable () -> Int,
            sessions: @escaping @Sendable () -> Int, databasePath: String?,
            databaseSize: (@Sendable () async -> Int?)? = nil
        ) {
            self.openTransactions = openTransactions
            self.watchers = watchers
            self.sessions = sessions
            self.databasePath = databasePath
            self.databaseSize = databaseSize
        }
    }

    private let openTransactions: Prometheus.Gauge
    private let watchers: Prometheus.Gauge
    private let sessions: Prometheus.Gauge
    private let databaseBytes: Prometheus.Gauge
    private let walBytes: Prometheus.Gauge

    private init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        MetricsSystem.bootstrap(factory)
        func gauge(_ name: String, unit: String = "", _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "statehouse", metricName: name, unitName: unit, helpText: help))
        }
        self.openTransactions = gauge("open_transactions", "Interactive transactions open now.")
        self.watchers = gauge("watchers", "Watch subscriptions now (gRPC and HTTP).")
        self.sessions = gauge("sessions", "Open gRPC Session streams.")
        self.databaseBytes = gauge(
            "database", unit: "bytes", "Size of the SQLite database file, or of the PostgreSQL database.")
        self.walBytes = gauge("wal", unit: "bytes", "Size of the SQLite write-ahead log.")
    }

    /// Installs the registry as swift-metrics' backend (once; later calls do nothing).
    public static func bootstrap() {
        _ = Self.shared
    }

    /// The Prometheus text exposition, gauges sampled now.
    func scrape(_ gauges: Gauges) async -> [UInt8] {
        self.openTransactions.set(Double(gauges.openTransactions()))
        self.watchers.set(Double(gauges.watchers()))
        self.sessions.set(Double(gauges.sessions()))
        if let path = gauges.databasePath {
            self.databaseBytes.set(Double(Self.fileSize(path)))
            self.walBytes.set(Double(Self.fileSize(path + "-wal")))
        } else if let size = gauges.databaseSize, let bytes = await size() {
            // A database the daemon could not measure keeps its last size rather than dropping to 0.
            self.databaseBytes.set(Double(bytes))
        }
        return self.registry.emitToBuffer()
    }

    private static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }
}
