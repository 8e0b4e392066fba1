import Logging
import NIOCore
import PostgresNIO
import StatehouseCore
import StatehouseModel

/// The agent-event index and the full-text documents, written in the commit's transaction: the same rows SQLite's
/// writer writes (`SQLiteEventIndex`, `SQLiteSearchIndex`), for a whole batch in one statement.
///
/// - `statehouse_agent_events`: one row per live put under `@events` whose value is an event record, keyed by the
///   put's `(commit_ts, op_index)`, so every index over `(ns_id, field, commit_ts, op_index)` returns events in the
///   order they were recorded. A later version of the same event key (a delete, say) removes the earlier one's row.
/// - `statehouse_search_docs`: one document per event put (the strings of its content and metadata), per commit with
///   metadata (actor, reason, tags) and, when the store indexes state, per put to a user agent whose value holds
///   strings. Old versions stay; a query leaves them out unless it asks for history.
///
/// SQLite runs these statements per operation. Here the batch's rows go to PostgreSQL as arrays (`unnest`), the
/// removals, event rows and documents in one statement, so indexing costs one round trip per batch whatever its size
/// and none for a batch with nothing to index. The statement's parts see the table as it was before it, so a row the
/// same batch would add and then remove (an event key written twice in one batch) is never added.
enum PostgresSearchIndex {
    /// The characters that separate words besides white space, both in documents (the schema's `body_vector` turns
    /// them into spaces before PostgreSQL's parser sees the text) and in queries (``PostgresSearchQuery``): ASCII
    /// punctuation and the common Unicode quotes and dashes.
    ///
    /// PostgreSQL's parser keeps e-mail addresses, URLs, host names, paths and version numbers whole (`bob@example.com`
    /// is one word), where FTS5's `unicode61` splits them; with these gone both split the same words out of the same
    /// text. No quote or backslash survives in a word, so a word can be quoted into `tsquery` text as it is.
    static let separators = ##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"## + "“”‘’«»‹›„‚—–…·•¡¿"

    private static let separatorSet = Set(separators.unicodeScalars)

    /// Whether `scalar` ends a word: a separator, white space or a control character.
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || scalar.properties.isWhitespace
            || self.separatorSet.contains(scalar)
    }

    /// `body_vector`'s expression: the words of `body` once the separators are spaces ('simple': lower case, no stop
    /// words, no stemming, as FTS5's `unicode61`).
    static var vectorExpression: String {
        // An E'' literal: a backslash and a quote are escaped with a backslash, whatever
        // standard_conforming_strings says.
        var from = ""
        for scalar in self.separators.unicodeScalars {
            if scalar == "\\" || scalar == "'" { from += "\\" }
            from.unicodeScalars.append(scalar)
        }
        let to = String(repeating: " ", count: self.separators.unicodeScalars.count)
        return "to_tsvector('simple', translate(body, E'\(from)', '\(to)'))"
    }

    /// Writes the index rows of a batch's stored events (after their versions rows, in the same transaction).
    static func didStore(
        _ events: [Event], namespaceIDs: [String: Int64], indexState: Bool, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        var rows = IndexRows()
        for event in events {
            guard let namespaceID = namespaceIDs[event.namespace] else { continue }
            for (index, operation) in event.operations.enumerated() {
                rows.add(operation, index: index, of: event, namespaceID: namespaceID, indexState: indexState)
            }
            if !event.metadata.isEmpty {
                let text = SearchText.metadata(event.metadata)
                if !text.isEmpty {
                    rows.documents.add(
                        .commit, namespaceID: namespaceID, commitTS: event.commitTS, at: event.committedAt,
                        actor: event.metadata.actor, body: text)
                }
            }
        }
        try await rows.insert(on: connection, logger: logger)
    }

    /// PostgreSQL's text holds no NUL; a NUL inside a JSON string ends a word, as white space does.
    static func text(_ string: String) -> String {
        guard string.utf8.contains(0) else { return string }
        return String(String.UnicodeScalarView(string.unicodeScalars.map { $0 == "\u{0}" ? " " : $0 }))
    }
}

/// The index rows of a batch, as columns.
private struct IndexRows {
    /// An event key of a namespace.
    struct EventKey: Hashable {
        var namespaceID: Int64
        var key: String
    }

    /// The rows a batch adds to `statehouse_agent_events`, by key: a later version of the key in the batch removes
    /// the earlier one's (`nil` when the latest is not an event record).
    var events: [EventKey: EventRow?] = [:]
    /// The keys of `events` in the order of their first write in the batch (a stable order for the statement).
    var eventKeys: [EventKey] = []
    /// Rewritten event keys with the version before the rewrite, whose row goes.
    var removals: [(key: EventKey, previous: Version)] = []
    var documents = DocumentRows()

    struct EventRow {
        var commitTS: CommitTS
        var opIndex: Int32
        var fields: AgentEventCodec.IndexFields
    }

    mutating func add(
        _ operation: AppliedOperation, index: Int, of event: Event, namespaceID: Int64, indexState: Bool
    ) {
        guard operation.agentID == ReservedNames.eventsAgent else {
            if indexState, !ReservedNames.isReserved(operation.agentID), operation.kind == .put,
                let value = operation.value
            {
                let text = SearchText.strings(of: value.utf8)
                if !text.isEmpty {
                    self.documents.add(
                        .state, namespaceID: namespaceID, commitTS: event.commitTS, at: event.committedAt,
                        agentID: operation.agentID, key: operation.key, version: operation.version, body: text)
                }
            }
            return
        }
        let eventKey = EventKey(namespaceID: namespaceID, key: operation.key)
        if operation.version > 1 { self.removals.append((eventKey, operation.version - 1)) }
        if self.events.updateValue(nil, forKey: eventKey) == nil { self.eventKeys.append(eventKey) }
        guard operation.kind == .put, let value = operation.value, let record = try? ParsedJSON(parsing: value.utf8),
            let fields = AgentEventCodec.indexFields(record)
        else { return }
        self.events[eventKey] = EventRow(commitTS: event.commitTS, opIndex: Int32(index), fields: fields)
        let text = [record[member: "content"], record[member: "metadata"]].compactMap { member -> String? in
            member.map(SearchText.strings(of:))
        }.filter { !$0.isEmpty }.joined(separator: "\n")
        guard !text.isEmpty else { return }
        self.documents.add(
            .event, namespaceID: namespaceID, commitTS: event.commitTS, at: fields.occurredAt, agentID: fields.agentID,
            version: operation.version, eventID: operation.key, type: fields.type, sessionID: fields.sessionID,
            actor: fields.actor, body: text)
    }

    /// One statement: the removals, then (in the same snapshot) the event rows and the documents. Arrays cannot hold
    /// NULL here (see `EventRows` in PostgresBackend+Writes.swift): a flag says where an optional is absent.
    func insert(on connection: PostgresConnection, logger: Logger) async throws {
        let rows = self.eventKeys.compactMap { key in self.events[key]!.map { (key, $0) } }
        guard !rows.isEmpty || !self.removals.isEmpty || !self.documents.namespaceIDs.isEmpty else { return }
        let removedNamespaceIDs = self.removals.map(\.key.namespaceID)
        let removedKeys = self.removals.map { PostgresSearchIndex.text($0.key.key) }
        let removedVersions = self.removals.map { PostgresColumns.int($0.previous) }
        let namespaceIDs = rows.map(\.0.namespaceID)
        let commitTSs = rows.map { PostgresColumns.int($0.1.commitTS) }
        let opIndexes = rows.map(\.1.opIndex)
        let agentIDs = rows.map { PostgresSearchIndex.text($0.1.fields.agentID) }
        let hasSession = rows.map { $0.1.fields.sessionID != nil }
        let sessionIDs = rows.map { PostgresSearchIndex.text($0.1.fields.sessionID ?? "") }
        let types = rows.map { PostgresSearchIndex.text($0.1.fields.type) }
        let hasActor = rows.map { $0.1.fields.actor != nil }
        let actors = rows.map { PostgresSearchIndex.text($0.1.fields.actor ?? "") }
        let occurredAts = rows.map(\.1.fields.occurredAt)
        let docs = self.documents
        try await connection.query(
            """
            WITH removed AS (
                DELETE FROM statehouse_agent_events AS e
                USING unnest(\(removedNamespaceIDs)::bigint[], \(removedKeys)::text[], \(removedVersions)::bigint[])
                        AS r(ns_id, key, version),
                    statehouse_versions AS v
                WHERE v.ns_id = r.ns_id AND v.agent_id = \(ReservedNames.eventsAgent) AND v.key = r.key
                  AND v.version = r.version
                  AND e.ns_id = v.ns_id AND e.commit_ts = v.commit_ts AND e.op_index = v.op_index
            ), recorded AS (
                INSERT INTO statehouse_agent_events(ns_id, commit_ts, op_index, agent_id, session_id, type, actor,
                                                    occurred_at)
                SELECT ns_id, commit_ts, op_index, agent_id, CASE WHEN has_session THEN session_id END, type,
                    CASE WHEN has_actor THEN actor END, occurred_at
                FROM unnest(\(namespaceIDs)::bigint[], \(commitTSs)::bigint[], \(opIndexes)::int[],
                            \(agentIDs)::text[], \(hasSession)::boolean[], \(sessionIDs)::text[], \(types)::text[],
                            \(hasActor)::boolean[], \(actors)::text[], \(occurredAts)::bigint[])
                    AS a(ns_id, commit_ts, op_index, agent_id, has_session, session_id, type, has_actor, actor,
                         occurred_at)
            )
            INSERT INTO statehouse_search_docs(ns_id, kind, agent_id, key, version, event_id, type, session_id, actor,
                                               commit_ts, at, body)
            SELECT ns_id, kind, CASE WHEN kind <> 3 THEN agent_id END, CASE WHEN kind = 1 THEN key END,
                CASE WHEN kind <> 3 THEN version END, CASE WHEN kind = 2 THEN event_id END,
                CASE WHEN kind = 2 THEN type END, CASE WHEN has_session THEN session_id END,
                CASE WHEN has_actor THEN actor END, commit_ts, at, body
            FROM unnest(\(docs.namespaceIDs)::bigint[], \(docs.kinds)::smallint[], \(docs.agentIDs)::text[],
                        \(docs.keys)::text[], \(docs.versions)::bigint[], \(docs.eventIDs)::text[],
                        \(docs.types)::text[], \(docs.hasSession)::boolean[], \(docs.sessionIDs)::text[],
                        \(docs.hasActor)::boolean[], \(docs.actors)::text[], \(docs.commitTSs)::bigint[],
                        \(docs.ats)::bigint[], \(docs.bodies)::text[])
                WITH ORDINALITY
                AS d(ns_id, kind, agent_id, key, version, event_id, type, has_session, session_id, has_actor, actor,
                     commit_ts, at, body, position)
            ORDER BY position
            """, logger: logger)
    }
}

/// The documents of a batch, as columns; the columns a kind has no value for hold a placeholder.
private struct DocumentRows {
    var namespaceIDs: [Int64] = []
    var kinds: [Int16] = []
    var agentIDs: [String] = []
    var keys: [String] = []
    var versions: [Int64] = []
    var eventIDs: [String] = []
    var types: [String] = []
    var hasSession: [Bool] = []
    var sessionIDs: [String] = []
    var hasActor: [Bool] = []
    var actors: [String] = []
    var commitTSs: [Int64] = []
    var ats: [Int64] = []
    var bodies: [String] = []

    mutating func add(
        _ kind: SearchQuery.Kind, namespaceID: Int64, commitTS: CommitTS, at: Microseconds,
        agentID: String? = nil, key: String? = nil, version: Version? = nil, eventID: String? = nil,
        type: String? = nil, sessionID: String? = nil, actor: String? = nil, body: String
    ) {
        self.namespaceIDs.append(namespaceID)
        self.kinds.append(Int16(kind.storedCode))
        self.agentIDs.append(PostgresSearchIndex.text(agentID ?? ""))
        self.keys.append(PostgresSearchIndex.text(key ?? ""))
        self.versions.append(PostgresColumns.int(version ?? 0))
        self.eventIDs.append(PostgresSearchIndex.text(eventID ?? ""))
        self.types.append(PostgresSearchIndex.text(type ?? ""))
        self.hasSession.append(sessionID != nil)
        self.sessionIDs.append(PostgresSearchIndex.text(sessionID ?? ""))
        self.hasActor.append(actor != nil)
        self.actors.append(PostgresSearchIndex.text(actor ?? ""))
        self.commitTSs.append(PostgresColumns.int(commitTS))
        self.ats.append(at)
        self.bodies.append(PostgresSearchIndex.text(body))
    }
}
