import Foundation
import Logging
import PostgresNIO
import StatehousePostgres
import StatehouseTesting
import Testing

/// A database of its own per test on the private PostgreSQL that scripts/test.sh starts (scripts/postgres.sh) and
/// names in STATEHOUSE_TEST_POSTGRES_URL.
enum TestDatabase {
    static let logger = Logger(label: "statehouse.postgres.tests")

    /// Runs `body` with the settings of a fresh database, dropped afterwards; records an issue when no server is set.
    static func withFresh(_ body: (PostgresConnectionSettings) async throws -> Void) async throws {
        do {
            try await withTestPostgresDatabase(body)
        } catch let unavailable as TestPostgresUnavailable {
            Issue.record("\(unavailable)")
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
