import Foundation
import Logging
import PostgresNIO
import StatehouseModel
import StatehousePostgres
import Testing

/// The schema and its migrations against a real PostgreSQL: scripts/test.sh starts a private server
/// (scripts/postgres.sh) and sets STATEHOUSE_TEST_POSTGRES_URL; each test makes a database of its own.
@Suite("PostgreSQL schema migrations")
struct PostgresSchemaTests {
    static let logger = Logger(label: "statehouse.postgres.tests")

    /// Runs `body` with a client of a fresh database, dropped afterwards.
    func withFreshDatabase(_ body: (PostgresClient) async throws -> Void) async throws {
        try await TestDatabase.withFresh { settings in
            try await TestDatabase.withClient(settings.clientConfiguration(), body)
        }
    }

    static func tables(_ client: PostgresClient) async throws -> Set<String> {
        let rows = try await client.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'statehouse_%'",
            logger: Self.logger)
        var names: Set<String> = []
        for try await name in rows.decode(String.self) { names.insert(name) }
        return names
    }

    @Test("a fresh database is brought to the latest version once; running again changes nothing")
    func migrate() async throws {
        try await self.withFreshDatabase { client in
            #expect(try await PostgresSchema.version(client, logger: Self.logger) == 0)
            let applied = try await PostgresSchema.migrate(client, logger: Self.logger)
            #expect(applied == PostgresSchema.migrations.map(\.version))
            #expect(try await PostgresSchema.version(client, logger: Self.logger) == PostgresSchema.latestVersion)
            #expect(try await PostgresSchema.migrate(client, logger: Self.logger).isEmpty)
            let tables = try await Self.tables(client)
            for table in [
                "statehouse_namespaces", "statehouse_events", "statehouse_versions", "statehouse_agent_events",
                "statehouse_search_docs", "statehouse_schema", "statehouse_schema_history",
            ] {
                #expect(tables.contains(table), "\(table) is missing")
            }
            // The search column is PostgreSQL's text search over the document's words.
            try await client.query(
                """
                INSERT INTO statehouse_search_docs(ns_id, kind, commit_ts, at, body)
                    VALUES (1, 2, 1, 0, 'the planner booked a flight')
                """, logger: Self.logger)
            let rows = try await client.query(
                "SELECT count(*) FROM statehouse_search_docs WHERE body_vector @@ to_tsquery('simple', 'flight')",
                logger: Self.logger)
            for try await count in rows.decode(Int.self) { #expect(count == 1) }
        }
    }

    @Test("daemons that start together apply each migration once")
    func concurrent() async throws {
        try await self.withFreshDatabase { client in
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 { group.addTask { try await PostgresSchema.migrate(client, logger: Self.logger) } }
                var all: [Int] = []
                for try await versions in group { all += versions }
                return all
            }
            #expect(applied.sorted() == PostgresSchema.migrations.map(\.version))
            let rows = try await client.query("SELECT count(*) FROM statehouse_schema_history", logger: Self.logger)
            for try await count in rows.decode(Int.self) { #expect(count == PostgresSchema.migrations.count) }
        }
    }

    @Test("a schema newer than this build is refused, and left as it is")
    func newer() async throws {
        try await self.withFreshDatabase { client in
            try await PostgresSchema.migrate(client, logger: Self.logger)
            let future = PostgresSchema.latestVersion + 1
            try await client.query("UPDATE statehouse_schema SET version = \(future)", logger: Self.logger)
            await #expect {
                try await PostgresSchema.migrate(client, logger: Self.logger)
            } throws: { error in
                guard case StatehouseError.unavailable(let message) = error else { return false }
                return message.contains("schema version \(future), newer than this build supports")
            }
            #expect(try await PostgresSchema.version(client, logger: Self.logger) == future)
        }
    }
}
