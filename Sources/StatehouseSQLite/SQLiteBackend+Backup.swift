import CSQLite
import Foundation
import Logging
public import StatehouseCore

extension SQLiteBackend {
    /// `VACUUM INTO` on a reader connection: SQLite writes a compact copy of the database as of one read snapshot,
    /// without taking the write lock, so commits go on (they are not in the copy) and the copy needs no WAL. It runs
    /// on one reader thread for as long as it takes (about as long as reading the database once); the other readers
    /// keep serving.
    public func backup(toDirectory directory: String) async throws -> BackupReport {
        guard directory.hasPrefix("/") else {
            throw StatehouseError.invalidArgument(
                "the backup directory must be an absolute path on the daemon's machine; got '\(directory)'")
        }
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, (try? fileManager.contentsOfDirectory(atPath: directory))?.isEmpty == true
            else {
                throw StatehouseError.invalidArgument(
                    "the backup directory '\(directory)' exists and is not empty; give a new or empty directory")
            }
        } else {
            do {
                try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw StatehouseError.invalidArgument("cannot create the backup directory '\(directory)': \(error)")
            }
        }
        let path = (directory as NSString).appendingPathComponent(SQLiteConfiguration.databaseFileName)
        try await self.onReader { reader in
            // Readers are query_only (nothing they run can change the store); VACUUM INTO writes only the new file,
            // but SQLite counts it as a write, so the guard is lifted for it alone.
            try reader.connection.execute("PRAGMA query_only = 0")
            defer { try? reader.connection.execute("PRAGMA query_only = 1") }
            let vacuum = try reader.connection.statement("VACUUM INTO ?")
            vacuum.bind(0, path)
            try vacuum.run()
        }
        let copy = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READONLY)
        let heads = try copy.statement(
            "SELECT name, last_commit_ts, last_hash, last_committed_at FROM namespaces ORDER BY name")
        var found: [LogHead] = []
        while try heads.step() {
            found.append(
                LogHead(
                    namespace: heads.text(0), commitTS: heads.uint64(1),
                    hash: try SQLiteQueries.hash(heads, column: 2, commitTS: heads.uint64(1)),
                    committedAt: heads.int64(3)))
        }
        copy.releaseStatements()
        let bytes = (try? fileManager.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        self.logger.info("Backup written", metadata: ["path": "\(path)", "bytes": "\(bytes)"])
        return BackupReport(path: path, bytes: bytes, heads: found)
    }
}
