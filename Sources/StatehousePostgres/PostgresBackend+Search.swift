import NIOCore
import PostgresNIO
import StatehouseCore
public import StatehouseModel

/// Agent events and full-text search, from the index rows ``PostgresSearchIndex`` writes with each commit.
extension PostgresBackend {
    /// How many operations of one commit an agent event's `sequence` can tell apart: `sequence` is
    /// `commit_ts << 20 | op_index` (a commit has far fewer operations than 2^20, `EngineLimits` allows 10,000 by
    /// default, and commit_ts stays below 2^43).
    static let sequenceOperationBits = 20

    /// Recorded agent events (puts under `@events`) matching `filter`, in the order they were recorded, after the
    /// position `after`.
    ///
    /// SQLite's `sequence` is the event's versions row id; PostgreSQL has no store-wide row id (several daemons could
    /// not hand one out in commit order), so it is the event's place in the log, `commit_ts << 20 | op_index`
    /// (``sequenceOperationBits``): opaque to callers and increasing in recording order, as there. One index range
    /// of `statehouse_agent_events` (the planner picks the field's index) joined to each event's versions row, in one
    /// statement.
    public func agentEvents(
        namespace: String, filter: AgentEventFilter, after: Int64?, limit: Int
    ) async throws -> [(sequence: Int64, record: StateRecord)] {
        guard limit > 0 else { return [] }
        let after = max(after ?? 0, 0)
        let afterCommitTS = after >> Self.sequenceOperationBits
        let afterOpIndex = Int32(after & (1 << Self.sequenceOperationBits - 1))
        return try await self.read("reading agent events") { connection in
            let rows = try await connection.query(
                """
                SELECT e.commit_ts, e.op_index, v.key, v.version, v.value, v.committed_at
                FROM statehouse_agent_events AS e
                JOIN statehouse_versions AS v
                    ON v.ns_id = e.ns_id AND v.commit_ts = e.commit_ts AND v.op_index = e.op_index
                WHERE e.ns_id = (SELECT id FROM statehouse_namespaces WHERE name = \(namespace))
                  AND (e.commit_ts, e.op_index) > (\(afterCommitTS), \(afterOpIndex))
                  AND (\(filter.agentID)::text IS NULL OR e.agent_id = \(filter.agentID))
                  AND (\(filter.sessionID)::text IS NULL OR e.session_id = \(filter.sessionID))
                  AND (\(filter.type)::text IS NULL OR e.type = \(filter.type))
                  AND (\(filter.actor)::text IS NULL OR e.actor = \(filter.actor))
                  AND (\(filter.since)::bigint IS NULL OR e.occurred_at >= \(filter.since))
                  AND (\(filter.until)::bigint IS NULL OR e.occurred_at <= \(filter.until))
                ORDER BY e.commit_ts, e.op_index LIMIT \(limit)
                """, logger: self.logger)
            var events: [(sequence: Int64, record: StateRecord)] = []
            for try await (commitTS, opIndex, key, version, value, committedAt) in rows.decode(
                (Int64, Int32, String, Int64, ByteBuffer?, Int64).self)
            {
                events.append(
                    (
                        commitTS << Self.sequenceOperationBits | Int64(opIndex),
                        StateRecord(
                            agentID: ReservedNames.eventsAgent, key: key,
                            value: JSONValue(trusted: value.map(PostgresColumns.array) ?? []),
                            version: PostgresColumns.uint(version), commitTS: PostgresColumns.uint(commitTS),
                            committedAt: committedAt, deleted: false)
                    ))
            }
            return events
        }
    }

    /// Full-text search in a namespace, best first: `limit` hits after skipping `offset`.
    ///
    /// The query is FTS5 syntax, parsed here (``PostgresSearchQuery``) into a `tsquery` of the 'simple' configuration
    /// and matched against each document's `body_vector` (GIN index); the filters and the check that a document is
    /// its key's (or event's) current version are conditions on the documents' columns, as on SQLite, all in one
    /// statement. Where the results differ from SQLite's:
    ///
    /// - Scores are `ts_rank_cd` (cover density, scaled by the log of the document's length), not BM25: the numbers
    ///   differ, and so may the order of hits, most of all between documents that BM25 tells apart by how rare a word
    ///   is across the namespace (`ts_rank_cd` does not weigh that). Equally ranked hits come in the order their
    ///   documents were written (SQLite: whatever order FTS5 gives).
    /// - Snippets are `ts_headline`'s, with the same markers (« », and … where the text goes on): the words around the
    ///   best match, up to 16, each word of a phrase marked on its own (FTS5 marks the phrase). A match inside an
    ///   e-mail address, URL, host name or path is found but not marked (PostgreSQL's parser keeps those whole).
    /// - Words are compared after lower-casing by the database's `LC_CTYPE` (only ASCII under the C locale) and
    ///   without removing diacritics (`café` does not match `cafe`; FTS5's `remove_diacritics 2` does).
    /// - `NEAR(…)`, column filters and `^` are refused (INVALID_ARGUMENT) instead of run.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a query FTS5 would refuse or one using
    ///   syntax this store does not support, naming the reason.
    public func search(namespace: String, _ query: SearchQuery, offset: Int, limit: Int) async throws -> [SearchHit] {
        guard let tsquery = try PostgresSearchQuery(query.text).tsquery, limit > 0 else { return [] }
        let kinds = (query.kinds.isEmpty ? Set(SearchQuery.Kind.allCases) : query.kinds).map {
            Int16($0.storedCode)
        }
        let trimmed = " \t\r\n" + PostgresSearchIndex.separators
        return try await self.read("searching") { connection in
            // The page is ranked and cut in the inner query; only its hits get a headline (the costly part).
            let rows = try await connection.query(
                """
                SELECT h.kind, h.rank,
                    CASE WHEN starts_with(ltrim(h.body, \(trimmed)), ltrim(p.plain, \(trimmed))) THEN '' ELSE '…' END
                        || s.snippet
                        || CASE WHEN right(rtrim(h.body, \(trimmed)), length(rtrim(p.plain, \(trimmed))))
                                     = rtrim(p.plain, \(trimmed))
                                THEN '' ELSE '…' END,
                    h.commit_ts, h.at, h.agent_id, h.key, h.version, h.event_id, h.type, h.session_id, h.actor
                FROM (
                    SELECT d.id, d.kind, ts_rank_cd(d.body_vector, q.query, 1) AS rank, d.body, d.commit_ts, d.at,
                        d.agent_id, d.key, d.version, d.event_id, d.type, d.session_id, d.actor
                    FROM statehouse_search_docs AS d, to_tsquery('simple', \(tsquery)) AS q(query)
                    WHERE d.ns_id = (SELECT id FROM statehouse_namespaces WHERE name = \(namespace))
                      AND d.body_vector @@ q.query
                      AND d.kind = ANY(\(kinds)::smallint[])
                      AND (\(query.agentID)::text IS NULL OR d.agent_id = \(query.agentID))
                      AND (\(query.type)::text IS NULL OR d.type = \(query.type))
                      AND (\(query.sessionID)::text IS NULL OR d.session_id = \(query.sessionID))
                      AND (\(query.actor)::text IS NULL OR d.actor = \(query.actor))
                      AND (\(query.keyPrefix ?? "") = '' OR (d.kind = 1 AND starts_with(d.key, \(query.keyPrefix ?? ""))))
                      AND (\(query.since)::bigint IS NULL OR d.at >= \(query.since))
                      AND (\(query.until)::bigint IS NULL OR d.at <= \(query.until))
                      AND (d.kind = 3 OR (\(query.history) AND d.kind = 1) OR NOT EXISTS (
                          SELECT 1 FROM statehouse_versions AS n
                          WHERE n.ns_id = d.ns_id
                            AND n.agent_id = (CASE d.kind WHEN 2 THEN \(ReservedNames.eventsAgent) ELSE d.agent_id END)
                            AND n.key = (CASE d.kind WHEN 2 THEN d.event_id ELSE d.key END)
                            AND n.version > d.version))
                    ORDER BY rank DESC, d.id LIMIT \(limit) OFFSET \(max(offset, 0))
                ) AS h
                CROSS JOIN LATERAL ts_headline(
                    'simple', h.body, to_tsquery('simple', \(tsquery)),
                    'StartSel=«, StopSel=», MaxWords=16, MinWords=8, ShortWord=0, MaxFragments=0') AS w(whole)
                -- A body that fits in one snippet is shown whole, as FTS5 does; fragment mode would cut its last
                -- words ("trying «step»" for "trying step 2"). A longer one gets the best fragment.
                CROSS JOIN LATERAL (SELECT CASE
                    WHEN replace(replace(w.whole, '«', ''), '»', '') = h.body THEN w.whole
                    ELSE ts_headline(
                        'simple', h.body, to_tsquery('simple', \(tsquery)),
                        'StartSel=«, StopSel=», MaxWords=16, MinWords=8, ShortWord=0, MaxFragments=1')
                    END) AS s(snippet)
                CROSS JOIN LATERAL replace(replace(s.snippet, '«', ''), '»', '') AS p(plain)
                ORDER BY h.rank DESC, h.id
                """, logger: self.logger)
            var hits: [SearchHit] = []
            for try await row in rows.decode(
                (
                    Int16, Float, String, Int64, Int64, String?, String?, Int64?, String?, String?, String?, String?
                ).self)
            {
                hits.append(
                    SearchHit(
                        kind: SearchQuery.Kind(storedCode: Int(row.0)) ?? .state, score: Double(row.1),
                        snippet: row.2, commitTS: PostgresColumns.uint(row.3), committedAt: row.4, agentID: row.5,
                        key: row.6, version: row.7.map(PostgresColumns.uint), eventID: row.8, type: row.9,
                        sessionID: row.10, actor: row.11))
            }
            return hits
        }
    }
}
