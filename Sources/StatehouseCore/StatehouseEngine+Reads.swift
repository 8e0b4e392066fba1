import Logging

extension StatehouseEngine {
    /// Reads one key at a point in history. A key that does not exist there is a normal result
    /// (`exists == false`), not an error.
    ///
    /// - Parameters:
    ///   - at: ``StatehouseModel/ReadPoint/latest`` (default), a key version, a commit_ts, or a wall-clock time.
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for bad names or version 0.
    public func get(
        namespace: String = "default",
        agentID: String,
        key: String,
        at point: ReadPoint = .latest
    ) async throws -> StateRecord {
        try self.validateAddress(namespace: namespace, agentID: agentID, key: key)
        self.metrics.read(.get)
        let storagePoint = try await self.storagePoint(point, namespace: namespace)
        return try await self.explainingRetention(namespace: namespace) {
            try await self.backend.get(namespace: namespace, agentID: agentID, key: key, at: storagePoint)
        }
    }

    /// A read point as the backend takes it: a time resolved to the commit_ts in effect then.
    func storagePoint(_ point: ReadPoint, namespace: String) async throws -> StoragePoint {
        switch point {
        case .latest:
            return .latest
        case .version(let version):
            guard version >= 1 else { throw StatehouseError.invalidArgument("versions start at 1") }
            return .version(version)
        case .commit(let commitTS):
            return .commit(commitTS)
        case .time(let time):
            return .commit(try await self.backend.commitTS(namespace: namespace, atOrBefore: time))
        }
    }

    /// Lists an agent's keys in byte order, without values; deleted keys are hidden unless asked for.
    ///
    /// - Parameters:
    ///   - prefix: only keys starting with it.
    ///   - includeDeleted: also list keys whose latest version is a tombstone.
    ///   - limit: most keys in the page (1 … ``StatehouseModel/EngineLimits/maxPageSize``).
    ///   - cursor: `nextCursor` of the previous page.
    public func listKeys(
        namespace: String = "default",
        agentID: String,
        prefix: String = "",
        includeDeleted: Bool = false,
        limit: Int = 1000,
        cursor: String? = nil
    ) async throws -> Page<KeyEntry> {
        try self.validateNamespace(namespace)
        try NameValidation.validateAgentID(agentID, limits: self.limits)
        try NameValidation.validatePrefix(prefix, limits: self.limits)
        let limit = try self.validatePageSize(limit)
        self.metrics.read(.listKeys)
        let query = [namespace, agentID, prefix, includeDeleted ? "1" : "0"]
        let after = try cursor.map { try PageCursor.decodeString($0, kind: .keys, query: query) }
        let items = try await self.backend.listKeys(
            namespace: namespace,
            agentID: agentID,
            prefix: prefix,
            after: after,
            includeDeleted: includeDeleted,
            limit: limit + 1
        )
        return self.page(items, limit: limit) { PageCursor.encodeString(kind: .keys, query: query, position: $0.key) }
    }

    /// Reads an agent's live keys with their values in byte order, at the latest state or as of a point.
    ///
    /// - Parameters:
    ///   - at: ``StatehouseModel/ReadPoint/latest``, ``StatehouseModel/ReadPoint/commit(_:)`` or
    ///     ``StatehouseModel/ReadPoint/time(_:)``; a key version is refused.
    ///   - startAfter: begin with the first key after it (byte order), as etcd's range start does; a cursor, which is
    ///     always further on, takes its place on later pages.
    public func scan(
        namespace: String = "default",
        agentID: String,
        prefix: String = "",
        at point: ReadPoint = .latest,
        limit: Int = 1000,
        cursor: String? = nil,
        startAfter: String? = nil
    ) async throws -> Page<StateRecord> {
        try self.validateNamespace(namespace)
        try NameValidation.validateAgentID(agentID, limits: self.limits)
        try NameValidation.validatePrefix(prefix, limits: self.limits)
        if let startAfter {
            try NameValidation.validateText(
                startAfter, field: "start_after", maxBytes: self.limits.maxKeyBytes, allowEmpty: true)
        }
        let limit = try self.validatePageSize(limit)
        self.metrics.read(.scan)
        let atCommit: CommitTS?
        switch point {
        case .latest: atCommit = nil
        case .commit(let commitTS): atCommit = commitTS
        case .time(let time): atCommit = try await self.backend.commitTS(namespace: namespace, atOrBefore: time)
        case .version: throw StatehouseError.invalidArgument("a prefix scan cannot be pinned to a key version")
        }
        let query = [namespace, agentID, prefix, atCommit.map { "\($0)" } ?? "latest"]
        // A cursor is always at or past the key the first page started after.
        let after = try cursor.map { try PageCursor.decodeString($0, kind: .scan, query: query) } ?? startAfter
        let items = try await self.explainingRetention(namespace: namespace) {
            try await self.backend.scan(
                namespace: namespace,
                agentID: agentID,
                prefix: prefix,
                after: after,
                atCommit: atCommit,
                limit: limit + 1
            )
        }
        return self.page(items, limit: limit) { PageCursor.encodeString(kind: .scan, query: query, position: $0.key) }
    }

    /// Every version of one key, newest first, tombstones included.
    public func history(
        namespace: String = "default",
        agentID: String,
        key: String,
        limit: Int = 1000,
        cursor: String? = nil
    ) async throws -> Page<StateRecord> {
        try self.validateAddress(namespace: namespace, agentID: agentID, key: key)
        let limit = try self.validatePageSize(limit)
        self.metrics.read(.history)
        let query = [namespace, agentID, key]
        let before = try cursor.map { try PageCursor.decodeNumber($0, kind: .history, query: query) }
        let items = try await self.backend.history(
            namespace: namespace,
            agentID: agentID,
            key: key,
            beforeVersion: before,
            limit: limit + 1
        )
        return self.page(items, limit: limit) {
            PageCursor.encodeNumber(kind: .history, query: query, position: $0.version)
        }
    }

    /// The metadata (actor, reason, tags) of the commits that wrote `records`, in order: beside
    /// ``history(namespace:agentID:key:limit:cursor:)`` it shows each transition of a key and why it happened.
    public func commitMetadata(
        namespace: String = "default", of records: [StateRecord]
    ) async throws
        -> [CommitMetadata]
    {
        try self.validateNamespace(namespace)
        return try await self.backend.commitMetadata(namespace: namespace, commitTSs: records.map(\.commitTS))
    }

    /// The agents of a namespace, sorted: those that wrote a key or have a record (``getAgent(namespace:agentID:)``),
    /// deleted ones (``deleteAgent(namespace:agentID:metadata:)``) left out.
    ///
    /// With `includeReserved`, every agent that ever wrote a key instead, Statehouse's own agents
    /// (``StatehouseModel/ReservedNames``) and deleted agents included: what an export of the whole state wants.
    public func listAgents(
        namespace: String = "default", limit: Int = 1000, cursor: String? = nil, includeReserved: Bool = false
    ) async throws -> Page<String> {
        try self.validateNamespace(namespace)
        let limit = try self.validatePageSize(limit)
        guard includeReserved else {
            let page = try await self.agentListing(
                namespace: namespace, status: nil, includeDeleted: false, counts: false, limit: limit, cursor: cursor)
            return Page(items: page.items.map(\.agentID), nextCursor: page.nextCursor)
        }
        let query = [namespace, "reserved"]
        let after = try cursor.map { try PageCursor.decodeString($0, kind: .agents, query: query) }
        let items = try await self.backend.listAgents(
            namespace: namespace, after: after, limit: limit + 1, includeReserved: true)
        return self.page(items, limit: limit) { PageCursor.encodeString(kind: .agents, query: query, position: $0) }
    }

    /// Namespaces that have at least one commit, sorted by name, with the end of each log.
    public func listNamespaces(limit: Int = 1000, cursor: String? = nil) async throws -> Page<LogHead> {
        let limit = try self.validatePageSize(limit)
        let after = try cursor.map { try PageCursor.decodeString($0, kind: .namespaces, query: []) }
        let items = try await self.backend.namespaces(after: after, limit: limit + 1)
        return self.page(items, limit: limit) {
            PageCursor.encodeString(kind: .namespaces, query: [], position: $0.namespace)
        }
    }

    /// The end of a namespace's log: last commit_ts and hash (commit_ts 0 for a namespace with no commits).
    public func head(namespace: String = "default") async throws -> LogHead {
        try self.validateNamespace(namespace)
        return try await self.backend.head(namespace: namespace)
    }

    /// Cuts a `limit + 1` result down to a page whose cursor points after its last item.
    func page<Item>(_ items: [Item], limit: Int, cursor: (Item) -> String) -> Page<Item> {
        guard items.count > limit else { return Page(items: items, nextCursor: nil) }
        let pageItems = Array(items.prefix(limit))
        return Page(items: pageItems, nextCursor: cursor(pageItems[pageItems.count - 1]))
    }
}

extension StatehouseEngine {
    /// Reads many keys at one point in history, from one consistent snapshot, in one trip to a reader thread.
    ///
    /// Each read costs far less than the hand-off to a reader thread, so batching is how a caller with many keys
    /// (or a server pipelining many clients' reads) gets the most reads per second.
    ///
    /// - Parameters:
    ///   - keys: at most ``StatehouseModel/EngineLimits/maxPageSize`` addresses; the result has one record per address,
    ///     in order.
    ///   - at: any point except a key version.
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for bad names, too many keys or a key-version
    ///   point.
    public func get(
        namespace: String = "default", keys: [KeyAddress], at point: ReadPoint = .latest
    ) async throws
        -> [StateRecord]
    {
        try self.validateNamespace(namespace)
        guard keys.count <= self.limits.maxPageSize else {
            throw StatehouseError.invalidArgument(
                "a multi-key read asks for \(keys.count) keys; the limit is \(self.limits.maxPageSize)"
            )
        }
        for address in keys {
            try NameValidation.validateAgentID(address.agentID, limits: self.limits)
            try NameValidation.validateKey(address.key, limits: self.limits)
        }
        self.metrics.read(.getMany)
        let storagePoint: StoragePoint
        switch point {
        case .latest: storagePoint = .latest
        case .commit(let commitTS):
            storagePoint = .commit(commitTS)
        case .time(let time):
            storagePoint = .commit(try await self.backend.commitTS(namespace: namespace, atOrBefore: time))
        case .version:
            throw StatehouseError.invalidArgument("a multi-key read cannot be pinned to a key version")
        }
        return try await self.explainingRetention(namespace: namespace) {
            try await self.backend.get(namespace: namespace, keys: keys, at: storagePoint)
        }
    }
}
