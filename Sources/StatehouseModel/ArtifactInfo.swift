/// What a store holds of a blob (docs/api.md, "Artifacts"): the daemon's stores answer with it, and the Swift client
/// returns it.
public struct ArtifactInfo: Sendable, Hashable {
    public var namespace: String
    public var sha256: String
    public var size: UInt64
    public var exists: Bool
    /// For an upload: the blob was stored already, and nothing was written.
    public var deduplicated: Bool

    public init(namespace: String, sha256: String, size: UInt64, exists: Bool, deduplicated: Bool) {
        self.namespace = namespace
        self.sha256 = sha256
        self.size = size
        self.exists = exists
        self.deduplicated = deduplicated
    }
}
