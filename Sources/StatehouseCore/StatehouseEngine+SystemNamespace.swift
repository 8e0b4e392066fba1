public import StatehouseModel

extension StatehouseEngine {
    /// Every live record under a reserved agent of the system namespace (``StatehouseModel/SystemNamespace``), in
    /// key order, as of one commit.
    public func systemRecords(agent: String) async throws -> [StateRecord] {
        try Self.requireReserved(agent)
        let head = try await self.backend.head(namespace: SystemNamespace.name)
        guard head.commitTS > 0 else { return [] }
        return try await self.agentState(namespace: SystemNamespace.name, agentID: agent, at: head.commitTS)
            .filter(\.exists)
    }

    /// One record of the system namespace, latest version (its version is 0 when it was never written).
    public func systemRecord(agent: String, key: String) async throws -> StateRecord {
        try Self.requireReserved(agent)
        return try await self.backend.get(namespace: SystemNamespace.name, agentID: agent, key: key, at: .latest)
    }

    /// Writes one record of the system namespace in its own commit, on condition that it is still at `readVersion`
    /// (0: it must not exist): a concurrent change is a conflict, never a lost update.
    @discardableResult
    public func writeSystemRecord(
        agent: String, key: String, value: JSONValue, readVersion: Version, reason: String
    ) async throws -> CommitResult {
        try Self.requireReserved(agent)
        return try await self.commitRecord(
            namespace: SystemNamespace.name, agent: agent, key: key, value: value, readVersion: readVersion,
            reason: reason)
    }

    /// The bytes of every stored value of a namespace, all versions (what a stored-bytes quota counts).
    public func storedValueBytes(namespace: String) async throws -> Int {
        try self.validateNamespace(namespace)
        return try await self.backend.storedValueBytes(namespace: namespace)
    }

    /// The SHA-256 digests the namespace's stored values (every version, provenance records included) mention: what
    /// an artifact collection must keep.
    public func referencedDigests(namespace: String) async throws -> Set<String> {
        try self.validateNamespace(namespace)
        return try await self.backend.referencedDigests(namespace: namespace)
    }

    private static func requireReserved(_ agent: String) throws {
        guard ReservedNames.isReserved(agent) else {
            throw StatehouseError.invalidArgument("system records live under reserved agents ('@…'), not '\(agent)'")
        }
    }
}
