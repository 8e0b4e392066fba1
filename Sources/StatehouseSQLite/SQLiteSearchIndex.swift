import StatehouseCore

/// The full-text index (migration 4): an FTS5 table `search_text` of documents whose facts (namespace, kind, agent,
/// key, version, event fields, commit and time) are in `search_docs` under the same rowid. The writer adds documents
/// in the batch's transaction: one per put of a string-holding value (state) or of an event record (its content and
/// metadata), one per commit with metadata. Old versions stay indexed; a query leaves them out unless it asks for
/// history (a key's current version is the last entry of `versions_by_key`).
enum SQLiteSearchIndex {
    /// The facts of one document.
    struct Document {
        var kind: SearchQuery.Kind
        var namespaceID: Int64
        var commitTS: CommitTS
        var at: Microseconds
        var agentID: String?
        var key: String?
        var version: Version?
        var eventID: String?
        var type: String?
        var sessionID: String?
        var actor: String?
    }

    /// Indexes a put to a user agent: its value's strings, when it holds any.
    static func indexState(
        _ operation: AppliedOperation, commitTS: CommitTS, committedAt: Microseconds, namespaceID: Int64,
        on connection: SQLiteConnection
    ) throws {
        guard operation.kind == .put, let value = operation.value else { return }
        let text = SearchText.strings(of: value.utf8)
        guard !text.isEmpty else { return }
        try self.insert(
            Document(
                kind: .state, namespaceID: namespaceID, commitTS: commitTS, at: committedAt,
                agentID: operation.agentID, key: operation.key, version: operation.version),
            text: text, on: connection)
    }

    /// Indexes a commit's metadata (actor, reason, tags).
    static func didStore(
        _ metadata: CommitMetadata, commitTS: CommitTS, committedAt: Microseconds, namespaceID: Int64,
        on connection: SQLiteConnection
    ) throws {
        let text = SearchText.metadata(metadata)
        guard !text.isEmpty else { return }
        try self.insert(
            Document(
                kind: .commit, namespaceID: namespaceID, commitTS: commitTS, at: committedAt, actor: metadata.actor),
            text: text, on: connection)
    }

    /// Indexes an event record (parsed once by the writer for both indexes): the strings of its content and metadata.
    static func indexEvent(
        _ record: ParsedJSON, fields: AgentEventCodec.IndexFields, id: String, version: Version, commitTS: CommitTS,
        namespaceID: Int64, on connection: SQLiteConnection
    ) throws {
        let text = [record[member: "content"], record[member: "metadata"]].compactMap { member -> String? in
            member.map(SearchText.strings(of:))
        }.filter { !$0.isEmpty }.joined(separator: "\n")
        guard !text.isEmpty else { return }
        try self.insert(
            Document(
                kind: .event, namespaceID: namespaceID, commitTS: commitTS, at: fields.occurredAt,
                agentID: fields.agentID, version: version, eventID: id, type: fields.type, sessionID: fields.sessionID,
                actor: fields.actor),
            text: text, on: connection)
    }

    private static func insert(_ document: Document, text: String, on connection: SQLiteConnection) throws {
        let facts = try connection.statement(
            """
            INSERT INTO search_docs(ns_id, kind, agent_id, key, version, event_id, type, session_id, actor, commit_ts,
                                    at, body)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        facts.bind(0, document.namespaceID)
        facts.bind(1, Int64(document.kind.storedCode))
        for (index, text) in [document.agentID, document.key].enumerated() {
            if let text { facts.bind(Int32(2 + index), text) } else { facts.bindNull(Int32(2 + index)) }
        }
        if let version = document.version { facts.bind(4, version) } else { facts.bindNull(4) }
        for (index, text) in [document.eventID, document.type, document.sessionID, document.actor].enumerated() {
            if let text { facts.bind(Int32(5 + index), text) } else { facts.bindNull(Int32(5 + index)) }
        }
        facts.bind(9, document.commitTS)
        facts.bind(10, document.at)
        facts.bind(11, text)
        try facts.run()
        let body = try connection.statement("INSERT INTO search_text(rowid, body) VALUES (?, ?)")
        body.bind(0, connection.lastInsertRowID)
        body.bind(1, text)
        try body.run()
    }

    /// Migration 4: indexes every stored event, state version (the index then starts complete, whatever
    /// ``SQLiteConfiguration/searchState`` says later) and commit's metadata.
    static func build(on connection: SQLiteConnection) throws {
        let versions = try connection.statement(
            "SELECT ns_id, agent_id, key, version, commit_ts, committed_at, value FROM versions WHERE deleted = 0")
        var puts: [(Int64, AppliedOperation, CommitTS, Microseconds)] = []
        while try versions.step() {
            puts.append(
                (
                    versions.int64(0),
                    AppliedOperation(
                        agentID: versions.text(1), key: versions.text(2), kind: .put,
                        value: JSONValue(trusted: versions.blob(6)), version: versions.uint64(3)),
                    versions.uint64(4), versions.int64(5)
                ))
        }
        versions.reset()
        for (namespaceID, operation, commitTS, committedAt) in puts {
            if operation.agentID == ReservedNames.eventsAgent {
                guard let value = operation.value, let record = try? ParsedJSON(parsing: value.utf8),
                    let fields = AgentEventCodec.indexFields(record)
                else { continue }
                try self.indexEvent(
                    record, fields: fields, id: operation.key, version: operation.version, commitTS: commitTS,
                    namespaceID: namespaceID, on: connection)
            } else if !ReservedNames.isReserved(operation.agentID) {
                try self.indexState(
                    operation, commitTS: commitTS, committedAt: committedAt, namespaceID: namespaceID, on: connection)
            }
        }
        let events = try connection.statement(
            "SELECT ns_id, commit_ts, committed_at, metadata FROM events WHERE metadata IS NOT NULL")
        var commits: [(Int64, CommitTS, Microseconds, CommitMetadata)] = []
        while try events.step() {
            if let metadata = CanonicalEncoding.decodeMetadata(events.blob(3)) {
                commits.append((events.int64(0), events.uint64(1), events.int64(2), metadata))
            }
        }
        events.reset()
        for (namespaceID, commitTS, committedAt, metadata) in commits {
            try self.didStore(
                metadata, commitTS: commitTS, committedAt: committedAt, namespaceID: namespaceID, on: connection)
        }
    }
}

extension SQLiteReader {
    /// Full-text search from the caller's snapshot, best first (FTS5's BM25).
    func search(namespace: String, _ query: SearchQuery, offset: Int, limit: Int) throws -> [SearchHit] {
        guard let namespaceID = try self.namespaceID(namespace) else { return [] }
        // The words go to FTS5; the namespace and every filter are SQL conditions on the documents' facts.
        var facts = SQLiteConditions()
        facts.add("d.ns_id = ?", .integer(namespaceID))
        if !query.kinds.isEmpty {
            let kinds = query.kinds.map { Int64($0.storedCode) }
            facts.add("d.kind IN (\(kinds.map(String.init).joined(separator: ",")))")
        }
        facts.equal([
            ("d.agent_id", query.agentID), ("d.type", query.type), ("d.session_id", query.sessionID),
            ("d.actor", query.actor),
        ])
        if let prefix = query.keyPrefix, !prefix.isEmpty {
            facts.add(
                "d.kind = 1 AND d.key >= ? AND d.key < ?", .textBytes(Array(prefix.utf8)),
                .textBytes(SQLiteQueries.upperBound(forPrefix: prefix)))
        }
        if let since = query.since { facts.add("d.at >= ?", .integer(since)) }
        if let until = query.until { facts.add("d.at <= ?", .integer(until)) }
        // Only current versions (events always; state unless history): nothing newer of the same key.
        let current =
            """
            (d.kind = 3 \(query.history ? "OR d.kind = 1" : "") OR NOT EXISTS (
                SELECT 1 FROM versions AS n INDEXED BY versions_by_key
                WHERE n.ns_id = d.ns_id AND n.agent_id = (CASE d.kind WHEN 2 THEN '@events' ELSE d.agent_id END)
                  AND n.key = (CASE d.kind WHEN 2 THEN d.event_id ELSE d.key END) AND n.version > d.version))
            """
        var conditions = SQLiteConditions()
        conditions.add("search_text MATCH ?", .text(query.text))
        if query.agentID != nil {
            // One agent's documents are few next to the matches of common words: they are found first (by
            // search_docs_by_agent, which covers agent, type and kind), and the matches are only checked against that
            // set; the `+` keeps SQLite from handing the set to FTS5, which would re-run the query once per document.
            // Only the matches in the set are then joined to their facts and checked for being current. Joining every
            // match to its facts first cost 40 ms at 1M events (docs/benchmarks.md, "Search").
            conditions.add(
                "+search_text.rowid IN (SELECT d.id FROM search_docs AS d INDEXED BY search_docs_by_agent WHERE \(facts.sql))",
                parameters: facts.parameters)
        } else {
            conditions.add(facts.sql, parameters: facts.parameters)
        }
        conditions.add(current)
        let statement = try self.connection.statement(
            """
            SELECT d.kind, bm25(search_text), snippet(search_text, 0, '«', '»', '…', 16), d.commit_ts, d.at,
                   d.agent_id, d.key, d.version, d.event_id, d.type, d.session_id, d.actor
            FROM search_text JOIN search_docs AS d ON d.id = search_text.rowid
            WHERE \(conditions.sql) ORDER BY bm25(search_text) LIMIT ? OFFSET ?
            """)
        conditions.bind(to: statement, trailing: [Int64(limit), Int64(offset)])
        var hits: [SearchHit] = []
        do {
            while try statement.step() {
                func optional(_ column: Int32) -> String? { statement.isNull(column) ? nil : statement.text(column) }
                hits.append(
                    SearchHit(
                        kind: SearchQuery.Kind(storedCode: Int(statement.int64(0))) ?? .state,
                        score: -statement.double(1), snippet: statement.text(2),
                        commitTS: statement.uint64(3), committedAt: statement.int64(4), agentID: optional(5),
                        key: optional(6), version: statement.isNull(7) ? nil : statement.uint64(7),
                        eventID: optional(8), type: optional(9), sessionID: optional(10), actor: optional(11)))
            }
        } catch let error as SQLiteError where error.code == 1 {
            // SQLITE_ERROR from a query step is the full-text parser refusing the query (storage failures have
            // their own codes: I/O, corruption, full disk).
            throw StatehouseError.invalidArgument("the search query is malformed: \(error.message)")
        }
        return hits
    }
}
