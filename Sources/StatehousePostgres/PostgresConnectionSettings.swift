public import Foundation
import NIOSSL
public import PostgresNIO
public import StatehouseModel

/// Where the PostgreSQL backend connects (docs/architecture.md, "PostgreSQL"): a libpq-style URL,
/// `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?sslmode=disable|prefer|require]`. The password comes from a
/// file when one is named, else from the environment (`STATEHOUSE_POSTGRES_PASSWORD`), else from the URL.
///
/// The password never appears in ``description`` (what logs and errors print), and a URL with a password is accepted
/// but best avoided: command lines are visible to other users of the machine.
public struct PostgresConnectionSettings: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Equatable {
        /// Plain TCP (a server on loopback, or a network you trust).
        case disable
        /// TLS when the server offers it (libpq's default).
        case prefer
        /// TLS or no connection.
        case require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var tls: TLSMode
    /// The most connections this daemon opens (its pool); commits use one each, reads one each while they run. The
    /// default is 20, postgres-nio's.
    public var maximumConnections = 20
    var password: String?

    /// The environment variable a password may come from.
    public static let passwordEnvironment = "STATEHOUSE_POSTGRES_PASSWORD"

    /// Parses a URL, then takes the password from `passwordFile` (its first line) or `environment` when given.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` naming what is wrong: another scheme, no
    ///   user or host, a port out of range, an unknown `sslmode` or parameter, an unreadable password file.
    public init(
        url: String, passwordFile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme else {
            throw StatehouseError.invalidArgument(
                "'\(Self.redacted(url))' is not a URL (postgres://USER@HOST/DATABASE)")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw StatehouseError.invalidArgument(
                "a PostgreSQL URL starts with postgres:// or postgresql://, not \(scheme)://")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StatehouseError.invalidArgument("the PostgreSQL URL names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StatehouseError.invalidArgument("the PostgreSQL URL names no user (postgres://USER@\(host)/…)")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw StatehouseError.invalidArgument("the PostgreSQL port must be 1 to 65535, not \(port)")
        }
        var database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        if database.isEmpty { database = user }  // as libpq
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw StatehouseError.invalidArgument(
                        "sslmode must be disable, prefer or require, not '\(item.value ?? "")'")
                }
                tls = mode
            default:
                throw StatehouseError.invalidArgument(
                    "unknown PostgreSQL URL parameter '\(item.name)' (statehoused reads sslmode)")
            }
        }
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.tls = tls
        self.password = components.password
        if let environmentPassword = environment[Self.passwordEnvironment], !environmentPassword.isEmpty {
            self.password = environmentPassword
        }
        if let passwordFile {
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                throw StatehouseError.invalidArgument("cannot read the PostgreSQL password file \(passwordFile)")
            }
            let text = String(decoding: data, as: UTF8.self)
            self.password = String(
                text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        }
    }

    /// Whether a password will be sent (never which).
    public var hasPassword: Bool { self.password != nil }

    /// The URL without its password: what logs and errors show.
    public var description: String {
        "postgres://\(self.user)@\(self.host):\(self.port)/\(self.database)?sslmode=\(self.tls.rawValue)"
    }

    /// The client configuration postgres-nio needs.
    public func clientConfiguration() -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch self.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: self.host, port: self.port, username: self.user, password: self.password, database: self.database,
            tls: tls)
        configuration.options.maximumConnections = self.maximumConnections
        return configuration
    }

    /// A URL as given, with any password replaced by `***` (for an error about the URL itself).
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "(a URL)"
    }
}
