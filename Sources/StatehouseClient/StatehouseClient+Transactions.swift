import Foundation
public import StatehouseModel
import StatehouseWire
import StatehouseProto

/// An interactive transaction on the daemon; reads are recorded there for conflict checks.
public struct ClientTransaction: Sendable {
    let client: StatehouseClient
    public let txnID: String
    public let namespace: String

    /// Stages a write of `value` to `key`.
    public func put(agentID: String, key: String, value: JSONValue) async throws {
        var request = Statehouse_V2_WriteRequest()
        request.txnID = self.txnID
        request.agentID = agentID
        request.key = key
        request.value = Data(value.utf8)
        _ = try await self.client.call { try await self.client.stub.write(request) }
    }

    /// Stages a delete of `key`.
    public func delete(agentID: String, key: String) async throws {
        var request = Statehouse_V2_DeleteRequest()
        request.txnID = self.txnID
        request.agentID = agentID
        request.key = key
        _ = try await self.client.call { try await self.client.stub.delete(request) }
    }

    /// Reads a key: this transaction's staged write, else the committed state (recorded for conflict checks).
    public func get(agentID: String, key: String) async throws -> StateRecord {
        var request = Statehouse_V2_TransactionGetRequest()
        request.txnID = self.txnID
        request.agentID = agentID
        request.key = key
        return try await self.client.call { Wire.record(try await self.client.stub.transactionGet(request).record) }
    }

    /// Commits; safe to retry after a lost reply (the daemon returns the original result).
    public func commit(metadata: CommitMetadata? = nil) async throws -> CommitResult {
        var request = Statehouse_V2_CommitRequest()
        request.txnID = self.txnID
        if let metadata { request.metadata = Wire.proto(metadata) }
        return try await self.client.call { Wire.result(try await self.client.stub.commit(request)) }
    }

    /// Discards the transaction.
    public func abort() async throws {
        var request = Statehouse_V2_AbortRequest()
        request.txnID = self.txnID
        _ = try await self.client.call { try await self.client.stub.abort(request) }
    }
}

extension StatehouseClient {
    /// Begins an interactive transaction.
    public func beginTransaction(namespace: String = "default", timeout: Duration? = nil) async throws -> ClientTransaction {
        var request = Statehouse_V2_BeginTransactionRequest()
        request.namespace = namespace
        if let timeout { request.timeoutMs = UInt64(max(1, timeout.nanoseconds / 1_000_000)) }
        let response = try await self.call { try await self.stub.beginTransaction(request) }
        return ClientTransaction(client: self, txnID: response.txnID, namespace: response.namespace)
    }

    /// Runs `body` in a transaction that commits when `body` returns and aborts when it throws.
    ///
    /// - Returns: what `body` returned and the commit's result.
    /// - Throws: what `body` throws (after aborting), or the commit's error (``StatehouseError/conflict(agentID:key:expected:actual:)``
    ///   when a key it read changed: re-run the whole closure to retry).
    public func withTransaction<Result: Sendable>(
        namespace: String = "default",
        timeout: Duration? = nil,
        metadata: CommitMetadata? = nil,
        _ body: (ClientTransaction) async throws -> Result
    ) async throws -> (value: Result, commit: CommitResult) {
        let transaction = try await self.beginTransaction(namespace: namespace, timeout: timeout)
        let value: Result
        do {
            value = try await body(transaction)
        } catch {
            try? await transaction.abort()
            throw error
        }
        return (value, try await transaction.commit(metadata: metadata))
    }

    /// Commits operations atomically, subject to conditions (one request; no transaction to manage).
    public func commit(_ commit: AtomicCommit) async throws -> CommitResult {
        let request = Wire.proto(commit)
        return try await self.call { Wire.result(try await self.stub.apply(request)) }
    }
}
