import Foundation
import Logging
import PostgresNIO
public import StatehousePostgres

/// Runs `body` with the settings of a database of its own on the private PostgreSQL server that scripts/test.sh
/// starts (scripts/postgres.sh) and names in `STATEHOUSE_TEST_POSTGRES_URL`; the database is dropped afterwards.
///
/// - Throws: when the variable is not set (the test cannot run, and says how to make it run), or what the server
///   answers.
public func withTestPostgresDatabase(_ body: (PostgresConnectionSettings) async throws -> Void) async throws {
    guard let url = ProcessInfo.processInfo.environment["STATEHOUSE_TEST_POSTGRES_URL"] else {
        throw TestPostgresUnavailable()
    }
    let admin = try PostgresConnectionSettings(url: "\(url)?sslmode=disable", environment: [:])
    let name = "statehouse_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
    try await withAdminClient(admin) { client in
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: testLogger)
    }
    var settings = admin
    settings.database = name
    do {
        try await body(settings)
    } catch {
        try? await dropTestDatabase(name, admin: admin)
        throw error
    }
    try await dropTestDatabase(name, admin: admin)
}

/// A PostgreSQL test run without a server.
public struct TestPostgresUnavailable: Error, CustomStringConvertible {
    public var description: String {
        "STATEHOUSE_TEST_POSTGRES_URL is not set: run scripts/test.sh, or start a server with "
            + "'scripts/postgres.sh start DIR' and export the URL it prints"
    }
}

private func dropTestDatabase(_ name: String, admin: PostgresConnectionSettings) async throws {
    try await withAdminClient(admin) { client in
        try await client.query(
            PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: testLogger)
    }
}

private func withAdminClient(
    _ settings: PostgresConnectionSettings, _ body: (PostgresClient) async throws -> Void
) async throws {
    let client = PostgresClient(configuration: settings.clientConfiguration(), backgroundLogger: testLogger)
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        try await body(client)
    }
}
