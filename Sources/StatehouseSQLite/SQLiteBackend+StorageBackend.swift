public import StatehouseCore

extension SQLiteBackend {
    public func commit(_ batch: [CommitRequest], now: Microseconds) async throws -> BatchResolution {
        try await self.onWriter { try $0.commit(batch, now: now) }
    }

    public func append(_ events: [Event], tree: AppendedTree?, after head: LogHead) async throws {
        try await self.onWriter { try $0.append(events, tree: tree, after: head) }
    }

    public func committedResult(txnID: String) async throws -> CommitResult? {
        try await self.onReader { try SQLiteQueries.committedResult(txnID: txnID, on: $0.connection) }
    }

    public func head(namespace: String) async throws -> LogHead {
        try await self.onReader { try $0.head(namespace: namespace) }
    }

    public func referencedDigests(namespace: String) async throws -> Set<String> {
        try await self.onReader { try $0.referencedDigests(namespace: namespace) }
    }

    public func storedValueBytes(namespace: String) async throws -> Int {
        try await self.onReader { try $0.storedValueBytes(namespace: namespace) }
    }

    public func namespaces(after: String?, limit: Int) async throws -> [LogHead] {
        try await self.onReader { try $0.namespaces(after: after, limit: limit) }
    }

    public func get(namespace: String, agentID: String, key: String, at point: StoragePoint) async throws -> StateRecord
    {
        try await self.onReader { reader in
            if case .latest = point {
                return try reader.get(namespace: namespace, agentID: agentID, key: key, at: point)
            }
            return try reader.snapshot { try reader.get(namespace: namespace, agentID: agentID, key: key, at: point) }
        }
    }

    public func get(namespace: String, keys: [KeyAddress], at point: StoragePoint) async throws -> [StateRecord] {
        try await self.onReader { reader in
            try reader.snapshot { try reader.get(namespace: namespace, keys: keys, at: point) }
        }
    }

    public func listKeys(
        namespace: String,
        agentID: String,
        prefix: String,
        after: String?,
        includeDeleted: Bool,
        limit: Int
    ) async throws -> [KeyEntry] {
        try await self.onReader { reader in
            try reader.snapshot {
                try reader.listKeys(
                    namespace: namespace,
                    agentID: agentID,
                    prefix: prefix,
                    after: after,
                    includeDeleted: includeDeleted,
                    limit: limit
                )
            }
        }
    }

    public func scan(
        namespace: String,
        agentID: String,
        prefix: String,
        after: String?,
        atCommit: CommitTS?,
        limit: Int
    ) async throws -> [StateRecord] {
        try await self.onReader { reader in
            try reader.snapshot {
                try reader.scan(
                    namespace: namespace,
                    agentID: agentID,
                    prefix: prefix,
                    after: after,
                    atCommit: atCommit,
                    limit: limit
                )
            }
        }
    }

    public func history(
        namespace: String,
        agentID: String,
        key: String,
        beforeVersion: Version?,
        limit: Int
    ) async throws -> [StateRecord] {
        try await self.onReader {
            try $0.history(namespace: namespace, agentID: agentID, key: key, beforeVersion: beforeVersion, limit: limit)
        }
    }

    public func listAgents(
        namespace: String, after: String?, limit: Int, includeReserved: Bool
    ) async throws -> [String] {
        try await self.onReader { reader in
            try reader.snapshot {
                try reader.listAgents(
                    namespace: namespace, after: after, limit: limit, includeReserved: includeReserved)
            }
        }
    }

    public func agentKeyStats(namespace: String, agentIDs: [String]) async throws -> [AgentKeyStats] {
        try await self.onReader { reader in
            try reader.snapshot { try reader.agentKeyStats(namespace: namespace, agentIDs: agentIDs) }
        }
    }

    public func agentEvents(
        namespace: String, filter: AgentEventFilter, after: Int64?, limit: Int
    ) async throws -> [(sequence: Int64, record: StateRecord)] {
        try await self.onReader { reader in
            try reader.snapshot {
                try reader.agentEvents(namespace: namespace, filter: filter, after: after, limit: limit)
            }
        }
    }

    public func search(namespace: String, _ query: SearchQuery, offset: Int, limit: Int) async throws -> [SearchHit] {
        try await self.onReader { reader in
            try reader.snapshot { try reader.search(namespace: namespace, query, offset: offset, limit: limit) }
        }
    }

    public func commitMetadata(namespace: String, commitTSs: [CommitTS]) async throws -> [CommitMetadata] {
        try await self.onReader { reader in
            try reader.snapshot { try reader.commitMetadata(namespace: namespace, commitTSs: commitTSs) }
        }
    }

    public func events(_ query: EventQuery) async throws -> [Event] {
        try await self.onReader { try $0.events(query) }
    }

    public func commitTS(namespace: String, atOrBefore time: Microseconds) async throws -> CommitTS {
        try await self.onReader { reader in
            try reader.snapshot { try reader.commitTS(namespace: namespace, atOrBefore: time) }
        }
    }
}

extension SQLiteBackend {
    public func treeHead(namespace: String, size: UInt64?) async throws -> TreeHead {
        try await self.onReader { reader in
            try reader.snapshot { try reader.treeHead(namespace: namespace, size: size) }
        }
    }

    public func inclusionProof(namespace: String, commitTS: CommitTS, treeSize: UInt64?) async throws -> InclusionProof
    {
        try await self.onReader { reader in
            try reader.snapshot {
                try reader.inclusionProof(namespace: namespace, commitTS: commitTS, treeSize: treeSize)
            }
        }
    }

    public func consistencyProof(namespace: String, oldSize: UInt64, newSize: UInt64?) async throws -> ConsistencyProof
    {
        try await self.onReader { reader in
            try reader.snapshot {
                try reader.consistencyProof(namespace: namespace, oldSize: oldSize, newSize: newSize)
            }
        }
    }

    public func completedTreeNodes(namespace: String, from: CommitTS, to: CommitTS) async throws -> [[EventHash]] {
        try await self.onReader { reader in
            try reader.snapshot { try reader.completedTreeNodes(namespace: namespace, from: from, to: to) }
        }
    }

    public func treePrefix(namespace: String, size: UInt64) async throws -> [EventHash] {
        try await self.onReader { reader in
            try reader.snapshot { try reader.treePrefix(namespace: namespace, size: size) }
        }
    }

    public func verifiedRead(
        namespace: String, agentID: String, key: String, at point: StoragePoint, knownTreeSize: UInt64?
    ) async throws -> StorageVerifiedRead {
        try await self.onReader { reader in
            try reader.snapshot {
                try reader.verifiedRead(
                    namespace: namespace, agentID: agentID, key: key, at: point, knownTreeSize: knownTreeSize)
            }
        }
    }
}
