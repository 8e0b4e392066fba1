import StatehouseCore

extension SQLiteReader {
    /// What each agent's keys say, from the caller's snapshot: live keys, versions, and the committed_at of its first
    /// and last writes.
    ///
    /// Counting live keys reads every version of the agent once (the newest of each key decides), so it costs
    /// O(versions); the first and last writes are two seeks on `versions_by_agent`.
    func agentKeyStats(namespace: String, agentIDs: [String]) throws -> [AgentKeyStats] {
        guard let namespaceID = try self.namespaceID(namespace) else {
            return agentIDs.map {
                AgentKeyStats(agentID: $0, liveKeys: 0, versions: 0, firstCommittedAt: 0, lastCommittedAt: 0)
            }
        }
        // SQLite gives a bare column the value of the row that MAX() chose: `deleted` of each key's newest version.
        let counts = try self.connection.statement(
            """
            SELECT COALESCE(SUM(n), 0), COALESCE(SUM(deleted = 0), 0) FROM (
                SELECT COUNT(*) AS n, MAX(version), deleted FROM versions INDEXED BY versions_by_key
                WHERE ns_id = ?1 AND agent_id = ?2 GROUP BY key
            )
            """
        )
        let first = try self.connection.statement(
            """
            SELECT committed_at FROM versions INDEXED BY versions_by_agent
            WHERE ns_id = ? AND agent_id = ? ORDER BY commit_ts ASC LIMIT 1
            """
        )
        let last = try self.connection.statement(
            """
            SELECT committed_at FROM versions INDEXED BY versions_by_agent
            WHERE ns_id = ? AND agent_id = ? ORDER BY commit_ts DESC LIMIT 1
            """
        )
        var stats: [AgentKeyStats] = []
        stats.reserveCapacity(agentIDs.count)
        for agentID in agentIDs {
            for statement in [counts, first, last] {
                statement.reset()
                statement.bind(0, namespaceID)
                statement.bind(1, agentID)
            }
            let (versions, live) = try counts.step() ? (Int(counts.int64(0)), Int(counts.int64(1))) : (0, 0)
            let firstAt = try first.step() ? first.int64(0) : 0
            let lastAt = try last.step() ? last.int64(0) : 0
            stats.append(
                AgentKeyStats(
                    agentID: agentID, liveKeys: live, versions: versions, firstCommittedAt: firstAt,
                    lastCommittedAt: lastAt))
        }
        return stats
    }

    /// Each commit's metadata by primary key lookup; empty for none (or a commit_ts not in the log).
    func commitMetadata(namespace: String, commitTSs: [CommitTS]) throws -> [CommitMetadata] {
        guard let namespaceID = try self.namespaceID(namespace) else { return commitTSs.map { _ in CommitMetadata() } }
        let statement = try self.connection.statement("SELECT metadata FROM events WHERE ns_id = ? AND commit_ts = ?")
        return try commitTSs.map { commitTS in
            statement.reset()
            statement.bind(0, namespaceID)
            statement.bind(1, commitTS)
            guard try statement.step(), !statement.isNull(0) else { return CommitMetadata() }
            guard let metadata = CanonicalEncoding.decodeMetadata(statement.blob(0)) else {
                throw StatehouseError.dataCorruption(commitTS: commitTS, reason: "stored metadata is unreadable")
            }
            return metadata
        }
    }
}
