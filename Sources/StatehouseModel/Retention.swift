/// How long old versions keep their values (docs/architecture.md, "Retention and expiry").
///
/// A version's value is kept when any rule keeps it: it is one of the key's newest ``keepVersions`` versions, or it
/// was the key's current version at some moment within the last ``keepFor``. The latest version of a key and every
/// version a live snapshot needs are always kept. A removed value leaves its version, its event and its digest: every
/// proof still checks, and a read of that version is refused with ``StatehouseError/failedPrecondition(_:)``.
public struct RetentionPolicy: Sendable, Hashable {
    /// The newest versions of each key that keep their values; 0: no count rule.
    public var keepVersions: Int
    /// Versions current within this long keep their values; zero: no age rule.
    public var keepFor: Duration

    /// The most versions a policy may keep per key.
    public static let maxKeepVersions = 1_000_000

    /// Keeps every version: the policy of a namespace with none set and no daemon default.
    public static let keepEverything = Self(keepVersions: 0, keepFor: .zero)

    public init(keepVersions: Int = 0, keepFor: Duration = .zero) {
        self.keepVersions = keepVersions
        self.keepFor = keepFor
    }

    /// Whether the policy removes nothing (both rules off).
    public var keepsEverything: Bool { self.keepVersions == 0 && self.keepFor == .zero }

    /// What the policy keeps, in words, for messages: "the newest 5 versions of each key or versions current within
    /// the last 3600 s".
    public var keptDescription: String {
        var parts: [String] = []
        if self.keepVersions > 0 {
            parts.append(
                self.keepVersions == 1
                    ? "the latest version of each key" : "the newest \(self.keepVersions) versions of each key")
        }
        if self.keepFor > .zero {
            parts.append("versions current within the last \(self.keepFor.components.seconds) s")
        }
        if parts.isEmpty { return "every version" }
        return parts.joined(separator: " or ") + ", and versions a live snapshot needs"
    }
}

/// A namespace's retention policy and where it comes from.
public struct ResolvedRetention: Sendable, Hashable {
    public enum Source: String, Sendable, Hashable {
        /// Set for the namespace (`SetRetention`), a record in its log.
        case namespace
        /// The daemon's configured default.
        case `default`
        /// Neither: every version is kept.
        case none
    }

    public var namespace: String
    public var policy: RetentionPolicy
    public var source: Source
    /// The commit that set the namespace's policy; 0 when it is not the namespace's own.
    public var commitTS: CommitTS

    public init(namespace: String, policy: RetentionPolicy, source: Source, commitTS: CommitTS = 0) {
        self.namespace = namespace
        self.policy = policy
        self.source = source
        self.commitTS = commitTS
    }
}

/// What one compaction did.
public struct CompactionReport: Sendable, Hashable {
    public var namespace: String
    public var policy: ResolvedRetention
    /// Versions looked at (of user agents; reserved records keep their history).
    public var versionsExamined: Int = 0
    /// Values removed, and their bytes.
    public var valuesRemoved: Int = 0
    public var valueBytesRemoved: Int = 0
    /// The database file's size before and after (after VACUUM when asked); 0 for a store without a file.
    public var fileBytesBefore: Int = 0
    public var fileBytesAfter: Int = 0

    public init(namespace: String, policy: ResolvedRetention) {
        self.namespace = namespace
        self.policy = policy
    }
}
