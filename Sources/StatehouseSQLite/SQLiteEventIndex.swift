import StatehouseCore

/// The index of agent events (`agent_events`): one row per live put under `@events`, kept by the writer in the same
/// transaction as the commit that recorded the event, so a query by agent, session, type, actor or time never scans
/// the log.
///
/// Rows are keyed by the event's versions row id (`seq`): ids grow with commit order, so every index over
/// (ns_id, field, seq) returns events in the order they were recorded. A later version of the same event key (a
/// delete, say) removes the earlier one's row.
enum SQLiteEventIndex {
    /// The writer's one hook per stored operation, after inserting its versions row: an event's put goes to this index
    /// and to the search index (its record parsed once for both), a user agent's put to the search index when
    /// `indexState`. Any other operation costs one comparison of its agent id.
    static func didStore(
        _ operation: AppliedOperation, versionID: Int64, commitTS: CommitTS, committedAt: Microseconds,
        namespaceID: Int64, indexState: Bool, on connection: SQLiteConnection
    ) throws {
        guard operation.agentID == ReservedNames.eventsAgent else {
            if indexState, !ReservedNames.isReserved(operation.agentID) {
                try SQLiteSearchIndex.indexState(
                    operation, commitTS: commitTS, committedAt: committedAt, namespaceID: namespaceID, on: connection)
            }
            return
        }
        if operation.version > 1 {
            let remove = try connection.statement(
                """
                DELETE FROM agent_events WHERE ns_id = ? AND seq = (
                    SELECT id FROM versions INDEXED BY versions_by_key
                    WHERE ns_id = ? AND agent_id = ? AND key = ? AND version = ?)
                """)
            remove.bind(0, namespaceID)
            remove.bind(1, namespaceID)
            remove.bind(2, operation.agentID)
            remove.bind(3, operation.key)
            remove.bind(4, operation.version - 1)
            try remove.run()
        }
        guard operation.kind == .put, let value = operation.value, let record = try? ParsedJSON(parsing: value.utf8),
            let fields = AgentEventCodec.indexFields(record)
        else { return }
        try self.insert(fields, namespaceID: namespaceID, sequence: versionID, on: connection)
        try SQLiteSearchIndex.indexEvent(
            record, fields: fields, id: operation.key, version: operation.version, commitTS: commitTS,
            namespaceID: namespaceID, on: connection)
    }

    /// Migration 3: indexes the events stored before the index existed (their newest versions, when live).
    static func build(on connection: SQLiteConnection) throws {
        let rows = try connection.statement(
            """
            SELECT ns_id, id, value FROM versions AS v WHERE agent_id = '@events' AND deleted = 0 AND version = (
                SELECT MAX(version) FROM versions WHERE ns_id = v.ns_id AND agent_id = v.agent_id AND key = v.key)
            """)
        var found: [(namespaceID: Int64, sequence: Int64, fields: AgentEventCodec.IndexFields)] = []
        while try rows.step() {
            if let record = try? ParsedJSON(parsing: rows.blob(2)), let fields = AgentEventCodec.indexFields(record) {
                found.append((rows.int64(0), rows.int64(1), fields))
            }
        }
        rows.reset()
        for row in found {
            try self.insert(row.fields, namespaceID: row.namespaceID, sequence: row.sequence, on: connection)
        }
    }

    private static func insert(
        _ fields: AgentEventCodec.IndexFields, namespaceID: Int64, sequence: Int64, on connection: SQLiteConnection
    ) throws {
        let insert = try connection.statement(
            """
            INSERT INTO agent_events(ns_id, seq, agent_id, session_id, type, actor, occurred_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bind(0, namespaceID)
        insert.bind(1, sequence)
        insert.bind(2, fields.agentID)
        if let session = fields.sessionID { insert.bind(3, session) } else { insert.bindNull(3) }
        insert.bind(4, fields.type)
        if let actor = fields.actor { insert.bind(5, actor) } else { insert.bindNull(5) }
        insert.bind(6, fields.occurredAt)
        try insert.run()
    }
}

extension SQLiteReader {
    /// Events matching `filter` after `after`, from the caller's snapshot: one index range (SQLite picks the index of
    /// the most selective equality given) joined to each event's versions row.
    func agentEvents(
        namespace: String, filter: AgentEventFilter, after: Int64?, limit: Int
    ) throws -> [(sequence: Int64, record: StateRecord)] {
        guard let namespaceID = try self.namespaceID(namespace) else { return [] }
        var conditions = SQLiteConditions()
        conditions.add("e.ns_id = ?", .integer(namespaceID))
        conditions.add("e.seq > ?", .integer(after ?? 0))
        conditions.equal([
            ("e.agent_id", filter.agentID), ("e.session_id", filter.sessionID), ("e.type", filter.type),
            ("e.actor", filter.actor),
        ])
        if let since = filter.since { conditions.add("e.occurred_at >= ?", .integer(since)) }
        if let until = filter.until { conditions.add("e.occurred_at <= ?", .integer(until)) }
        let statement = try self.connection.statement(
            """
            SELECT e.seq, v.key, v.version, v.value, v.commit_ts, v.committed_at
            FROM agent_events AS e JOIN versions AS v ON v.id = e.seq
            WHERE \(conditions.sql) ORDER BY e.seq LIMIT ?
            """)
        conditions.bind(to: statement, trailing: [Int64(limit)])
        var rows: [(sequence: Int64, record: StateRecord)] = []
        while try statement.step() {
            rows.append(
                (
                    statement.int64(0),
                    StateRecord(
                        agentID: ReservedNames.eventsAgent, key: statement.text(1),
                        value: JSONValue(trusted: statement.blob(3)), version: statement.uint64(2),
                        commitTS: statement.uint64(4), committedAt: statement.int64(5), deleted: false)
                ))
        }
        return rows
    }
}
