import NIOCore
import PostgresNIO
import StatehouseCore
import StatehouseModel

/// What ``CommitResolver`` may ask about a batch, read from the database before it decides.
///
/// The resolver's reader is synchronous (it runs on SQLite's writer thread); a database across a network is not. So
/// everything the batch can ask is read first, in a few statements for the whole batch, inside the transaction that
/// holds the namespaces' row locks: the heads, the latest version of every key the batch writes or conditions on, the
/// last commit of every agent a scope condition names, earlier commits of retried transaction ids and of idempotency
/// keys. The resolver then decides from memory; a question outside what was read is a bug, answered with an internal
/// error rather than a guess.
struct PostgresCommitState: CommitStateReader {
    private struct KeyRef: Hashable {
        var namespace: String
        var agentID: String
        var key: String
    }

    private struct AgentRef: Hashable {
        var namespace: String
        var agentID: String
    }

    private struct IdempotencyRef: Hashable {
        var namespace: String
        var key: String
    }

    private(set) var heads: [String: LogHead] = [:]
    private(set) var namespaceIDs: [String: Int64] = [:]
    private var latest: [KeyRef: StoredVersionState?] = [:]
    /// "Now" for expiry: a put whose expiry has passed counts as deleted for conditions, as in the SQLite writer.
    private var now: Microseconds = 0
    private var lastCommits: [AgentRef: CommitTS] = [:]
    private var committed: [String: CommitResult] = [:]
    private var askedTxnIDs: Set<String> = []
    private var idempotent: [IdempotencyRef: (digest: [UInt8], result: CommitResult)] = [:]
    private var askedIdempotencyKeys: Set<IdempotencyRef> = []

    /// Locks the heads of `batch`'s namespaces (creating rows for new ones) and reads what the resolver will ask.
    ///
    /// - Parameter known: namespaces whose rows are known to exist (committed earlier): when every namespace of the
    ///   batch is one, their rows are locked without the insert that creates missing ones.
    static func load(
        for batch: [CommitRequest], now: Microseconds, known: Set<String> = [], on connection: PostgresConnection,
        logger: Logger
    ) async throws -> PostgresCommitState {
        var state = PostgresCommitState()
        state.now = now
        let names = Array(Set(batch.map(\.namespace))).sorted()
        try await state.lockHeads(names, creating: !names.allSatisfy(known.contains), on: connection, logger: logger)
        for name in names {
            guard let namespaceID = state.namespaceIDs[name] else { continue }
            let requests = batch.filter { $0.namespace == name }
            var keys: [(agentID: String, key: String)] = []
            var seen: Set<KeyRef> = []
            for request in requests {
                for address in request.operations.map({ ($0.agentID, $0.key) })
                    + request.conditions.map({ ($0.agentID, $0.key) })
                where seen.insert(KeyRef(namespace: name, agentID: address.0, key: address.1)).inserted {
                    keys.append((address.0, address.1))
                }
            }
            try await state.loadLatest(
                keys, namespace: name, namespaceID: namespaceID, on: connection, logger: logger)
            let agents = Set(requests.flatMap { $0.scopeConditions.compactMap(\.agentID) }).sorted()
            try await state.loadLastCommits(
                agents, namespace: name, namespaceID: namespaceID, on: connection, logger: logger)
            let idempotencyKeys = Set(requests.compactMap(\.idempotencyKey)).sorted()
            try await state.loadIdempotent(
                idempotencyKeys, namespace: name, namespaceID: namespaceID, on: connection, logger: logger)
        }
        let retried = Set(batch.filter(\.mayBeRetry).map(\.txnID)).sorted()
        try await state.loadCommitted(retried, on: connection, logger: logger)
        return state
    }

    /// Locks the namespaces' head rows in name order, after creating missing ones when `creating` (locking existing
    /// and new rows in one order whatever the batch is what keeps two daemons from deadlocking on them).
    private mutating func lockHeads(
        _ names: [String], creating: Bool, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let genesis = PostgresColumns.bytes(HashChain.genesisHash)
        // A namespace's row exists before its first commit can lock it; one that only ever saw failed commits keeps a
        // row at commit_ts 0, which listings skip.
        if creating {
            try await connection.query(
                """
                INSERT INTO statehouse_namespaces(name, last_commit_ts, last_hash, last_committed_at)
                SELECT name, 0, \(genesis), 0 FROM unnest(\(names)::text[]) AS n(name)
                ON CONFLICT (name) DO NOTHING
                """, logger: logger)
        }
        let rows = try await connection.execute(PostgresCommitStatements.LockHeads(names: names), logger: logger)
        for try await (id, name, commitTS, hash, committedAt) in rows {
            let head = LogHead(
                namespace: name, commitTS: PostgresColumns.uint(commitTS),
                hash: try PostgresColumns.hash(hash, commitTS: PostgresColumns.uint(commitTS)), committedAt: committedAt
            )
            self.heads[name] = head
            self.namespaceIDs[name] = id
        }
    }

    private mutating func loadLatest(
        _ keys: [(agentID: String, key: String)], namespace: String, namespaceID: Int64,
        on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !keys.isEmpty else { return }
        for (agentID, key) in keys {
            self.latest[KeyRef(namespace: namespace, agentID: agentID, key: key)] = .some(nil)
        }
        let rows = try await connection.execute(
            PostgresCommitStatements.LatestVersions(
                agentIDs: keys.map(\.agentID), keys: keys.map(\.key), namespaceID: namespaceID),
            logger: logger)
        for try await (agentID, key, version, deleted, expiresAt) in rows {
            self.latest[KeyRef(namespace: namespace, agentID: agentID, key: key)] = StoredVersionState(
                version: PostgresColumns.uint(version), deleted: deleted, expiresAt: expiresAt)
        }
    }

    private mutating func loadLastCommits(
        _ agents: [String], namespace: String, namespaceID: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !agents.isEmpty else { return }
        let rows = try await connection.query(
            """
            SELECT a.agent_id, COALESCE((
                SELECT max(commit_ts) FROM statehouse_versions WHERE ns_id = \(namespaceID) AND agent_id = a.agent_id
            ), 0)
            FROM unnest(\(agents)::text[]) AS a(agent_id)
            """, logger: logger)
        for try await (agentID, commitTS) in rows.decode((String, Int64).self) {
            self.lastCommits[AgentRef(namespace: namespace, agentID: agentID)] = PostgresColumns.uint(commitTS)
        }
    }

    private mutating func loadCommitted(
        _ txnIDs: [String], on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !txnIDs.isEmpty else { return }
        self.askedTxnIDs.formUnion(txnIDs)
        for result in try await PostgresQueries.committedResults(txnIDs: txnIDs, on: connection, logger: logger) {
            self.committed[result.result.txnID] = result.result
        }
    }

    private mutating func loadIdempotent(
        _ keys: [String], namespace: String, namespaceID: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !keys.isEmpty else { return }
        for key in keys { self.askedIdempotencyKeys.insert(IdempotencyRef(namespace: namespace, key: key)) }
        for result in try await PostgresQueries.committedResults(
            namespaceID: namespaceID, idempotencyKeys: keys, on: connection, logger: logger)
        {
            guard let key = result.idempotencyKey else { continue }
            self.idempotent[IdempotencyRef(namespace: namespace, key: key)] = (result.requestDigest, result.result)
        }
    }

    private static func unasked(_ what: String) -> StatehouseError {
        .internalError("internal storage error: the commit asked for \(what), which was not read before it")
    }

    // MARK: CommitStateReader

    func head(namespace: String) throws -> LogHead {
        guard let head = self.heads[namespace] else { throw Self.unasked("the head of namespace '\(namespace)'") }
        return head
    }

    func latestVersion(namespace: String, agentID: String, key: String) throws -> KeyVersionState? {
        guard let state = self.latest[KeyRef(namespace: namespace, agentID: agentID, key: key)] else {
            throw Self.unasked("the latest version of a key")
        }
        return state?.state(now: self.now)
    }

    /// The latest versions read for `namespace` (under its head's lock), to seed this daemon's cache of it.
    func latestVersions(namespace: String) -> [PostgresCommitCache.Key: StoredVersionState?] {
        var versions: [PostgresCommitCache.Key: StoredVersionState?] = [:]
        for (ref, state) in self.latest where ref.namespace == namespace {
            versions[PostgresCommitCache.Key(agentID: ref.agentID, key: ref.key)] = state
        }
        return versions
    }

    func lastCommitTS(namespace: String, agentID: String) throws -> CommitTS {
        guard let commitTS = self.lastCommits[AgentRef(namespace: namespace, agentID: agentID)] else {
            throw Self.unasked("an agent's last commit")
        }
        return commitTS
    }

    func committedResult(txnID: String) throws -> CommitResult? {
        guard self.askedTxnIDs.contains(txnID) else { throw Self.unasked("an earlier commit of a transaction id") }
        return self.committed[txnID]
    }

    func idempotentCommit(namespace: String, idempotencyKey: String) throws -> (digest: [UInt8], result: CommitResult)?
    {
        let ref = IdempotencyRef(namespace: namespace, key: idempotencyKey)
        guard self.askedIdempotencyKeys.contains(ref) else {
            throw Self.unasked("an earlier use of an idempotency key")
        }
        return self.idempotent[ref]
    }
}
