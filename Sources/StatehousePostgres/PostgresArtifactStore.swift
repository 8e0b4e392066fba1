import Crypto
public import Foundation
import NIOCore
import PostgresNIO
public import StatehouseArtifacts
import StatehouseCore
public import StatehouseModel

/// Artifacts in the PostgreSQL database, so that every daemon over one database serves every blob (docs/api.md,
/// "Artifacts"; docs/architecture.md, "PostgreSQL").
///
/// Tables (migration 2): `statehouse_artifact_blobs` has a row per upload (its namespace and start time);
/// `statehouse_artifact_chunks` holds its bytes in order, in rows of up to ``chunkBytes``; `statehouse_artifacts` names
/// a namespace's blobs by SHA-256, pointing at the upload that stored each, with its size and when it was last stored.
///
/// An upload writes its chunks as they come, under a blob row no artifact names yet, so nothing of it is visible.
/// `finish` then names it in one transaction (`INSERT … ON CONFLICT DO NOTHING`): of two uploads of the same content,
/// on one daemon or two, the first stores it and the later one finds it there, makes it young again and deletes its
/// own chunks. PostgreSQL makes the upload durable when that transaction commits (its WAL is flushed up to the commit,
/// chunks included). A daemon that dies during an upload leaves a blob row that no artifact names; a collection of the
/// namespace removes those older than its minimum age (so an upload must finish within that age, an hour by default).
/// A read fetches one chunk per statement, each within the request timeout however large the blob.
public final class PostgresArtifactStore: ArtifactStorage {
    /// Bytes per stored chunk: an upload's pieces (a gRPC message, an HTTP body buffer) are gathered up to this.
    public static let chunkBytes = 1 << 20
    /// Chunks of one upload written at once.
    static let chunksInFlight = 3
    let backend: PostgresBackend
    /// Quota counts, per daemon (``StatehouseArtifacts/ArtifactUsage``).
    let usage = ArtifactUsage()

    public init(backend: PostgresBackend) {
        self.backend = backend
    }

    var now: Int64 { self.backend.clock.wallMicroseconds() }

    public func namespaces() async throws -> [String] {
        try await self.backend.read("listing the artifact namespaces") { connection in
            let rows = try await connection.query(
                "SELECT DISTINCT namespace FROM statehouse_artifacts ORDER BY namespace", logger: self.backend.logger)
            var names: [String] = []
            for try await name in rows.decode(String.self) { names.append(name) }
            return names
        }
    }

    public func bytesStored(namespace: String) async throws -> UInt64 {
        try await self.usage.bytes(namespace: namespace) {
            try await self.backend.read("counting the artifact bytes of namespace '\(namespace)'") { connection in
                let rows = try await connection.query(
                    "SELECT COALESCE(SUM(size), 0)::BIGINT FROM statehouse_artifacts WHERE namespace = \(namespace)",
                    logger: self.backend.logger)
                var total: Int64 = 0
                for try await sum in rows.decode(Int64.self) { total = sum }
                return UInt64(max(0, total))
            }
        }
    }

    public func stat(namespace: String, sha256: String) async throws -> ArtifactInfo {
        try ArtifactDigest.check(sha256)
        let stored = try await self.blob(namespace: namespace, sha256: sha256)
        return ArtifactInfo(
            namespace: namespace, sha256: sha256, size: stored?.size ?? 0, exists: stored != nil, deduplicated: false)
    }

    /// The upload that stored a blob, and the blob's size; nil when the namespace has no such blob.
    func blob(namespace: String, sha256: String) async throws -> (id: Int64, size: UInt64)? {
        try await self.backend.read("looking up artifact \(sha256)") { connection in
            let rows = try await connection.query(
                """
                SELECT blob_id, size FROM statehouse_artifacts WHERE namespace = \(namespace) AND sha256 = \(sha256)
                """, logger: self.backend.logger)
            var found: (Int64, UInt64)?
            for try await (id, size) in rows.decode((Int64, Int64).self) { found = (id, UInt64(max(0, size))) }
            return found
        }
    }

    public func upload(namespace: String, limit: UInt64) async throws -> any ArtifactUpload {
        if limit > 0 { _ = try await self.bytesStored(namespace: namespace) }
        let started = self.now
        let id = try await self.backend.read("starting an artifact upload") { connection in
            let rows = try await connection.query(
                """
                INSERT INTO statehouse_artifact_blobs(namespace, started_at) VALUES (\(namespace), \(started))
                RETURNING id
                """, logger: self.backend.logger)
            var id: Int64?
            for try await value in rows.decode(Int64.self) { id = value }
            guard let id else { throw StatehouseError.internalError("starting an upload returned no blob id") }
            return id
        }
        return Upload(store: self, namespace: namespace, blobID: id, limit: limit)
    }

    /// Deletes an upload's blob row and its chunks.
    func deleteBlob(_ id: Int64, on connection: PostgresConnection) async throws {
        try await connection.query(
            "DELETE FROM statehouse_artifact_blobs WHERE id = \(id)", logger: self.backend.logger)
    }

    /// An upload into the database: chunks gathered to ``chunkBytes`` and written as they fill. Unchecked `Sendable`:
    /// one caller at a time appends, then finishes.
    final class Upload: ArtifactUpload, @unchecked Sendable {
        let store: PostgresArtifactStore
        let namespace: String
        let blobID: Int64
        var hasher = SHA256()
        var size: UInt64 = 0
        var pending = ByteBuffer()
        var written: Int32 = 0
        /// Chunk writes not awaited yet, oldest first.
        var inFlight: [Task<Void, any Error>] = []
        var quota: ArtifactQuotaCharge
        var done = false

        init(store: PostgresArtifactStore, namespace: String, blobID: Int64, limit: UInt64) {
            self.store = store
            self.namespace = namespace
            self.blobID = blobID
            self.quota = ArtifactQuotaCharge(usage: store.usage, namespace: namespace, limit: limit)
        }

        func append(_ bytes: Data) async throws {
            let keep = self.quota.charge(bytes.count)
            self.hasher.update(data: bytes)
            self.size += UInt64(bytes.count)
            guard keep else { return }
            self.pending.writeBytes(bytes)
            while self.pending.readableBytes >= PostgresArtifactStore.chunkBytes {
                try await self.flush(upTo: PostgresArtifactStore.chunkBytes)
            }
        }

        /// Writes the next chunk (up to `count` pending bytes) on a connection of its own, while the upload goes on:
        /// up to ``chunksInFlight`` chunks are written at once, so the database writes one while the daemon receives
        /// the next (one at a time, an upload ran at the speed of one backend's INSERT).
        func flush(upTo count: Int) async throws {
            guard let chunk = self.pending.readSlice(length: min(count, self.pending.readableBytes)),
                chunk.readableBytes > 0
            else { return }
            let (backend, id, sequence) = (self.store.backend, self.blobID, self.written)
            let write = Task<Void, any Error> {
                try await backend.read("storing an artifact chunk") { connection -> Void in
                    _ = try await connection.query(
                        """
                        INSERT INTO statehouse_artifact_chunks(blob_id, seq, bytes)
                        VALUES (\(id), \(sequence), \(chunk))
                        """, logger: backend.logger)
                }
            }
            self.inFlight.append(write)
            self.written += 1
            self.pending.discardReadBytes()
            if self.inFlight.count >= PostgresArtifactStore.chunksInFlight {
                try await self.inFlight.removeFirst().value
            }
        }

        /// Waits for every chunk written so far.
        func drain() async throws {
            while !self.inFlight.isEmpty { try await self.inFlight.removeFirst().value }
        }

        func finish(expected: String?) async throws -> ArtifactInfo {
            let sha256 = EventHash.hex(Array(self.hasher.finalize()))
            self.done = true
            let (store, namespace, id, size) = (self.store, self.namespace, self.blobID, self.size)
            let refusal = self.quota.refusal
            let info: ArtifactInfo
            do {
                if let expected, expected != sha256 {
                    throw StatehouseError.invalidArgument(
                        "the upload's SHA-256 is \(sha256), not the \(expected) it was sent as; nothing was stored")
                }
                if refusal == nil { try await self.flush(upTo: self.pending.readableBytes) }
                try await self.drain()
                let now = store.now
                info = try await store.backend.transaction("storing artifact \(sha256)") { connection in
                    let logger = store.backend.logger
                    if refusal == nil {
                        let named = try await connection.query(
                            """
                            INSERT INTO statehouse_artifacts(namespace, sha256, blob_id, size, stored_at)
                            VALUES (\(namespace), \(sha256), \(id), \(Int64(size)), \(now))
                            ON CONFLICT (namespace, sha256) DO NOTHING RETURNING blob_id
                            """, logger: logger)
                        var stored = false
                        for try await _ in named.decode(Int64.self) { stored = true }
                        if stored {
                            return ArtifactInfo(
                                namespace: namespace, sha256: sha256, size: size, exists: true, deduplicated: false)
                        }
                    }
                    // Stored already (by another upload, on this daemon or another): made young again, this upload's
                    // chunks dropped. Past the quota, only a duplicate succeeds.
                    let touched = try await connection.query(
                        """
                        UPDATE statehouse_artifacts SET stored_at = \(now)
                        WHERE namespace = \(namespace) AND sha256 = \(sha256) RETURNING blob_id
                        """, logger: logger)
                    var exists = false
                    for try await _ in touched.decode(Int64.self) { exists = true }
                    if !exists, let refusal { throw refusal }
                    guard exists else {
                        throw StatehouseError.unavailable("artifact \(sha256) was neither stored nor found; retry")
                    }
                    try await store.deleteBlob(id, on: connection)
                    return ArtifactInfo(
                        namespace: namespace, sha256: sha256, size: size, exists: true, deduplicated: true)
                }
            } catch {
                // A failed transaction rolled back whatever it did: this upload's chunks go now.
                self.quota.release()
                self.dropBlob()
                throw error
            }
            self.quota.settle(stored: info)
            return info
        }

        func abandon() {
            guard !self.done else { return }
            self.done = true
            self.quota.release()
            self.dropBlob()
        }

        /// Deletes this upload's chunks in the background, once its chunk writes ended (a failure leaves them to the
        /// next collection).
        private func dropBlob() {
            let (store, id, writes) = (self.store, self.blobID, self.inFlight)
            self.inFlight = []
            Task {
                for write in writes { _ = await write.result }
                try? await store.backend.read("dropping an unfinished artifact upload") { connection in
                    try await store.deleteBlob(id, on: connection)
                }
            }
        }
    }

    public func read(namespace: String, sha256: String, _ body: (Data) async throws -> Void) async throws {
        try ArtifactDigest.check(sha256)
        guard let stored = try await self.blob(namespace: namespace, sha256: sha256) else {
            throw StatehouseError.notFound("no artifact \(sha256) in namespace '\(namespace)'")
        }
        var hasher = SHA256()
        var sequence: Int32 = 0
        let logger = self.backend.logger
        while true {
            let (id, position) = (stored.id, sequence)
            let chunk = try await self.backend.read("reading artifact \(sha256)") { connection -> Data? in
                let rows = try await connection.query(
                    "SELECT bytes FROM statehouse_artifact_chunks WHERE blob_id = \(id) AND seq = \(position)",
                    logger: logger)
                var found: Data?
                for try await bytes in rows.decode(ByteBuffer.self) { found = Data(bytes.readableBytesView) }
                return found
            }
            guard let chunk else { break }
            hasher.update(data: chunk)
            try await body(chunk)
            sequence += 1
        }
        let actual = EventHash.hex(Array(hasher.finalize()))
        guard actual == sha256 else {
            throw StatehouseError.dataCorruption(
                commitTS: 0, reason: "artifact \(sha256) in namespace '\(namespace)' now hashes to \(actual)")
        }
    }

    public func collect(
        namespace: String, referenced: Set<String>, minimumAge: Duration
    ) async throws -> ArtifactCollection {
        let cutoff = self.now - minimumAge.components.seconds * 1_000_000
        let logger = self.backend.logger
        let stored = try await self.backend.read("listing the artifacts of namespace '\(namespace)'") { connection in
            let rows = try await connection.query(
                "SELECT sha256, stored_at FROM statehouse_artifacts WHERE namespace = \(namespace)", logger: logger)
            var found: [(String, Int64)] = []
            for try await row in rows.decode((String, Int64).self) { found.append(row) }
            return found
        }
        var collection = ArtifactCollection(examined: stored.count)
        // What was removed is subtracted from the namespace's count even when a later removal fails.
        defer { self.usage.adjust(namespace: namespace, by: -Int64(collection.bytesRemoved)) }
        for (sha256, storedAt) in stored where !referenced.contains(sha256) && storedAt < cutoff {
            // The age is checked again under the delete: an upload of the same content made it young meanwhile.
            let removed = try await self.backend.transaction("removing artifact \(sha256)") { connection in
                let rows = try await connection.query(
                    """
                    DELETE FROM statehouse_artifacts
                    WHERE namespace = \(namespace) AND sha256 = \(sha256) AND stored_at < \(cutoff)
                    RETURNING blob_id, size
                    """, logger: logger)
                var removed: (Int64, Int64)?
                for try await row in rows.decode((Int64, Int64).self) { removed = row }
                if let (id, _) = removed { try await self.deleteBlob(id, on: connection) }
                return removed.map { UInt64(max(0, $0.1)) }
            }
            if let bytes = removed {
                collection.removed += 1
                collection.bytesRemoved += bytes
            }
        }
        // Uploads that never finished (their daemon died): no artifact names them.
        try await self.backend.read("removing unfinished artifact uploads") { connection in
            try await connection.query(
                """
                DELETE FROM statehouse_artifact_blobs AS b
                WHERE b.namespace = \(namespace) AND b.started_at < \(cutoff)
                  AND NOT EXISTS (SELECT 1 FROM statehouse_artifacts AS a WHERE a.blob_id = b.id)
                """, logger: logger)
        }
        return collection
    }
}
