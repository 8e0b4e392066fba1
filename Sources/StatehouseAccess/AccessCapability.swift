public import StatehouseModel

/// What a request does, as far as access is concerned: the one table of which role each kind of request needs
/// (docs/security.md, "Roles"). The gRPC handlers, the HTTP routes and the MCP tools each name the capability they
/// use, and ``AccessControl/authorize(_:namespace:)`` checks it; nothing else decides.
public enum AccessCapability: String, Sendable, CaseIterable {
    // Read.
    /// Get, get many, list keys and agents, scan, history, heads, diff, agent and snapshot records, events, sessions
    /// and tasks as records.
    case readState = "read state"
    /// Read the log: replay, read log, timeline, commits.
    case readLog = "read the log"
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
    case changeAgents = "change agents"
    /// Create, delete and restore snapshots; fork into the namespace.
    case changeSnapshots = "change snapshots"
    /// Record agent events; start and end sessions; create and update tasks.
    case recordEvents = "record events"
    // Admin.
    /// Set or clear the retention policy; run a compaction.
    case retention
    /// Import an exported log into the namespace.
    case importLog = "import"
    /// Copy the whole store (needs admin on every namespace).
    case backup
    /// Create, list and revoke tokens (within the namespaces the caller administers).
    case manageTokens = "manage tokens"

    /// The role the capability needs.
    public var role: AccessRole {
        switch self {
        case .readState, .readLog, .watch, .verify, .search: .read
        case .commit, .changeAgents, .changeSnapshots, .recordEvents: .write
        case .retention, .importLog, .backup, .manageTokens: .admin
        }
    }
}
