import ArgumentParser
import Foundation
import Logging
import StatehouseModel
import StatehousePostgres
import StatehouseSQLite

/// `migrate`: copies a SQLite data directory into a PostgreSQL database, namespace by namespace, and checks each copy.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a SQLite store (a stopped daemon's data directory) into PostgreSQL and verify every namespace.",
        discussion: """
            Every namespace keeps its name, commit_ts, transaction ids, times and hashes, so proofs and signed heads \\
            made before stay valid. Each copy is checked as it is read (the chain) and after (the last event and the \\
            Merkle root). Running it again resumes where it stopped. Not copied: the idempotency keys of past \\
            one-shot commits, and artifacts (copy the data directory's artifacts/ to each daemon). The daemon must be \\
            stopped: the data directory is locked while it runs.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "The SQLite daemon's data directory.") var from: String
    @Option(help: "The PostgreSQL database: postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…].") var to: String
    @Option(help: "A file whose first line is the PostgreSQL password (else STATEHOUSE_POSTGRES_PASSWORD).")
    var passwordFile: String?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: self.from + "/" + SQLiteConfiguration.databaseFileName) else {
            throw UsageError("\(self.from) holds no Statehouse store (\(SQLiteConfiguration.databaseFileName))")
        }
        let json = try self.global.format == .json
        var logger = Logger(label: "statehousectl.migrate")
        logger.logLevel = .warning
        let settings = try PostgresConnectionSettings(url: self.to, passwordFile: self.passwordFile)
        var storage = SQLiteConfiguration.directory(self.from)
        storage.checkOnOpen = true
        let source = try await SQLiteBackend.open(configuration: storage, logger: logger)
        let target: PostgresBackend
        do {
            target = try await PostgresBackend(settings: settings, logger: logger)
        } catch {
            await source.close()
            throw error
        }
        do {
            let copy = StoreCopy(from: source, to: target)
            var rows: [JSONOutput] = []
            for head in try await copy.namespaces() {
                let progress = Progress("migrate \(head.namespace)")
                let copied = try await copy.copy(head.namespace) {
                    progress.update($0, of: Int(head.commitTS), unit: "events")
                }
                progress.finish()
                if json {
                    rows.append(
                        .object([
                            ("namespace", .string(head.namespace)), ("commit_ts", .int(copied.head.commitTS)),
                            ("hash", .string(copied.head.hash.hex)), ("root_hash", .string(copied.rootHash.hex)),
                            ("events_copied", .int(copied.events)),
                        ]))
                } else {
                    emit(
                        "\(head.namespace): \(copied.events) events copied, head commit_ts \(copied.head.commitTS) "
                            + "hash \(copied.head.hash.hex), Merkle root verified")
                }
            }
            if json { emit(JSONOutput.array(rows).text) }
            await source.close()
            await target.close()
        } catch {
            await source.close()
            await target.close()
            throw error
        }
    }
}
