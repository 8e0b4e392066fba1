import Foundation
import Logging
import PostgresNIO
import StatehousePostgres
import Testing

/// A database of its own per test on the private PostgreSQL that scripts/test.sh starts (scripts/postgres.sh) and
/// names in STATEHOUSE_TEST_POSTGRES_URL.
enum TestDatabase {
    static let logger = Logger(label: "statehouse.postgres.tests")

    /// Runs `body` with the settings of a fresh database, dropped afterwards; records an issue when no server is set.
    static func withFresh(_ body: (PostgresConnectionSettings) async throws -> Void) async throws {
        guard let url = ProcessInfo.processInfo.environment["STATEHOUSE_TEST_POSTGRES_URL"] else {
            Issue.record(
                """
                STATEHOUSE_TEST_POSTGRES_URL is not set: run scripts/test.sh, or start a server with \\
                'scripts/postgres.sh start DIR' and export the URL it prints
                """)
            return
        }
        let admin = try PostgresConnectionSettings(url: "\(url)?sslmode=disable", environment: [:])
        let name = "statehouse_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        try await self.withClient(admin.clientConfiguration()) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: self.logger)
        }
        var settings = admin
        settings.database = name
        do {
            try await body(settings)
        } catch {
            try? await self.drop(name, admin: admin)
            throw error
        }
        try await self.drop(name, admin: admin)
    }

    static func drop(_ name: String, admin: PostgresConnectionSettings) async throws {
        try await self.withClient(admin.clientConfiguration()) { client in
            try await client.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: self.logger)
        }
    }

    static func withClient(
        _ configuration: PostgresClient.Configuration, _ body: (PostgresClient) async throws -> Void
    ) async throws {
        let client = PostgresClient(configuration: configuration, backgroundLogger: self.logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }
}
