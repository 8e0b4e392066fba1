/// Full-text search over what agents wrote: string values inside state values, agent events (content and metadata),
/// and commit metadata (actor, reason, tags). docs/architecture.md, "Search".
public struct SearchQuery: Sendable, Hashable {
    /// Which kind of text a hit comes from.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A version of a key (its value's strings).
        case state
        /// An agent event (its content's and metadata's strings).
        case event
        /// A commit's actor, reason and tags.
        case commit

        /// The number both stores keep for a document's kind (`search_docs.kind`).
        package var storedCode: Int {
            switch self {
            case .state: 1
            case .event: 2
            case .commit: 3
            }
        }

        /// The kind of a stored code; `nil` for one no build wrote.
        package init?(storedCode: Int) {
            guard let kind = Self.allCases.first(where: { $0.storedCode == storedCode }) else { return nil }
            self = kind
        }
    }

    /// In SQLite FTS5 syntax: words (all must match), "a phrase", OR, NOT, prefix*, NEAR(…).
    public var text: String
    /// Only these kinds; all when empty.
    public var kinds: Set<Kind>
    public var agentID: String?
    /// State hits only: keys starting with this.
    public var keyPrefix: String?
    /// Event hits only.
    public var type: String?
    public var sessionID: String?
    /// Event and commit hits: the event's actor or the commit's.
    public var actor: String?
    /// Committed (events: occurred) at or after / before (µs since the epoch).
    public var since: Microseconds?
    public var until: Microseconds?
    /// State hits from every version; by default only from each key's current version.
    public var history: Bool

    public init(
        _ text: String, kinds: Set<Kind> = [], agentID: String? = nil, keyPrefix: String? = nil, type: String? = nil,
        sessionID: String? = nil, actor: String? = nil, since: Microseconds? = nil, until: Microseconds? = nil,
        history: Bool = false
    ) {
        self.text = text
        self.kinds = kinds
        self.agentID = agentID
        self.keyPrefix = keyPrefix
        self.type = type
        self.sessionID = sessionID
        self.actor = actor
        self.since = since
        self.until = until
        self.history = history
    }
}

/// One search result, best first.
public struct SearchHit: Sendable, Hashable {
    public var kind: SearchQuery.Kind
    /// Relevance (BM25; higher is better).
    public var score: Double
    /// The matching text around the match, the matched words between « and ».
    public var snippet: String
    public var commitTS: CommitTS
    public var committedAt: Microseconds
    /// State: the key's agent; event: the event's agent; commit: nil.
    public var agentID: String?
    /// State: the key and its version.
    public var key: String?
    public var version: Version?
    /// Event: its id, type, session and actor; commit: its actor.
    public var eventID: String?
    public var type: String?
    public var sessionID: String?
    public var actor: String?

    public init(
        kind: SearchQuery.Kind, score: Double, snippet: String, commitTS: CommitTS, committedAt: Microseconds,
        agentID: String? = nil, key: String? = nil, version: Version? = nil, eventID: String? = nil,
        type: String? = nil, sessionID: String? = nil, actor: String? = nil
    ) {
        self.kind = kind
        self.score = score
        self.snippet = snippet
        self.commitTS = commitTS
        self.committedAt = committedAt
        self.agentID = agentID
        self.key = key
        self.version = version
        self.eventID = eventID
        self.type = type
        self.sessionID = sessionID
        self.actor = actor
    }
}
