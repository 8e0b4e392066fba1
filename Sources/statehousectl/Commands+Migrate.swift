import ArgumentParser
import Foundation
import Logging
import StatehouseArtifacts
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
            let artifacts = try self.artifactCopy(to: target)
            var rows: [JSONOutput] = []
            var copiedNamespaces: Set<String> = []
            for head in try await copy.namespaces() {
                let progress = Progress("migrate \(head.namespace)")
                let copied = try await copy.copy(head.namespace) {
                    progress.update($0, of: Int(head.commitTS), unit: "events")
                }
                progress.finish()
                let blobs = try await artifacts?.copy(head.namespace) ?? ArtifactCopy.Copied()
                copiedNamespaces.insert(head.namespace)
                if json {
                    rows.append(
                        .object(
                            [
                                ("namespace", .string(head.namespace)), ("commit_ts", .int(copied.head.commitTS)),
                                ("hash", .string(copied.head.hash.hex)), ("root_hash", .string(copied.rootHash.hex)),
                                ("events_copied", .int(copied.events)),
                            ] + blobs.fields))
                } else {
                    emit(
                        "\(head.namespace): \(copied.events) events copied, head commit_ts \(copied.head.commitTS) "
                            + "hash \(copied.head.hash.hex), Merkle root verified" + blobs.sentence)
                }
            }
            // Namespaces with artifacts and no commits.
            for namespace in try await artifacts?.namespaces() ?? [] where !copiedNamespaces.contains(namespace) {
                let blobs = try await artifacts!.copy(namespace)
                if json {
                    rows.append(.object([("namespace", .string(namespace))] + blobs.fields))
                } else {
                    emit("\(namespace): no events" + blobs.sentence)
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

extension Migrate {
    /// The copy of the data directory's artifacts, or nil when it has none.
    func artifactCopy(to target: PostgresBackend) throws -> ArtifactCopy? {
        let directory = self.from + "/artifacts"
        guard FileManager.default.fileExists(atPath: directory) else { return nil }
        return ArtifactCopy(from: try ArtifactStore(directory: directory), to: PostgresArtifactStore(backend: target))
    }
}

/// Copies a namespace's blobs from a data directory into PostgreSQL, each read checked against its digest and stored
/// only with that digest; a blob already stored (a second run) is skipped.
struct ArtifactCopy {
    let source: ArtifactStore
    let target: PostgresArtifactStore

    init(from source: ArtifactStore, to target: PostgresArtifactStore) {
        self.source = source
        self.target = target
    }

    struct Copied {
        var copied = 0
        var bytes: UInt64 = 0
        var present = 0

        var fields: [(String, JSONOutput)] {
            [
                ("artifacts_copied", .int(self.copied)), ("artifact_bytes_copied", .int(self.bytes)),
                ("artifacts_present", .int(self.present)),
            ]
        }

        var sentence: String {
            self.copied + self.present == 0
                ? ""
                : "; \(self.copied) artifacts copied (\(self.bytes) bytes), \(self.present) stored already"
        }
    }

    func namespaces() async throws -> [String] { try await self.source.namespaces() }

    func copy(_ namespace: String) async throws -> Copied {
        var copied = Copied()
        let digests = try await self.source.digests(namespace: namespace)
        let progress = Progress("artifacts \(namespace)")
        for (index, digest) in digests.enumerated() {
            progress.update(index, of: digests.count, unit: "blobs")
            if try await self.target.stat(namespace: namespace, sha256: digest).exists {
                copied.present += 1
                continue
            }
            let upload = try await self.target.upload(namespace: namespace, limit: 0)
            do {
                try await self.source.read(namespace: namespace, sha256: digest) { try await upload.append($0) }
                let info = try await upload.finish(expected: digest)
                copied.copied += 1
                copied.bytes += info.size
            } catch {
                upload.abandon()
                throw error
            }
        }
        progress.finish()
        return copied
    }
}
