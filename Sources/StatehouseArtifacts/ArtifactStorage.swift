public import Foundation
public import StatehouseModel
import Synchronization

/// Where a daemon keeps artifacts (docs/api.md, "Artifacts"): its data directory (``ArtifactStore``), or the
/// PostgreSQL database that several daemons share (`PostgresArtifactStore`), so that a blob stored through one daemon
/// is served by all of them.
///
/// Every implementation keeps the same promises: a blob is visible only once complete and (when the caller named one)
/// with the digest expected; storing content already there stores nothing and says so (`deduplicated`) while making
/// the blob young again for ``collect(namespace:referenced:minimumAge:)``; a read that no longer hashes to its name
/// fails with DATA_LOSS after its last chunk; uploads under a quota reserve each chunk before keeping it.
public protocol ArtifactStorage: Sendable {
    /// The namespaces that hold blobs (or once did).
    func namespaces() async throws -> [String]
    /// The bytes of a namespace's blobs (and of uploads under a quota in progress).
    func bytesStored(namespace: String) async throws -> UInt64
    /// Whether a blob exists, and its size.
    func stat(namespace: String, sha256: String) async throws -> ArtifactInfo
    /// Starts an upload into a namespace; with a `limit` (bytes; 0: none) its blobs may not pass it, the upload
    /// counting.
    func upload(namespace: String, limit: UInt64) async throws -> any ArtifactUpload
    /// Streams a blob's bytes to `body`, chunk by chunk, checking its digest: when what was read does not hash to its
    /// name, this throws DATA_LOSS after the last chunk (the caller must discard what it received).
    func read(namespace: String, sha256: String, _ body: (Data) async throws -> Void) async throws
    /// Removes the namespace's blobs that no digest in `referenced` names and that are older than `minimumAge` (an
    /// upload comes before the commit that refers to it: a young blob is left for a later collection).
    func collect(namespace: String, referenced: Set<String>, minimumAge: Duration) async throws -> ArtifactCollection
}

/// An upload in progress: ``append(_:)`` its chunks in order, then ``finish(expected:)`` stores it, or ``abandon()``
/// drops it. One caller at a time.
public protocol ArtifactUpload: AnyObject, Sendable {
    func append(_ bytes: Data) async throws
    /// Stores the blob under its digest (unless it is there already).
    ///
    /// - Throws: INVALID_ARGUMENT when `expected` is not its digest, RESOURCE_EXHAUSTED past the quota; nothing is
    ///   stored then.
    func finish(expected: String?) async throws -> ArtifactInfo
    /// Drops an upload that will not finish (the client went away or sent something wrong).
    func abandon()
}

/// What a collection did.
public struct ArtifactCollection: Sendable, Hashable {
    public var examined: Int
    public var removed: Int
    public var bytesRemoved: UInt64

    public init(examined: Int = 0, removed: Int = 0, bytesRemoved: UInt64 = 0) {
        self.examined = examined
        self.removed = removed
        self.bytesRemoved = bytesRemoved
    }
}

/// Checks an artifact's name.
package enum ArtifactDigest {
    package static func check(_ sha256: String) throws {
        guard ProvenanceSchema.isSHA256(sha256) else {
            throw StatehouseError.invalidArgument(
                "an artifact is named by its SHA-256: 64 lowercase hex digits, got '\(sha256.prefix(80))'")
        }
    }
}

/// Bytes per namespace for the artifact quota, counted from the store the first time a quota needs them and kept up
/// to date after: stored blobs plus what uploads under a quota have received so far (reserved, released when they do
/// not store it). Each daemon keeps its own count; on a shared store another daemon's uploads are seen at the next
/// count (a restart), so the quota holds per daemon between counts.
package final class ArtifactUsage: Sendable {
    private let usage = Mutex<[String: UInt64]>([:])

    package init() {}

    /// The bytes of `namespace`, counted with `count` the first time.
    package func bytes(namespace: String, count: () async throws -> UInt64) async rethrows -> UInt64 {
        if let known = self.usage.withLock({ $0[namespace] }) { return known }
        let counted = try await count()
        return self.usage.withLock { usage in
            if let known = usage[namespace] { return known }
            usage[namespace] = counted
            return counted
        }
    }

    /// Adds `bytes` to a counted namespace's usage, refusing when that passes `limit`.
    package func reserve(namespace: String, bytes: UInt64, limit: UInt64) throws {
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
    package func adjust(namespace: String, by delta: Int64) {
        self.usage.withLock { usage in
            guard let current = usage[namespace] else { return }
            usage[namespace] = delta >= 0 ? current + UInt64(delta) : current - min(current, UInt64(-delta))
        }
    }
}

/// The quota side of an upload, the same for every store: each chunk is reserved before it is kept, so concurrent
/// uploads cannot overshoot the quota together; from the chunk that would pass it, nothing more is kept, the rest is
/// only hashed, so that a duplicate of a stored blob (which stores nothing) still succeeds and anything else fails at
/// the end with the refusal.
package struct ArtifactQuotaCharge: Sendable {
    let usage: ArtifactUsage
    let namespace: String
    /// The namespace's artifact quota in bytes; 0: none.
    let limit: UInt64
    /// Bytes of this upload counted in the namespace's usage.
    package private(set) var reserved: UInt64 = 0
    package private(set) var refusal: StatehouseError?

    package init(usage: ArtifactUsage, namespace: String, limit: UInt64) {
        self.usage = usage
        self.namespace = namespace
        self.limit = limit
    }

    /// Charges a chunk; false when it must not be kept (the upload passed its quota).
    package mutating func charge(_ bytes: Int) -> Bool {
        if self.limit > 0, self.refusal == nil {
            do {
                try self.usage.reserve(namespace: self.namespace, bytes: UInt64(bytes), limit: self.limit)
                self.reserved += UInt64(bytes)
            } catch {
                self.refusal = error as? StatehouseError ?? .unavailable("\(error)")
                self.release()
            }
        }
        return self.refusal == nil
    }

    /// Gives back what was reserved (an upload that stored nothing).
    package mutating func release() {
        self.usage.adjust(namespace: self.namespace, by: -Int64(self.reserved))
        self.reserved = 0
    }

    /// Counts a finished upload: a duplicate stores nothing, a new blob counts its `size` (reserved already under a
    /// quota).
    package mutating func settle(stored info: ArtifactInfo) {
        if info.deduplicated {
            self.release()
        } else if self.reserved == 0 {
            self.usage.adjust(namespace: self.namespace, by: Int64(info.size))
        }
        self.reserved = 0
    }
}
