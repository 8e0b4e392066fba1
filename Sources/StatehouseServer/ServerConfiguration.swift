public import Foundation
public import Logging
public import StatehouseAccess
public import StatehouseCore
public import StatehouseMCP
public import StatehouseModel
public import StatehousePostgres
public import StatehouseSQLite

/// Everything `statehoused` can be configured with.
///
/// Flags, environment variables (`STATEHOUSE_*`) and an optional config file only fill this struct; see
/// ``ServerSettings`` for the names and ``ServerConfiguration/load(arguments:environment:)`` for the precedence.
public struct ServerConfiguration: Sendable {
    /// The address the gRPC server listens on. The default is 127.0.0.1:50051 (loopback only).
    public var host = "127.0.0.1"
    public var port = 50051
    /// Where the SQLite store lives. The default is `./statehouse-data`.
    public var dataDirectory = "./statehouse-data"
    /// Keep everything in memory (nothing on disk). The default is `false`.
    public var useMemory = false
    /// Where state lives: the embedded SQLite store (the default) or a PostgreSQL database several daemons share.
    public var backend: Backend = .sqlite
    /// The PostgreSQL database of ``Backend/postgres``: `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…]`.
    public var postgresURL: String?
    /// A file whose first line is the PostgreSQL password (else `STATEHOUSE_POSTGRES_PASSWORD`, else the URL's).
    public var postgresPasswordFile: String?
    /// The most PostgreSQL connections this daemon opens. The default is 20.
    public var postgresMaxConnections = 20
    /// How long a request waits for PostgreSQL before it fails with UNAVAILABLE (and how long startup waits for the
    /// database). The default is 30 seconds.
    public var postgresRequestTimeout: Duration = .seconds(30)
    /// The default is ``StatehouseSQLite/SQLiteConfiguration/Durability/full`` (fsync before every acknowledgement).
    public var durability: SQLiteConfiguration.Durability = .full
    /// Read connections of the SQLite store. The default is 2.
    public var readerThreads = 2
    /// Page cache of each SQLite connection, in MiB. The default is 64.
    ///
    /// Each connection's cache fills as it touches more of the database and is kept, so it is the main term of the
    /// daemon's memory: about (``readerThreads`` + 1) × this, plus ~100 MiB (docs/reliability.md, "Soak").
    public var cacheMiB = 64
    /// Check the database file's integrity at startup. The default is `true`.
    public var startupCheck = true
    /// Index the string values of state writes for full-text search. The default is `false` (events and commit
    /// metadata are always indexed); see ``StatehouseSQLite/SQLiteConfiguration/searchState``.
    public var searchState = false
    /// Engine limits and settings.
    public var engine = EngineConfiguration()
    /// Largest gRPC message accepted. The default is 32 MiB.
    public var maxMessageBytes = 32 << 20
    /// The default is `info`.
    public var logLevel: Logger.Level = .info
    /// Text for people, JSON lines for log collectors. The default is text.
    public var logFormat: LogFormat = .text
    /// How long in-flight RPCs may run once shutdown begins. The default is 30 seconds.
    public var shutdownGracePeriod: Duration = .seconds(30)
    /// The Ed25519 key (PEM "PRIVATE KEY") that signs tree heads. The default is `ledger-signing-key.pem` in the data
    /// directory, created on first start.
    public var signingKeyPath: String?
    /// Time every gRPC call by method (`statehouse_rpc_duration_seconds`, `statehouse_rpc_errors_total`). The default
    /// is `true`; the interceptor costs about 11 µs of daemon CPU per unary call (docs/benchmarks.md).
    public var rpcMetrics = true
    /// Answer plain unary calls straight from their HTTP/2 frames (``UnaryFastPathHandler``) instead of through
    /// grpc-swift's per-call machinery. The default is `true`; responses are the same either way, so `false` is for
    /// comparing the two. With mutual TLS (``tlsClientCAPath``) both paths read a call's client certificate.
    public var grpcDirectUnary = true
    /// Where the HTTP API, probes, metrics and console listen; `nil` serves no HTTP. The default is 127.0.0.1:8080.
    public var httpListen: HostAndPort? = HostAndPort(host: "127.0.0.1", port: 8080)
    /// Seconds between `: keep-alive` comments on an idle HTTP watch stream. The default is 15 s.
    public var httpSSEKeepAlive: Duration = .seconds(15)
    /// TLS for both listeners: the server's certificate chain and private key (PEM files); both or neither. Unset, the
    /// default, serves plaintext.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// Clients must present a certificate signed by one of these CAs (PEM); needs ``tlsCertificatePath``.
    public var tlsClientCAPath: String?
    /// Whether every request must carry a token (`auth required`); the default, `false`, lets anyone who reaches a
    /// port do anything (docs/security.md).
    public var authRequired = false
    /// Where the first admin token is written when auth is on and the store has none. The default is `admin.token` in
    /// the data directory.
    public var authBootstrapTokenPath: String?
    /// Rate, size and count limits per token and namespace (docs/security.md, "Quotas"); all off by default.
    public var quotas = QuotaConfiguration()
    /// How old an unreferenced artifact must be before the collection after a background compaction removes it.
    public var artifactCollectionMinimumAge: Duration = .seconds(3600)
    /// Where the MCP endpoint listens (loopback only); `nil`, the default, serves no MCP.
    public var mcpListen: HostAndPort?
    /// The namespace of the MCP endpoint's tools, and whether a call may name another.
    public var mcp = StatehouseMCPConfiguration()

    public enum Backend: String, Sendable, CaseIterable {
        case sqlite
        case postgres
    }

    public enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json
    }

    public init() {}

    /// Access control as configured: auth, the bootstrap token file, quotas.
    public var access: AccessControl.Configuration {
        var access = AccessControl.Configuration()
        access.authRequired = self.authRequired
        access.bootstrapTokenPath =
            self.authBootstrapTokenPath ?? (self.useMemory ? nil : self.dataDirectory + "/admin.token")
        access.quotas = self.quotas
        return access
    }

    /// The SQLite configuration this server configuration describes.
    public var storage: SQLiteConfiguration {
        var storage = self.useMemory ? SQLiteConfiguration.inMemory() : .directory(self.dataDirectory)
        storage.durability = self.durability
        storage.readerCount = self.readerThreads
        storage.cacheSizeKiB = self.cacheMiB * 1024
        storage.checkOnOpen = self.startupCheck
        storage.searchState = self.searchState
        // A read behind gRPC arrives long after the last one ended: a polling reader would only take CPU from the
        // transport (docs/benchmarks.md, "Reader threads that sleep at once").
        storage.readerIdleSpin = .zero
        return storage
    }

    /// The PostgreSQL connection this configuration describes; `nil` for the SQLite backend.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a missing or malformed URL or an
    ///   unreadable password file.
    public func postgresSettings(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> PostgresConnectionSettings? {
        guard self.backend == .postgres else { return nil }
        guard let url = self.postgresURL else {
            throw StatehouseError.invalidArgument(
                "--backend postgres needs --postgres-url postgres://USER@HOST[:PORT]/DATABASE")
        }
        var settings = try PostgresConnectionSettings(
            url: url, passwordFile: self.postgresPasswordFile, environment: environment)
        settings.maximumConnections = self.postgresMaxConnections
        return settings
    }

    /// `host:port` as given to `--listen` (an IPv6 host in brackets).
    public var listenAddress: String { HostAndPort(host: self.host, port: self.port).description }
}
