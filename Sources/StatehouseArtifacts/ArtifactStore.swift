import Crypto
public import Foundation
public import StatehouseModel

/// Content-addressed blobs (docs/api.md, "Artifacts"): large things agents produce or read, stored once per namespace
/// by their SHA-256 under `DATA_DIR/artifacts/ns.<namespace>/sha256/<2 hex>/<62 hex>`. The `ns.` prefix keeps every
/// namespace name (`tmp`, `.`, `..` are valid ones) clear of the store's own `tmp/` and of the path's meaning.
///
/// An upload streams into a temporary file beside them while its digest is computed, is synced, and is renamed into
/// place only when complete (and, when the caller named one, when its digest is the one expected): a crash or an
/// abandoned upload leaves no blob half-visible, only a temporary file that the next start removes. A blob already
/// stored is not written again. A read checks the digest of what it streamed and fails with DATA_LOSS when the file no
/// longer matches its name. File I/O runs on the store's own dispatch queue, never on the cooperative thread pool.
public final class ArtifactStore: ArtifactStorage {
    public let directory: String
    /// Bytes per chunk of a read.
    public static let chunkBytes = 1 << 20
    private let queue = DispatchQueue(label: "statehouse.artifacts", attributes: .concurrent)
    /// Bytes per namespace for quotas, counted from disk the first time one needs them.
    let usage = ArtifactUsage()
    static let namespacePrefix = "ns."

    /// Opens (creating it) the store in `directory` and removes what interrupted uploads left.
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory + "/tmp", withIntermediateDirectories: true)
        for leftover in (try? FileManager.default.contentsOfDirectory(atPath: directory + "/tmp")) ?? [] {
            try? FileManager.default.removeItem(atPath: directory + "/tmp/" + leftover)
        }
    }

    public typealias Info = ArtifactInfo
    public typealias Collection = ArtifactCollection

    func path(namespace: String, sha256: String) -> String {
        let digest = Array(sha256)
        return "\(self.root(namespace))/\(String(digest[0..<2]))/\(String(digest[2...]))"
    }

    /// The directory of a namespace's blobs.
    func root(_ namespace: String) -> String { "\(self.directory)/\(Self.namespacePrefix)\(namespace)/sha256" }

    /// The namespaces that have a directory of blobs (possibly empty).
    public func namespaces() async throws -> [String] {
        let directory = self.directory
        return try await self.run {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
                $0.hasPrefix(Self.namespacePrefix)
            }.map { String($0.dropFirst(Self.namespacePrefix.count)) }.sorted()
        }
    }

    /// The digests of a namespace's blobs, sorted (what a copy to another store walks).
    public func digests(namespace: String) async throws -> [String] {
        let root = self.root(namespace)
        return try await self.run {
            var digests: [String] = []
            let manager = FileManager.default
            for prefix in (try? manager.contentsOfDirectory(atPath: root)) ?? [] {
                for rest in (try? manager.contentsOfDirectory(atPath: root + "/" + prefix)) ?? []
                where ProvenanceSchema.isSHA256(prefix + rest) {
                    digests.append(prefix + rest)
                }
            }
            return digests.sorted()
        }
    }

    /// The bytes of a namespace's blobs (and of uploads under a quota in progress), counted from disk once.
    public func bytesStored(namespace: String) async throws -> UInt64 {
        let root = self.root(namespace)
        return try await self.usage.bytes(namespace: namespace) {
            try await self.run {
                var total: UInt64 = 0
                let manager = FileManager.default
                for prefix in (try? manager.contentsOfDirectory(atPath: root)) ?? [] {
                    for rest in (try? manager.contentsOfDirectory(atPath: root + "/" + prefix)) ?? [] {
                        let attributes = try? manager.attributesOfItem(atPath: root + "/" + prefix + "/" + rest)
                        total += (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
                    }
                }
                return total
            }
        }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Whether a blob exists, and its size.
    public func stat(namespace: String, sha256: String) async throws -> Info {
        try ArtifactDigest.check(sha256)
        let path = self.path(namespace: namespace, sha256: sha256)
        return try await self.run {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
            return Info(
                namespace: namespace, sha256: sha256, size: size, exists: attributes != nil, deduplicated: false)
        }
    }

    /// An upload in progress: chunks go to a temporary file; ``finish(expected:)`` stores it. Unchecked `Sendable`:
    /// one caller at a time appends, then finishes.
    public final class Upload: ArtifactUpload, @unchecked Sendable {
        let store: ArtifactStore
        let namespace: String
        let temporary: String
        let handle: FileHandle
        var hasher = SHA256()
        var size: UInt64 = 0
        var quota: ArtifactQuotaCharge
        var done = false

        init(store: ArtifactStore, namespace: String, limit: UInt64) throws {
            self.store = store
            self.namespace = namespace
            self.quota = ArtifactQuotaCharge(usage: store.usage, namespace: namespace, limit: limit)
            self.temporary = store.directory + "/tmp/" + UUID().uuidString
            guard FileManager.default.createFile(atPath: self.temporary, contents: nil) else {
                throw StatehouseError.unavailable("cannot create a file in the artifact store")
            }
            self.handle = try FileHandle(forWritingTo: URL(fileURLWithPath: self.temporary))
        }

        public func append(_ bytes: Data) async throws {
            let keep = self.quota.charge(bytes.count)
            self.hasher.update(data: bytes)
            self.size += UInt64(bytes.count)
            guard keep else { return }
            let handle = self.handle
            try await self.store.run { try handle.write(contentsOf: bytes) }
        }

        /// Syncs and stores the blob under its digest (unless it is there already); the upload's file is gone after.
        public func finish(expected: String?) async throws -> Info {
            let sha256 = EventHash.hex(Array(self.hasher.finalize()))
            let (handle, temporary, size, namespace) = (self.handle, self.temporary, self.size, self.namespace)
            let target = self.store.path(namespace: namespace, sha256: sha256)
            self.done = true
            let refusal = self.quota.refusal
            let info: Info
            do {
                info = try await self.store.run {
                    defer { try? FileManager.default.removeItem(atPath: temporary) }
                    try handle.synchronize()
                    try handle.close()
                    if let expected, expected != sha256 {
                        throw StatehouseError.invalidArgument(
                            "the upload's SHA-256 is \(sha256), not the \(expected) it was sent as; nothing was stored")
                    }
                    let duplicate = Info(
                        namespace: namespace, sha256: sha256, size: size, exists: true, deduplicated: true)
                    if FileManager.default.fileExists(atPath: target) {
                        ArtifactStore.touch(target)
                        return duplicate
                    }
                    if let refusal { throw refusal }
                    let folder = (target as NSString).deletingLastPathComponent
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    // link(), not rename(): of two uploads of the same content at once, exactly one stores it and the
                    // other finds it there (EEXIST), so the namespace's byte count is added once. The temporary file
                    // goes with the defer above.
                    guard link(temporary, target) == 0 else {
                        if errno == EEXIST {
                            ArtifactStore.touch(target)
                            return duplicate
                        }
                        throw StatehouseError.unavailable(
                            "cannot store the artifact: \(String(cString: strerror(errno)))")
                    }
                    // The rename is durable once the directory is synced.
                    let directory = open(folder, O_RDONLY)
                    if directory >= 0 {
                        fsync(directory)
                        close(directory)
                    }
                    return Info(namespace: namespace, sha256: sha256, size: size, exists: true, deduplicated: false)
                }
            } catch {
                self.quota.release()
                throw error
            }
            self.quota.settle(stored: info)
            return info
        }

        public func abandon() {
            guard !self.done else { return }
            self.done = true
            self.quota.release()
            try? self.handle.close()
            try? FileManager.default.removeItem(atPath: self.temporary)
        }
    }

    /// Makes a stored blob as young as a new upload: a collection judges age by the modification time, and a client
    /// that uploads content already stored (and then commits a value naming it) must get the same grace as the first.
    static func touch(_ path: String) {
        _ = utimes(path, nil)
    }

    /// Starts an upload into a namespace; with a `limit` (bytes; 0: none) its blobs may not pass, the upload counting.
    public func upload(namespace: String, limit: UInt64 = 0) async throws -> any ArtifactUpload {
        if limit > 0 { _ = try await self.bytesStored(namespace: namespace) }
        return try Upload(store: self, namespace: namespace, limit: limit)
    }

    /// Streams a blob's bytes to `body`, chunk by chunk, checking its digest: when what was read does not hash to its
    /// name, this throws DATA_LOSS after the last chunk (the caller must discard what it received).
    public func read(
        namespace: String, sha256: String, _ body: (Data) async throws -> Void
    ) async throws {
        try ArtifactDigest.check(sha256)
        let path = self.path(namespace: namespace, sha256: sha256)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StatehouseError.notFound("no artifact \(sha256) in namespace '\(namespace)'")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk = try await self.run { try handle.read(upToCount: Self.chunkBytes) ?? Data() }
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            try await body(chunk)
        }
        let actual = EventHash.hex(Array(hasher.finalize()))
        guard actual == sha256 else {
            throw StatehouseError.dataCorruption(
                commitTS: 0, reason: "artifact \(sha256) in namespace '\(namespace)' now hashes to \(actual)")
        }
    }
}

extension ArtifactStore {
    /// Removes the namespace's blobs that no digest in `referenced` names and that are older than `minimumAge`
    /// (an upload comes before the commit that refers to it: a young blob is left for a later collection).
    public func collect(
        namespace: String, referenced: Set<String>, minimumAge: Duration
    ) async throws -> Collection {
        let root = self.root(namespace)
        let cutoff = Date().addingTimeInterval(-Double(minimumAge.components.seconds))
        // What was removed is subtracted from the namespace's count even when a later removal fails.
        let (collection, failure) = try await self.run { () -> (Collection, (any Error)?) in
            var collection = Collection()
            let manager = FileManager.default
            for prefix in (try? manager.contentsOfDirectory(atPath: root)) ?? [] {
                for rest in (try? manager.contentsOfDirectory(atPath: root + "/" + prefix)) ?? [] {
                    let digest = prefix + rest
                    let path = root + "/" + prefix + "/" + rest
                    collection.examined += 1
                    guard !referenced.contains(digest),
                        let attributes = try? manager.attributesOfItem(atPath: path),
                        let modified = attributes[.modificationDate] as? Date, modified < cutoff
                    else { continue }
                    guard unlink(path) == 0 else {
                        if errno == ENOENT { continue }  // another collection removed it meanwhile
                        return (
                            collection,
                            StatehouseError.unavailable(
                                "cannot remove artifact \(digest): \(String(cString: strerror(errno)))")
                        )
                    }
                    collection.removed += 1
                    collection.bytesRemoved += (attributes[.size] as? NSNumber)?.uint64Value ?? 0
                }
            }
            return (collection, nil)
        }
        self.usage.adjust(namespace: namespace, by: -Int64(collection.bytesRemoved))
        if let failure { throw failure }
        return collection
    }
}
