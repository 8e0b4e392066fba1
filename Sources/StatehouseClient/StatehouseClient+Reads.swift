public import StatehouseModel
import StatehouseProto
import StatehouseWire

extension StatehouseClient {
    /// One key at a point in history; a missing key is a normal result with `exists == false`.
    public func get(
        namespace: String = "default", agentID: String, key: String, at point: ReadPoint = .latest
    ) async throws
        -> StateRecord
    {
        if case .version(let version) = point {
            var request = Statehouse_V2_GetStateAtVersionRequest()
            request.namespace = namespace
            request.agentID = agentID
            request.key = key
            request.version = version
            return try await self.call { Wire.record(try await self.stub.getStateAtVersion(request).record) }
        }
        var request = Statehouse_V2_GetStateRequest()
        request.namespace = namespace
        request.agentID = agentID
        request.key = key
        if let at = try Wire.proto(point) { request.at = at }
        return try await self.call { Wire.record(try await self.stub.getState(request).record) }
    }

    /// Many keys at one point in history, from one snapshot.
    public func get(
        namespace: String = "default", keys: [KeyAddress], at point: ReadPoint = .latest
    ) async throws
        -> [StateRecord]
    {
        var request = Statehouse_V2_GetManyRequest()
        request.namespace = namespace
        request.keys = keys.map { address in
            var proto = Statehouse_V2_KeyAddress()
            proto.agentID = address.agentID
            proto.key = address.key
            return proto
        }
        if let at = try Wire.proto(point) { request.at = at }
        return try await self.call { try await self.stub.getMany(request).records.map(Wire.record) }
    }

    /// An agent's keys in byte order, without values.
    public func listKeys(
        namespace: String = "default",
        agentID: String,
        prefix: String = "",
        includeDeleted: Bool = false,
        limit: Int = 1000,
        cursor: String? = nil
    ) async throws -> Page<KeyEntry> {
        var request = Statehouse_V2_ListKeysRequest()
        request.namespace = namespace
        request.agentID = agentID
        request.prefix = prefix
        request.includeDeleted = includeDeleted
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        let response = try await self.call { try await self.stub.listKeys(request) }
        return Page(
            items: response.keys.map { KeyEntry(key: $0.key, version: $0.version, deleted: $0.deleted) },
            nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor
        )
    }

    /// An agent's live keys with values, latest or as of a point; from the first key after `startAfter` when given.
    public func scan(
        namespace: String = "default",
        agentID: String,
        prefix: String = "",
        at point: ReadPoint = .latest,
        limit: Int = 1000,
        cursor: String? = nil,
        startAfter: String? = nil
    ) async throws -> Page<StateRecord> {
        var request = Statehouse_V2_ScanPrefixRequest()
        request.namespace = namespace
        request.agentID = agentID
        request.prefix = prefix
        if let at = try Wire.proto(point) { request.at = at }
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        request.startAfter = startAfter ?? ""
        let response = try await self.call { try await self.stub.scanPrefix(request) }
        return Page(
            items: response.records.map(Wire.record),
            nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }

    /// Every version of a key, newest first.
    public func history(
        namespace: String = "default", agentID: String, key: String, limit: Int = 1000, cursor: String? = nil
    )
        async throws -> Page<StateRecord>
    {
        let response = try await self.history(
            namespace: namespace, agentID: agentID, key: key, limit: limit, cursor: cursor, withMetadata: false)
        return Page(
            items: response.versions.map(Wire.record),
            nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }

    private func history(
        namespace: String, agentID: String, key: String, limit: Int, cursor: String?, withMetadata: Bool
    ) async throws -> Statehouse_V2_HistoryResponse {
        var request = Statehouse_V2_HistoryRequest()
        request.namespace = namespace
        request.agentID = agentID
        request.key = key
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        request.withMetadata = withMetadata
        return try await self.call { try await self.stub.history(request) }
    }

    /// Every version of a key, newest first, each with the metadata (actor, reason, tags) of the commit that wrote
    /// it: the key's transitions and why they happened.
    public func transitions(
        namespace: String = "default", agentID: String, key: String, limit: Int = 1000, cursor: String? = nil
    ) async throws -> Page<(record: StateRecord, metadata: CommitMetadata)> {
        let response = try await self.history(
            namespace: namespace, agentID: agentID, key: key, limit: limit, cursor: cursor, withMetadata: true)
        let metadata = response.metadata.map(Wire.metadata)
        return Page(
            items: response.versions.enumerated().map {
                (Wire.record($0.element), $0.offset < metadata.count ? metadata[$0.offset] : CommitMetadata())
            },
            nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }

    /// Agents of a namespace, sorted; Statehouse's own agents (`@agents`, `@snapshots`) only with `includeReserved`.
    public func listAgents(
        namespace: String = "default", limit: Int = 1000, cursor: String? = nil, includeReserved: Bool = false
    ) async throws -> Page<String> {
        var request = Statehouse_V2_ListAgentsRequest()
        request.namespace = namespace
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        request.includeReserved = includeReserved
        let response = try await self.call { try await self.stub.listAgents(request) }
        return Page(items: response.agentIds, nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }

    /// Namespaces with at least one commit, with the end of each log.
    public func listNamespaces(limit: Int = 1000, cursor: String? = nil) async throws -> Page<LogHead> {
        var request = Statehouse_V2_ListNamespacesRequest()
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        let response = try await self.call { try await self.stub.listNamespaces(request) }
        return Page(
            items: response.namespaces.map(Wire.head),
            nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }

    /// The end of a namespace's log.
    public func head(namespace: String = "default") async throws -> LogHead {
        var request = Statehouse_V2_GetHeadRequest()
        request.namespace = namespace
        return try await self.call { Wire.head(try await self.stub.getHead(request)) }
    }
}
