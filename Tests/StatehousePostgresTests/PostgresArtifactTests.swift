import Crypto
import Foundation
import PostgresNIO
import StatehouseArtifacts
import StatehouseModel
import StatehousePostgres
import Testing

/// Artifacts in PostgreSQL: stored whole or not at all, once per content across daemons, read back checked, counted
/// against a quota, and collected with the uploads a dead daemon left.
@Suite("PostgreSQL backend: artifacts", .timeLimit(.minutes(2)))
struct PostgresArtifactTests {
    /// Two stores over one fresh database, as two daemons' would be, and a client of it for looking at the rows.
    func withStores(
        _ body: (PostgresArtifactStore, PostgresArtifactStore, PostgresClient) async throws -> Void
    ) async throws {
        try await TestDatabase.withFresh { settings in
            let first = try await PostgresBackend(settings: settings, logger: TestDatabase.logger)
            let second = try await PostgresBackend(settings: settings, logger: TestDatabase.logger)
            do {
                try await TestDatabase.withClient(settings.clientConfiguration()) { client in
                    try await body(
                        PostgresArtifactStore(backend: first), PostgresArtifactStore(backend: second), client)
                }
            } catch {
                await first.close()
                await second.close()
                throw error
            }
            await first.close()
            await second.close()
        }
    }

    static func digest(_ data: Data) -> String { EventHash.hex(Array(SHA256.hash(data: data))) }

    /// Uploads `data` in pieces of `piece` bytes.
    static func put(
        _ data: Data, into store: PostgresArtifactStore, namespace: String = "blobs", piece: Int = 300_000,
        expected: String? = nil, limit: UInt64 = 0
    ) async throws -> ArtifactInfo {
        let upload = try await store.upload(namespace: namespace, limit: limit)
        do {
            var offset = 0
            while offset < data.count {
                let end = min(offset + piece, data.count)
                try await upload.append(data.subdata(in: offset..<end))
                offset = end
            }
            return try await upload.finish(expected: expected)
        } catch {
            upload.abandon()
            throw error
        }
    }

    static func get(
        _ sha256: String, from store: PostgresArtifactStore, namespace: String = "blobs"
    ) async throws -> Data {
        var out = Data()
        try await store.read(namespace: namespace, sha256: sha256) { out.append($0) }
        return out
    }

    static func count(_ sql: PostgresQuery, _ client: PostgresClient) async throws -> Int {
        var result = 0
        for try await value in try await client.query(sql).decode(Int.self) { result = value }
        return result
    }

    /// Upload rows that no artifact names, polled until `expected` (an abandoned upload is dropped just after).
    static func unnamedUploads(_ client: PostgresClient, expected: Int) async throws -> Int {
        var found = -1
        for _ in 0..<100 {
            found = try await self.count(
                """
                SELECT count(*)::INT FROM statehouse_artifact_blobs AS b
                WHERE NOT EXISTS (SELECT 1 FROM statehouse_artifacts AS a WHERE a.blob_id = b.id)
                """, client)
            if found == expected { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return found
    }

    @Test("a blob stored through one daemon is read through another, chunk by chunk, and stored once per content")
    func roundTripAcrossDaemons() async throws {
        try await self.withStores { first, second, client in
            let data = Data(
                (0..<(2 * PostgresArtifactStore.chunkBytes + 12_345)).map { UInt8(truncatingIfNeeded: $0 * 7) })
            let sha256 = Self.digest(data)
            let stored = try await Self.put(data, into: first)
            #expect(
                stored
                    == ArtifactInfo(
                        namespace: "blobs", sha256: sha256, size: UInt64(data.count), exists: true, deduplicated: false)
            )
            #expect(try await Self.get(sha256, from: second) == data)
            #expect(try await second.stat(namespace: "blobs", sha256: sha256).size == UInt64(data.count))
            #expect(try await Self.count("SELECT count(*)::INT FROM statehouse_artifact_chunks", client) == 3)

            let again = try await Self.put(data, into: second, piece: 64 * 1024)
            #expect(again.deduplicated && again.size == UInt64(data.count))
            #expect(try await Self.unnamedUploads(client, expected: 0) == 0)
            #expect(try await Self.count("SELECT count(*)::INT FROM statehouse_artifact_chunks", client) == 3)

            // Another namespace holds its own copy; an empty blob has no chunks and reads back empty.
            #expect(!(try await Self.put(data, into: second, namespace: "other")).deduplicated)
            let empty = try await Self.put(Data(), into: first)
            #expect(try await Self.get(empty.sha256, from: second).isEmpty)
            #expect(try await first.namespaces() == ["blobs", "other"])
            #expect(try await second.bytesStored(namespace: "blobs") == UInt64(data.count))
        }
    }

    @Test("a wrong expected digest, an abandoned upload and an absent blob store nothing and read nothing")
    func refusals() async throws {
        try await self.withStores { first, _, client in
            let data = Data("the tool's output\n".utf8)
            await #expect(throws: StatehouseError.self) {
                _ = try await Self.put(data, into: first, expected: String(repeating: "f", count: 64))
            }
            #expect(!(try await first.stat(namespace: "blobs", sha256: Self.digest(data)).exists))
            let upload = try await first.upload(namespace: "blobs", limit: 0)
            try await upload.append(Data(repeating: 1, count: PostgresArtifactStore.chunkBytes + 1))
            upload.abandon()
            #expect(try await Self.unnamedUploads(client, expected: 0) == 0)
            do {
                try await first.read(namespace: "blobs", sha256: Self.digest(data)) { _ in }
                Issue.record("an absent blob was read")
            } catch StatehouseError.notFound {}
            await #expect(throws: StatehouseError.self) { _ = try await first.stat(namespace: "blobs", sha256: "nope") }
        }
    }

    @Test("a chunk changed in the database is DATA_LOSS after the last chunk")
    func damage() async throws {
        try await self.withStores { first, _, client in
            let data = Data(repeating: 42, count: PostgresArtifactStore.chunkBytes + 10)
            let sha256 = try await Self.put(data, into: first).sha256
            try await client.query("UPDATE statehouse_artifact_chunks SET bytes = '\\x00'::BYTEA WHERE seq = 1")
            var received = 0
            do {
                try await first.read(namespace: "blobs", sha256: sha256) { received += $0.count }
                Issue.record("a damaged blob was read without an error")
            } catch StatehouseError.dataCorruption(_, let reason) {
                #expect(reason.contains("now hashes to"))
            }
            #expect(received == PostgresArtifactStore.chunkBytes + 1)
        }
    }

    @Test("past the quota an upload stores nothing, a duplicate still passes, and a collection frees the bytes")
    func quota() async throws {
        try await self.withStores { first, _, client in
            let one = Data(repeating: 1, count: 600)
            let two = Data(repeating: 2, count: 600)
            _ = try await Self.put(one, into: first, limit: 1000)
            do {
                _ = try await Self.put(two, into: first, limit: 1000)
                Issue.record("the upload passed the quota")
            } catch StatehouseError.quotaExceeded {}
            #expect(!(try await first.stat(namespace: "blobs", sha256: Self.digest(two)).exists))
            #expect(try await Self.unnamedUploads(client, expected: 0) == 0)
            #expect(try await Self.put(one, into: first, limit: 1000).deduplicated)
            let collected = try await first.collect(namespace: "blobs", referenced: [], minimumAge: .zero)
            #expect(collected == ArtifactCollection(examined: 1, removed: 1, bytesRemoved: 600))
            #expect(try await first.bytesStored(namespace: "blobs") == 0)
            #expect(!(try await Self.put(two, into: first, limit: 1000)).deduplicated)
        }
    }

    @Test("a collection keeps referenced and young blobs, and removes uploads a dead daemon left")
    func collection() async throws {
        try await self.withStores { first, second, client in
            let kept = try await Self.put(Data("kept".utf8), into: first)
            let loose = try await Self.put(Data("loose".utf8), into: first)
            // A daemon that died during an upload: its rows, no artifact naming them.
            let dead = try await second.upload(namespace: "blobs", limit: 0)
            try await dead.append(Data(repeating: 9, count: PostgresArtifactStore.chunkBytes))
            let young = try await first.collect(namespace: "blobs", referenced: [], minimumAge: .seconds(3600))
            #expect(young == ArtifactCollection(examined: 2, removed: 0, bytesRemoved: 0))
            #expect(try await Self.unnamedUploads(client, expected: 1) == 1)
            let old = try await second.collect(namespace: "blobs", referenced: [kept.sha256], minimumAge: .zero)
            #expect(old == ArtifactCollection(examined: 2, removed: 1, bytesRemoved: 5))
            #expect(try await first.stat(namespace: "blobs", sha256: kept.sha256).exists)
            #expect(!(try await first.stat(namespace: "blobs", sha256: loose.sha256).exists))
            #expect(try await Self.unnamedUploads(client, expected: 0) == 0)
            #expect(try await Self.count("SELECT count(*)::INT FROM statehouse_artifact_chunks", client) == 1)
        }
    }
}
