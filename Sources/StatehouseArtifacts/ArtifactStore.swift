import Crypto
public import Foundation
public import StatehouseModel
import Synchronization

/// Content-addressed blobs (docs/api.md, "Artifacts"): large things agents produce or read, stored once per namespace
/// by their SHA-256 under `DATA_DIR/artifacts/ns.<namespace>/sha256/<2 hex>/<62 hex>`. The `ns.` prefix keeps every
/// namespace name (`tmp`, `.`, `..` are valid ones) clear of the store's own `tmp/` and of the path's meaning.
///
/// An upload streams into a temporary file beside them while its digest is computed, is synced, and is renamed into
/// place only when complete (and, when the caller named one, when its digest is the one expected): a crash or an
/// abandoned upload leaves no blob half-visible, only a temporary file that the next start removes. A blob already
/// stored is not written again. A read checks the digest of what it streamed and fails with DATA_LOSS when the file no
/// longer matches its name. File I/O runs on the store's own dispatch queue, never on the cooperative thread pool.
public final class ArtifactStore: Sendable {
    public let directory: String
    /// Bytes per chunk of a read.
    public static let chunkBytes = 1 << 20
    private let queue = DispatchQueue(label: "statehouse.artifacts", attributes: .concurrent)
    /// Bytes per namespace, counted from disk the first time a quota needs them and kept up to date after: stored blobs
    /// plus what uploads under a quota have received so far (reserved, released when they do not store it).
    private let usage = Mutex<[String: UInt64]>([:])
    static let namespacePrefix = "ns."

    /// Opens (creating it) the store in `directory` and removes what interrupted uploads left.
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory + "/tmp", withIntermediateDirectories: true)
        for leftover in (try? FileManager.default.contentsOfDirectory(atPath: directory + "/tmp")) ?? [] {
            try? FileManager.default.removeItem(atPath: directory + "/tmp/" + leftover)
        }
    }

    public struct Info: Sendable, Hashable {
        public var namespace: String
        public var sha256: String
        public var size: UInt64
        public var exists: Bool
        /// For an upload: the blob was stored already, and nothing was written.
        public var deduplicated: Bool
    }

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

    /// The bytes of a namespace's blobs (and of uploads under a quota in progress), counted from disk once.
    public func bytesStored(namespace: String) async throws -> UInt64 {
        if let known = self.usage.withLock({ $0[namespace] }) { return known }
        let root = self.root(namespace)
        let counted = try await self.run {
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
        return self.usage.withLock { usage in
            if let known = usage[namespace] { return known }
            usage[namespace] = counted
            return counted
        }
    }

    /// Adds `bytes` to a counted namespace's usage, refusing when that passes `limit`.
    fileprivate func reserve(namespace: String, bytes: UInt64, limit: UInt64) throws {
        let refused = self.usage.withLock { usage -> UInt64? in
            let current = usage[namespace] ?? 0
            guard current + bytes <= limit else { return current }
            usage[namespace] = current + bytes
            return nil
        }
        if let current = refused {
            throw StatehouseError.quotaExceeded(
                "namespace '\(namespace)' stores \(current) bytes of artifacts; its quota is \(limit) bytes, so this "
                    + "upload is refused and nothing of it is kept (collect unreferenced blobs with 'statehousectl "
                    + "artifact gc')",
                retryAfterMilliseconds: 60_000)
        }
    }

    /// Changes a namespace's usage, if it was counted.
    fileprivate func adjust(namespace: String, by delta: Int64) {
        self.usage.withLock { usage in
            guard let current = usage[namespace] else { return }
            usage[namespace] = delta >= 0 ? current + UInt64(delta) : current - min(current, UInt64(-delta))
        }
    }

    static func checkDigest(_ sha256: String) throws {
        guard ProvenanceSchema.isSHA256(sha256) else {
            throw StatehouseError.invalidArgument(
                "an artifact is named by its SHA-256: 64 lowercase hex digits, got '\(sha256.prefix(80))'")
        }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Whether a blob exists, and its size.
    public func stat(namespace: String, sha256: String) async throws -> Info {
        try Self.checkDigest(sha256)
        let path = self.path(namespace: namespace, sha256: sha256)
        return try await self.run {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
            return Info(
                namespace: namespace, sha256: sha256, size: size, exists: attributes != nil, deduplicated: false)
        }
    }

    /// An upload in progress: chunks go to a temporary file; ``finish(expected:)`` stores it.
    public final class Upload: @unchecked Sendable {  // safe: one caller at a time appends, then finishes
        let store: ArtifactStore
        let namespace: String
        let temporary: String
        let handle: FileHandle
        /// The namespace's artifact quota in bytes; 0: none.
        let limit: UInt64
        var hasher = SHA256()
        var size: UInt64 = 0
        /// Bytes of this upload counted in the namespace's usage (under a quota).
        var reserved: UInt64 = 0
        /// Set when the upload would pass the quota: the rest is hashed, not written, so that a duplicate of a stored
        /// blob (which stores nothing) still succeeds and anything else fails at the end with this error.
        var refusal: (any Error)?
        var done = false

        init(store: ArtifactStore, namespace: String, limit: UInt64) throws {
            self.store = store
            self.namespace = namespace
            self.limit = limit
            self.temporary = store.directory + "/tmp/" + UUID().uuidString
            guard FileManager.default.createFile(atPath: self.temporary, contents: nil) else {
                throw StatehouseError.unavailable("cannot create a file in the artifact store")
            }
            self.handle = try FileHandle(forWritingTo: URL(fileURLWithPath: self.temporary))
        }

        public func append(_ bytes: Data) async throws {
            // Under a quota every chunk is reserved before it is written, so concurrent uploads cannot overshoot the
            // quota together; from the chunk that would pass it, nothing more is written or kept.
            if self.limit > 0, self.refusal == nil {
                do {
                    try self.store.reserve(namespace: self.namespace, bytes: UInt64(bytes.count), limit: self.limit)
                    self.reserved += UInt64(bytes.count)
                } catch {
                    self.refusal = error
                    self.store.adjust(namespace: self.namespace, by: -Int64(self.reserved))
                    self.reserved = 0
                }
            }
            self.hasher.update(data: bytes)
            self.size += UInt64(bytes.count)
            guard self.refusal == nil else { return }
            let handle = self.handle
            try await self.store.run { try handle.write(contentsOf: bytes) }
        }

        /// Syncs and stores the blob under its digest (unless it is there already); the upload's file is gone after.
        public func finish(expected: String?) async throws -> Info {
            let sha256 = EventHash.hex(Array(self.hasher.finalize()))
            let (handle, temporary, size, namespace) = (self.handle, self.temporary, self.size, self.namespace)
            let target = self.store.path(namespace: namespace, sha256: sha256)
            self.done = true
            let (reserved, refusal) = (self.reserved, self.refusal)
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
                self.store.adjust(namespace: namespace, by: -Int64(reserved))
                throw error
            }
            // What is stored is counted: reserved already under a quota; a duplicate stores nothing.
            if info.deduplicated {
                self.store.adjust(namespace: namespace, by: -Int64(reserved))
            } else if reserved == 0 {
                self.store.adjust(namespace: namespace, by: Int64(size))
            }
            return info
        }

        /// Drops an upload that will not finish (the client went away or sent something wrong).
        public func abandon() {
            guard !self.done else { return }
            self.done = true
            self.store.adjust(namespace: self.namespace, by: -Int64(self.reserved))
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
    public func upload(namespace: String, limit: UInt64 = 0) async throws -> Upload {
        if limit > 0 { _ = try await self.bytesStored(namespace: namespace) }
        return try Upload(store: self, namespace: namespace, limit: limit)
    }

    /// Streams a blob's bytes to `body`, chunk by chunk, checking its digest: when what was read does not hash to its
    /// name, this throws DATA_LOSS after the last chunk (the caller must discard what it received).
    public func read(
        namespace: String, sha256: String, _ body: (Data) async throws -> Void
    ) async throws {
        try Self.checkDigest(sha256)
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
    /// What a collection did.
    public struct Collection: Sendable, Hashable {
        public var examined: Int
        public var removed: Int
        public var bytesRemoved: UInt64
    }

    /// Removes the namespace's blobs that no digest in `referenced` names and that are older than `minimumAge`
    /// (an upload comes before the commit that refers to it: a young blob is left for a later collection).
    public func collect(
        namespace: String, referenced: Set<String>, minimumAge: Duration
    ) async throws -> Collection {
        let root = self.root(namespace)
        let cutoff = Date().addingTimeInterval(-Double(minimumAge.components.seconds))
        // What was removed is subtracted from the namespace's count even when a later removal fails.
        let (collection, failure) = try await self.run { () -> (Collection, (any Error)?) in
            var collection = Collection(examined: 0, removed: 0, bytesRemoved: 0)
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
        self.adjust(namespace: namespace, by: -Int64(collection.bytesRemoved))
        if let failure { throw failure }
        return collection
    }
}
