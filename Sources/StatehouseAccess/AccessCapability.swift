public import StatehouseModel

/// What a request does, as far as access is concerned: the one table of which role each kind of request needs
/// (docs/security.md, "Roles"). The gRPC handlers, the HTTP routes and the MCP tools each name the capability they
/// use, and ``AccessControl/authorize(_:namespace:)`` checks it; nothing else decides.
public enum AccessCapability: Sendable, CaseIterable {
    // Read.
    /// Get, get many, list keys and agents, scan, history, heads, diff, agent and snapshot records, events, sessions
    /// and tasks as records.
    case readState
    /// Read the log: replay, read log, timeline, commits.
    case readLog
    /// Follow the log live.
    case watch
    /// Verify the chain, tree heads, inclusion and consistency proofs, verified reads.
    case verify
    /// Full-text search.
    case search
    // Write.
    /// One-shot commits and interactive transactions.
    case commit
    /// Agent records: update, delete.
    case changeAgents
    /// Create, delete and restore snapshots; fork into the namespace.
    case changeSnapshots
    /// Record agent events; start and end sessions; create and update tasks.
    case recordEvents
    // Admin.
    /// Set or clear the retention policy; run a compaction.
    case retention
    /// Import an exported log into the namespace.
    case importLog
    /// Copy the whole store (needs admin on every namespace).
    case backup
    /// Create, list and revoke tokens (within the namespaces the caller administers).
    case manageTokens

    /// What a denial says the grant was needed for ("… (needed to commit)").
    public var purpose: String {
        switch self {
        case .readState: "read state"
        case .readLog: "read the log"
        case .watch: "watch"
        case .verify: "verify or prove"
        case .search: "search"
        case .commit: "commit"
        case .changeAgents: "change agent records"
        case .changeSnapshots: "change snapshots, restore or fork"
        case .recordEvents: "record events, sessions or tasks"
        case .retention: "change the retention policy or compact"
        case .importLog: "import a log"
        case .backup: "back up the store"
        case .manageTokens: "manage tokens"
        }
    }

    /// The role the capability needs.
    public var role: AccessRole {
        switch self {
        case .readState, .readLog, .watch, .verify, .search: .read
        case .commit, .changeAgents, .changeSnapshots, .recordEvents: .write
        case .retention, .importLog, .backup, .manageTokens: .admin
        }
    }
}
