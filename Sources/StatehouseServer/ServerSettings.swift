import Foundation
import Logging
import StatehouseAccess
import StatehouseCore
import StatehouseMCP
import StatehouseSQLite

/// The table of every setting: its name in the config file, its flag (`--NAME`) and its environment variable.
///
/// One table, so that the flags, the environment, the config file, `--help` and `statehouse.conf.example` can never
/// disagree about what exists.
public struct ServerSettings: Sendable {
    public struct Setting: Sendable {
        /// Config-file key and flag name (`--name`).
        public var name: String
        /// Environment variable.
        public var environment: String
        /// Shown by `--help`; the first sentence also goes into the example config file.
        public var help: String
        /// The value written into the example config file.
        public var example: String
        /// Whether the flag takes no value (`--memory`).
        public var isSwitch: Bool
        /// Older names of the environment variable, read when ``environment`` is not set (the original Statehouse
        /// daemon's `STATEHOUSE_LISTEN_ADDR`, for example), first one set wins.
        public var environmentAliases: [String] = []
        let apply: @Sendable (inout ServerConfiguration, String) throws -> Void

        init(
            name: String,
            environment: String,
            environmentAliases: [String] = [],
            help: String,
            example: String,
            isSwitch: Bool,
            apply: @escaping @Sendable (inout ServerConfiguration, String) throws -> Void
        ) {
            self.name = name
            self.environment = environment
            self.environmentAliases = environmentAliases
            self.help = help
            self.example = example
            self.isSwitch = isSwitch
            self.apply = apply
        }

        /// The variable that sets this setting in `environment` and its value, if any is set.
        func value(in environment: [String: String]) -> (variable: String, value: String)? {
            for variable in [self.environment] + self.environmentAliases {
                if let value = environment[variable] { return (variable, value) }
            }
            return nil
        }
    }

    /// Thrown for a setting that does not exist or a value that does not parse.
    public struct InvalidSetting: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    public static let all: [Setting] = [
        Setting(
            name: "listen", environment: "STATEHOUSE_LISTEN",
            environmentAliases: ["STATEHOUSE_LISTEN_ADDR", "STATEHOUSE_ADDR"],
            help:
                "Address to listen on: HOST:PORT, a name (localhost:50051), an IPv4 or a bracketed IPv6 address ([::1]:50051).",
            example: "127.0.0.1:50051", isSwitch: false
        ) { configuration, value in
            do {
                let address = try HostAndPort(parsing: value, portRange: 0...65535)
                configuration.host = address.host
                configuration.port = address.port
            } catch let error as StatehouseError {
                throw InvalidSetting(description: "\(error)")
            }
        },
        Setting(
            name: "data-dir", environment: "STATEHOUSE_DATA_DIR", help: "Directory of the SQLite store.",
            example: "./statehouse-data", isSwitch: false
        ) { configuration, value in
            configuration.dataDirectory = value
        },
        Setting(
            name: "backend", environment: "STATEHOUSE_BACKEND",
            help: "Where state lives: sqlite (embedded, in --data-dir) or postgres (a database several daemons share, "
                + "--postgres-url).",
            example: "sqlite", isSwitch: false
        ) { configuration, value in
            guard let backend = ServerConfiguration.Backend(rawValue: value) else {
                throw InvalidSetting(description: "backend must be sqlite or postgres, got '\(value)'")
            }
            configuration.backend = backend
        },
        Setting(
            name: "postgres-url", environment: "STATEHOUSE_POSTGRES_URL",
            help: "The PostgreSQL database of --backend postgres: postgres://USER@HOST[:PORT]/DATABASE[?sslmode="
                + "disable|prefer|require]. Put the password in --postgres-password-file or STATEHOUSE_POSTGRES_PASSWORD, "
                + "not here: it is never logged, but a command line is visible to other users.",
            example: "postgres://statehouse@127.0.0.1:5432/statehouse", isSwitch: false
        ) { configuration, value in
            configuration.postgresURL = value
        },
        Setting(
            name: "postgres-password-file", environment: "STATEHOUSE_POSTGRES_PASSWORD_FILE",
            help: "A file whose first line is the PostgreSQL password.", example: "/etc/statehouse/pg-password",
            isSwitch: false
        ) { configuration, value in
            configuration.postgresPasswordFile = value
        },
        Setting(
            name: "postgres-max-connections", environment: "STATEHOUSE_POSTGRES_MAX_CONNECTIONS",
            help: "The most PostgreSQL connections this daemon opens (commits and reads each hold one while they run).",
            example: "20", isSwitch: false
        ) { configuration, value in
            configuration.postgresMaxConnections = try Self.int(
                value, name: "postgres-max-connections", range: 1...1000)
        },
        Setting(
            name: "postgres-request-timeout", environment: "STATEHOUSE_POSTGRES_REQUEST_TIMEOUT",
            help: "Seconds a request waits for PostgreSQL (a connection, then its statements) before it fails with "
                + "UNAVAILABLE; also how long startup waits for the database.",
            example: "30", isSwitch: false
        ) { configuration, value in
            configuration.postgresRequestTimeout = .seconds(
                try Self.int(value, name: "postgres-request-timeout", range: 1...3600))
        },
        Setting(
            name: "memory", environment: "STATEHOUSE_USE_MEMORY",
            help: "Keep all state in memory; nothing is written to disk (tests and demos).",
            example: "false", isSwitch: true
        ) { configuration, value in
            configuration.useMemory = try Self.bool(value, name: "memory")
        },
        Setting(
            name: "durability", environment: "STATEHOUSE_DURABILITY",
            help: "full: fsync before every acknowledgement; relaxed: fsync at checkpoints only.",
            example: "full", isSwitch: false
        ) { configuration, value in
            switch value {
            case "full": configuration.durability = .full
            case "relaxed": configuration.durability = .relaxed
            default: throw InvalidSetting(description: "durability must be full or relaxed, got '\(value)'")
            }
        },
        Setting(
            name: "search-state", environment: "STATEHOUSE_SEARCH_STATE",
            help: "Index the string values of state writes for full-text search (events are always indexed); costs "
                + "about a quarter of one committer's durable throughput.",
            example: "false", isSwitch: true
        ) { configuration, value in
            configuration.searchState = try Self.bool(value, name: "search-state")
        },
        Setting(
            name: "retention-keep-versions", environment: "STATEHOUSE_RETENTION_KEEP_VERSIONS",
            help: "Default retention of namespaces without their own policy: keep the newest N versions of each key "
                + "(0: no count rule). Older values are removed by compaction; events, digests and proofs stay.",
            example: "0", isSwitch: false
        ) { configuration, value in
            configuration.engine.defaultRetention.keepVersions = try Self.int(
                value, name: "retention-keep-versions", range: 0...RetentionPolicy.maxKeepVersions)
        },
        Setting(
            name: "retention-keep-for", environment: "STATEHOUSE_RETENTION_KEEP_FOR",
            help: "Default retention: keep every version that was current within this many seconds (0: no age rule).",
            example: "0", isSwitch: false
        ) { configuration, value in
            configuration.engine.defaultRetention.keepFor = .seconds(
                try Self.int(value, name: "retention-keep-for", range: 0...(100 * 365 * 86_400)))
        },
        Setting(
            name: "compaction-interval", environment: "STATEHOUSE_COMPACTION_INTERVAL",
            help: "Seconds between background compactions of every namespace (0: only when asked, "
                + "`statehousectl compact`).",
            example: "600", isSwitch: false
        ) { configuration, value in
            configuration.engine.compactionInterval = .seconds(
                try Self.int(value, name: "compaction-interval", range: 0...(7 * 86_400)))
        },
        Setting(
            name: "reader-threads", environment: "STATEHOUSE_READER_THREADS",
            help: "Read connections of the SQLite store, each on its own thread.",
            example: "2", isSwitch: false
        ) { configuration, value in
            configuration.readerThreads = try Self.int(value, name: "reader-threads", range: 1...64)
        },
        Setting(
            name: "cache-mib", environment: "STATEHOUSE_CACHE_MIB",
            help:
                "Page cache of each SQLite connection (the writer and each reader), in MiB; the daemon's memory grows to about (reader-threads + 1) times this plus 100 MiB.",
            example: "64", isSwitch: false
        ) { configuration, value in
            configuration.cacheMiB = try Self.int(value, name: "cache-mib", range: 1...65_536)
        },
        Setting(
            name: "startup-check", environment: "STATEHOUSE_STARTUP_CHECK",
            help: "Check the database file's integrity (SQLite quick_check) before serving; about 1 s per GiB.",
            example: "true", isSwitch: false
        ) { configuration, value in
            configuration.startupCheck = try Self.bool(value, name: "startup-check")
        },
        Setting(
            name: "log-level", environment: "STATEHOUSE_LOG_LEVEL", environmentAliases: ["RUST_LOG"],
            help: "trace, debug, info, notice, warning, error or critical.",
            example: "info", isSwitch: false
        ) { configuration, value in
            guard let level = Logger.Level(rawValue: value == "warn" ? "warning" : value) else {
                throw InvalidSetting(
                    description: "log-level must be trace, debug, info, notice, warning, error or critical")
            }
            configuration.logLevel = level
        },
        Setting(
            name: "log-format", environment: "STATEHOUSE_LOG_FORMAT", help: "text or json (one JSON object per line).",
            example: "text", isSwitch: false
        ) { configuration, value in
            guard let format = ServerConfiguration.LogFormat(rawValue: value) else {
                throw InvalidSetting(description: "log-format must be text or json, got '\(value)'")
            }
            configuration.logFormat = format
        },
        Setting(
            name: "transaction-timeout", environment: "STATEHOUSE_TRANSACTION_TIMEOUT",
            help: "Default timeout of an interactive transaction, in seconds.",
            example: "30", isSwitch: false
        ) { configuration, value in
            configuration.engine.limits.defaultTransactionTimeout = .seconds(
                try Self.int(value, name: "transaction-timeout", range: 1...86_400))
        },
        Setting(
            name: "max-transaction-timeout", environment: "STATEHOUSE_MAX_TRANSACTION_TIMEOUT",
            help: "Longest timeout a transaction may ask for, in seconds.",
            example: "600", isSwitch: false
        ) { configuration, value in
            configuration.engine.limits.maxTransactionTimeout = .seconds(
                try Self.int(value, name: "max-transaction-timeout", range: 1...86_400))
        },
        Self.limit(
            "max-value-bytes", "STATEHOUSE_MAX_VALUE_BYTES", "Largest JSON value, in bytes.", \.maxValueBytes, 1 << 20),
        Self.limit("max-key-bytes", "STATEHOUSE_MAX_KEY_BYTES", "Longest key, in UTF-8 bytes.", \.maxKeyBytes, 1024),
        Self.limit(
            "max-agent-id-bytes", "STATEHOUSE_MAX_AGENT_ID_BYTES", "Longest agent id, in UTF-8 bytes.",
            \.maxAgentIDBytes, 256),
        Self.limit(
            "max-operations-per-transaction", "STATEHOUSE_MAX_OPERATIONS_PER_TRANSACTION",
            "Most operations in one transaction.", \.maxOperationsPerTransaction, 10_000),
        Self.limit(
            "max-transaction-bytes", "STATEHOUSE_MAX_TRANSACTION_BYTES",
            "Most bytes (agent ids, keys, values) one transaction writes.", \.maxTransactionBytes, 16 << 20),
        Self.limit(
            "max-open-transactions", "STATEHOUSE_MAX_OPEN_TRANSACTIONS",
            "Most interactive transactions open at once.", \.maxOpenTransactions, 10_000),
        Self.limit(
            "max-watchers", "STATEHOUSE_MAX_WATCHERS", "Most watch subscriptions at once.", \.maxWatchers, 10_000),
        Self.limit(
            "watch-buffer-events", "STATEHOUSE_WATCH_BUFFER_EVENTS",
            "Events buffered per watcher before a slow watcher is ended.", \.watchBufferEvents, 4096),
        Setting(
            name: "max-message-bytes", environment: "STATEHOUSE_MAX_MESSAGE_BYTES",
            help: "Largest gRPC message accepted, in bytes.", example: "33554432", isSwitch: false
        ) { configuration, value in
            configuration.maxMessageBytes = try Self.int(value, name: "max-message-bytes", range: 1024...(1 << 30))
        },
        Setting(
            name: "shutdown-grace-period", environment: "STATEHOUSE_SHUTDOWN_GRACE_PERIOD",
            help: "Seconds in-flight RPCs may run once shutdown begins.", example: "30", isSwitch: false
        ) { configuration, value in
            configuration.shutdownGracePeriod = .seconds(
                try Self.int(value, name: "shutdown-grace-period", range: 0...3600))
        },
        Setting(
            name: "tls-cert", environment: "STATEHOUSE_TLS_CERT",
            help: "Serve gRPC and HTTP over TLS with this certificate chain (PEM file); needs tls-key. Re-read on "
                + "SIGHUP: new connections get the new certificate, open ones keep theirs. Unset: plaintext.",
            example: "/etc/statehouse/tls/server.crt", isSwitch: false
        ) { configuration, value in
            configuration.tlsCertificatePath = value.isEmpty ? nil : value
        },
        Setting(
            name: "tls-key", environment: "STATEHOUSE_TLS_KEY",
            help: "The private key of tls-cert (PEM file); re-read with it on SIGHUP.",
            example: "/etc/statehouse/tls/server.key", isSwitch: false
        ) { configuration, value in
            configuration.tlsKeyPath = value.isEmpty ? nil : value
        },
        Setting(
            name: "tls-client-ca", environment: "STATEHOUSE_TLS_CLIENT_CA",
            help: "Require clients to present a certificate signed by one of these CAs (PEM file): mutual TLS.",
            example: "/etc/statehouse/tls/clients-ca.crt", isSwitch: false
        ) { configuration, value in
            configuration.tlsClientCAPath = value.isEmpty ? nil : value
        },
        Setting(
            name: "auth", environment: "STATEHOUSE_AUTH",
            help: "required: every request needs a token (`authorization: Bearer TOKEN`) or, with tls-client-ca, a "
                + "certificate mapped to grants; the first start writes an admin token to auth-bootstrap-token-file. "
                + "off: anyone who reaches a port may do anything.",
            example: "off", isSwitch: false
        ) { configuration, value in
            switch value {
            case "required": configuration.authRequired = true
            case "off", "": configuration.authRequired = false
            default: throw InvalidSetting(description: "auth must be required or off, got '\(value)'")
            }
        },
        Setting(
            name: "auth-bootstrap-token-file", environment: "STATEHOUSE_AUTH_BOOTSTRAP_TOKEN_FILE",
            help: "Where the first admin token is written (mode 0600) when auth is required and the store has no "
                + "token yet; default: DATA_DIR/admin.token.",
            example: "/var/lib/statehouse/admin.token", isSwitch: false
        ) { configuration, value in
            configuration.authBootstrapTokenPath = value.isEmpty ? nil : value
        },
        Setting(
            name: "quota-commits-per-second", environment: "STATEHOUSE_QUOTA_COMMITS_PER_SECOND",
            help: "Commits per second each token may make (with auth off: each namespace), as a token bucket of one "
                + "second; more get RESOURCE_EXHAUSTED / 429 with retry-after. 0: no limit.",
            example: "0", isSwitch: false
        ) { configuration, value in
            configuration.quotas.commitsPerSecond = try Self.rate(value, name: "quota-commits-per-second")
        },
        Setting(
            name: "quota-bytes-per-second", environment: "STATEHOUSE_QUOTA_BYTES_PER_SECOND",
            help: "Bytes (values, agent ids, keys) each token may write per second (with auth off: each namespace). "
                + "0: no limit.",
            example: "0", isSwitch: false
        ) { configuration, value in
            configuration.quotas.bytesPerSecond = try Self.rate(value, name: "quota-bytes-per-second")
        },
        Setting(
            name: "quota-stored-bytes", environment: "STATEHOUSE_QUOTA_STORED_BYTES",
            help: "Bytes of stored values (every version) each namespace may hold; writes beyond are refused, reads "
                + "go on. 0: no limit.",
            example: "0", isSwitch: false
        ) { configuration, value in
            configuration.quotas.storedBytesPerNamespace = try Self.int(
                value, name: "quota-stored-bytes", range: 0...Int.max)
        },
        Setting(
            name: "quota-artifact-bytes", environment: "STATEHOUSE_QUOTA_ARTIFACT_BYTES",
            help: "Bytes of artifacts (blobs) each namespace may hold; an upload beyond is refused and nothing of it "
                + "is kept. 0: no limit.",
            example: "0", isSwitch: false
        ) { configuration, value in
            configuration.quotas.artifactBytesPerNamespace = try Self.int(
                value, name: "quota-artifact-bytes", range: 0...Int.max)
        },
        Setting(
            name: "artifact-gc-min-age", environment: "STATEHOUSE_ARTIFACT_GC_MIN_AGE",
            help: "After each background compaction, artifacts that no stored value names and that are older than "
                + "this many seconds are removed (an upload comes before the commit that names it).",
            example: "3600", isSwitch: false
        ) { configuration, value in
            configuration.artifactCollectionMinimumAge = .seconds(
                try Self.int(value, name: "artifact-gc-min-age", range: 0...(365 * 86_400)))
        },
        Setting(
            name: "quota-open-transactions", environment: "STATEHOUSE_QUOTA_OPEN_TRANSACTIONS",
            help: "Interactive transactions each token may hold open at once. 0: no limit (max-open-transactions "
                + "still bounds them all).",
            example: "0", isSwitch: false
        ) { configuration, value in
            configuration.quotas.openTransactions = try Self.int(
                value, name: "quota-open-transactions", range: 0...1_000_000)
        },
        Setting(
            name: "quota-open-watches", environment: "STATEHOUSE_QUOTA_OPEN_WATCHES",
            help: "Watches each token may hold open at once (with auth off: per namespace). 0: no limit.",
            example: "0", isSwitch: false
        ) { configuration, value in
            configuration.quotas.openWatches = try Self.int(value, name: "quota-open-watches", range: 0...1_000_000)
        },
        Setting(
            name: "http-sse-keepalive", environment: "STATEHOUSE_HTTP_SSE_KEEPALIVE",
            help: "Seconds between keep-alive comments on an idle HTTP watch stream (proxies close streams idle for a "
                + "minute or so).",
            example: "15", isSwitch: false
        ) { configuration, value in
            configuration.httpSSEKeepAlive = .seconds(try Self.int(value, name: "http-sse-keepalive", range: 1...3600))
        },
        Setting(
            name: "rpc-metrics", environment: "STATEHOUSE_RPC_METRICS",
            help: "Time every gRPC call by method for /metrics (statehouse_rpc_*); costs about 11 µs of daemon CPU per "
                + "unary call (the session stream is one call), so a daemon that needs the last 5 % can turn it off.",
            example: "true", isSwitch: false
        ) { configuration, value in
            configuration.rpcMetrics = try Self.bool(value, name: "rpc-metrics")
        },
        Setting(
            name: "grpc-direct-unary", environment: "STATEHOUSE_GRPC_DIRECT_UNARY",
            help: "Answer plain unary gRPC calls (gets, one-shot commits, the original API's transaction calls) "
                + "straight from their HTTP/2 frames instead of through grpc-swift's per-call machinery; the same "
                + "responses for less daemon CPU. false sends every call through grpc-swift.",
            example: "true", isSwitch: false
        ) { configuration, value in
            configuration.grpcDirectUnary = try Self.bool(value, name: "grpc-direct-unary")
        },
        Setting(
            name: "http-listen", environment: "STATEHOUSE_HTTP_LISTEN",
            help: "Serve the HTTP/JSON API, /metrics, /healthz, /readyz and the web console on this HOST:PORT; off "
                + "serves no HTTP.",
            example: "127.0.0.1:8080", isSwitch: false
        ) { configuration, value in
            if value == "off" {
                configuration.httpListen = nil
                return
            }
            do {
                configuration.httpListen = try HostAndPort(parsing: value, portRange: 0...65535)
            } catch let error as StatehouseError {
                throw InvalidSetting(description: "http-listen: \(error) (or off)")
            }
        },
        Setting(
            name: "mcp-listen", environment: "STATEHOUSE_MCP_LISTEN",
            help: "Serve MCP (Streamable HTTP at /mcp) on this loopback HOST:PORT; off when unset. Loopback only; "
                + "with auth required, its requests need a token like any other.",
            example: "127.0.0.1:50052", isSwitch: false
        ) { configuration, value in
            let address: HostAndPort
            do {
                address = try HostAndPort(parsing: value, portRange: 0...65535)
            } catch let error as StatehouseError {
                throw InvalidSetting(description: "mcp-listen: \(error)")
            }
            guard address.isLoopback else {
                throw InvalidSetting(
                    description: "mcp-listen must be a loopback address (127.0.0.1:PORT, [::1]:PORT or "
                        + "localhost:PORT), got '\(value)': the MCP endpoint is for local agents")
            }
            configuration.mcpListen = address
        },
        Setting(
            name: "mcp-namespace", environment: "STATEHOUSE_MCP_NAMESPACE",
            help: "The namespace the MCP endpoint's tools and resources use.", example: "default", isSwitch: false
        ) { configuration, value in
            guard !value.isEmpty else { throw InvalidSetting(description: "mcp-namespace must not be empty") }
            configuration.mcp.namespace = value
        },
        Setting(
            name: "mcp-namespace-argument", environment: "STATEHOUSE_MCP_NAMESPACE_ARGUMENT",
            help: "Let MCP tool calls name another namespace than mcp-namespace.", example: "false", isSwitch: true
        ) { configuration, value in
            configuration.mcp.namespaceArgument = try Self.bool(value, name: "mcp-namespace-argument")
        },
        Setting(
            name: "signing-key", environment: "STATEHOUSE_SIGNING_KEY",
            help: "Ed25519 key (PEM PRIVATE KEY) that signs tree heads; default: DATA_DIR/ledger-signing-key.pem, "
                + "created on first start.",
            example: "/etc/statehouse/ledger.pem", isSwitch: false
        ) { configuration, value in
            guard !value.isEmpty else { throw InvalidSetting(description: "signing-key needs a file path") }
            configuration.signingKeyPath = value
        },
    ]

    private static func limit(
        _ name: String,
        _ environment: String,
        _ help: String,
        _ keyPath: any WritableKeyPath<EngineLimits, Int> & Sendable,
        _ example: Int
    ) -> Setting {
        Setting(name: name, environment: environment, help: help, example: "\(example)", isSwitch: false) {
            configuration, value in
            configuration.engine.limits[keyPath: keyPath] = try Self.int(value, name: name, range: 1...(1 << 40))
        }
    }

    static func int(_ value: String, name: String, range: ClosedRange<Int>) throws -> Int {
        guard let number = Int(value.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            throw InvalidSetting(
                description:
                    "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(value)'")
        }
        return number
    }

    static func rate(_ value: String, name: String) throws -> Double {
        guard let number = Double(value.trimmingCharacters(in: .whitespaces)), number.isFinite, number >= 0 else {
            throw InvalidSetting(description: "\(name) must be a number of at least 0, got '\(value)'")
        }
        return number
    }

    static func bool(_ value: String, name: String) throws -> Bool {
        switch value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off", "": return false
        default: throw InvalidSetting(description: "\(name) must be true or false, got '\(value)'")
        }
    }

    static func setting(named name: String) -> Setting? {
        self.all.first { $0.name == name }
    }
}
