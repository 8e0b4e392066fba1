extension StatehouseEngine {
    /// Full-text search in a namespace, best first (docs/architecture.md, "Search").
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for an empty query, a filter that is not a
    ///   valid name, or a query the full-text parser refuses (its reason is in the message).
    public func search(
        namespace: String = "default", _ query: SearchQuery, limit: Int = 20, cursor: String? = nil
    ) async throws -> Page<SearchHit> {
        try self.validateNamespace(namespace)
        let limit = try self.validatePageSize(limit)
        guard query.text.contains(where: { !$0.isWhitespace }) else {
            throw StatehouseError.invalidArgument("the search query is empty")
        }
        try NameValidation.validateText(query.text, field: "search query", maxBytes: 4096, allowEmpty: false)
        for (field, text) in [
            ("agent_id", query.agentID), ("key prefix", query.keyPrefix), ("type", query.type),
            ("session_id", query.sessionID), ("actor", query.actor),
        ] {
            if let text { try NameValidation.validateText(text, field: field, maxBytes: 1024, allowEmpty: true) }
        }
        // Pages are offsets into the ranked result: a commit between two pages may shift it by a few hits.
        let cursorQuery = [
            namespace, query.text, query.kinds.map(\.rawValue).sorted().joined(separator: ","), query.agentID ?? "",
            query.keyPrefix ?? "", query.type ?? "", query.sessionID ?? "", query.actor ?? "",
            query.since.map { "\($0)" } ?? "", query.until.map { "\($0)" } ?? "", query.history ? "1" : "0",
        ]
        let offset = try cursor.map { Int(try PageCursor.decodeNumber($0, kind: .scan, query: cursorQuery)) } ?? 0
        let hits = try await self.backend.search(namespace: namespace, query, offset: offset, limit: limit + 1)
        guard hits.count > limit else { return Page(items: hits, nextCursor: nil) }
        return Page(
            items: Array(hits.prefix(limit)),
            nextCursor: PageCursor.encodeNumber(kind: .scan, query: cursorQuery, position: UInt64(offset + limit)))
    }
}
