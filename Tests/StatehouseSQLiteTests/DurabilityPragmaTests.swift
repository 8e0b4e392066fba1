import Foundation
import Logging
import StatehouseCore
import StatehouseTesting
import Testing

@testable import StatehouseSQLite

/// Each durability setting reaches SQLite: read back from the open connections, not assumed from the code that sets
/// it (GRDB, for one, silently turns synchronous=FULL into NORMAL in WAL mode).
@Suite("Durability settings as SQLite applies them", .timeLimit(.minutes(1)))
struct DurabilityPragmaTests {
    @Test(
        "PRAGMA synchronous reads back FULL (2) for full and NORMAL (1) for relaxed, in WAL mode",
        arguments: [(SQLiteConfiguration.Durability.full, "2"), (.relaxed, "1")]
    )
    func synchronous(_ durability: SQLiteConfiguration.Durability, _ expected: String) async throws {
        try await withTemporaryDirectory { directory in
            var configuration = SQLiteConfiguration.directory(directory)
            configuration.durability = durability
            let backend = try await SQLiteBackend.open(configuration: configuration, logger: Logger(label: "test"))
            let writer = try await backend.onWriter { writer in
                (
                    try writer.connection.scalarText("PRAGMA synchronous"),
                    try writer.connection.scalarText("PRAGMA journal_mode")
                )
            }
            #expect(writer.0 == expected)
            #expect(writer.1 == "wal")
            let reader = try await backend.onReader { try $0.connection.scalarText("PRAGMA synchronous") }
            #expect(reader == expected)
            await backend.close()
        }
    }
}
