import Foundation
public import StatehouseModel
import StatehouseProto
import StatehouseWire
import Synchronization

/// A transaction begun by the client: writes are buffered here, the versions of the keys it reads are kept as
/// conditions, and ``commit(metadata:)`` sends everything in one call (`Commit` with `begun_by_client`), so the whole
/// transaction costs one round trip plus its reads. The daemon checks every read version at commit (a key read that
/// changed since is a conflict, nothing applied), exactly as it does for transactions begun on it, and applies the
/// commit once by its id however often it is retried.
public final class ClientTransaction: Sendable {
    private enum Phase: Sendable {
        case open
        case committed(CommitResult)
        case aborted
        case failed
    }

    private struct Buffer: Sendable {
        var operations: [WriteOperation] = []
        var operationIndex: [KeyAddress: Int] = [:]
        var conditions: [KeyAddress: AtomicCommit.Condition] = [:]
        var phase = Phase.open
    }

    let client: StatehouseClient
    /// A version 7 UUID made by the client; the committed event's txn_id.
    public let txnID: String
    public let namespace: String
    /// The transaction's timeout: a commit after it is refused, as the daemon refuses an expired transaction.
    public let timeout: Duration
    private let begun = ContinuousClock.now
    private let buffer = Mutex(Buffer())

    init(client: StatehouseClient, txnID: String, namespace: String, timeout: Duration) {
        self.client = client
        self.txnID = txnID
        self.namespace = namespace
        self.timeout = timeout
    }

    /// Buffers a write of `value` to `key` (a later write or delete of the same key replaces it).
    public func put(agentID: String, key: String, value: JSONValue) async throws {
        try self.stage(.put(agentID: agentID, key: key, value: value))
    }

    /// Buffers a delete of `key`.
    public func delete(agentID: String, key: String) async throws {
        try self.stage(.delete(agentID: agentID, key: key))
    }

    /// Reads a key: this transaction's own write, else the latest committed state, whose version the commit then
    /// requires (the read is checked for conflicts at commit).
    public func get(agentID: String, key: String) async throws -> StateRecord {
        let address = KeyAddress(agentID: agentID, key: key)
        if let own = try self.buffer.withLock({ buffer -> WriteOperation? in
            try Self.requireOpen(buffer.phase, txnID: self.txnID)
            return buffer.operationIndex[address].map { buffer.operations[$0] }
        }) {
            return StateRecord(
                agentID: agentID, key: key, value: own.value, version: 0, commitTS: 0, committedAt: 0,
                deleted: own.kind == .delete
            )
        }
        let record = try await self.client.get(namespace: self.namespace, agentID: agentID, key: key)
        self.buffer.withLock { buffer in
            guard buffer.conditions[address] == nil else { return }
            buffer.conditions[address] = AtomicCommit.Condition(
                agentID: agentID,
                key: key,
                expected: record.version == 0 ? .absent : .version(record.version)
            )
        }
        return record
    }

    /// Commits the buffered writes under the read versions in one call; safe to retry after a lost reply (the
    /// daemon returns the original result).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` when a key it read changed
    ///   (nothing is applied; re-run the transaction), ``StatehouseModel/StatehouseError/transactionExpired(_:)`` after
    ///   the timeout.
    public func commit(metadata: CommitMetadata? = nil) async throws -> CommitResult {
        enum Next {
            case done(CommitResult)
            case send([WriteOperation], [AtomicCommit.Condition])
        }
        let next = try self.buffer.withLock { buffer -> Next in
            // A second commit returns the first result, as the daemon does for its own transactions.
            if case .committed(let result) = buffer.phase { return .done(result) }
            try Self.requireOpen(buffer.phase, txnID: self.txnID)
            if ContinuousClock.now - self.begun > self.timeout {
                buffer.phase = .failed
                throw StatehouseError.transactionExpired(
                    "transaction \(self.txnID) expired after its timeout of \(self.timeout); nothing was applied"
                )
            }
            return .send(buffer.operations, Array(buffer.conditions.values))
        }
        let operations: [WriteOperation]
        let conditions: [AtomicCommit.Condition]
        switch next {
        case .done(let result): return result
        case .send(let buffered, let required): (operations, conditions) = (buffered, required)
        }
        var request = Statehouse_V2_CommitRequest()
        request.txnID = self.txnID
        request.begunByClient = true
        request.namespace = self.namespace
        request.operations = operations.map(Wire.proto)
        request.conditions = conditions.map(Wire.proto)
        if let metadata { request.metadata = Wire.proto(metadata) }
        do {
            let result = try await self.client.call { Wire.result(try await self.client.stub.commit(request)) }
            self.buffer.withLock { $0.phase = .committed(result) }
            return result
        } catch let error as StatehouseError {
            switch error {
            case .conflict, .invalidArgument, .transactionExpired, .transactionNotFound:
                self.buffer.withLock { $0.phase = .failed }
            default:
                break  // a lost reply or a daemon that could not serve: the commit may be retried
            }
            throw error
        }
    }

    /// Discards the transaction; nothing was sent, so nothing needs undoing on the daemon.
    public func abort() async throws {
        try self.buffer.withLock { buffer in
            if case .committed = buffer.phase {
                throw StatehouseError.invalidArgument("transaction \(self.txnID) is already committed")
            }
            buffer.phase = .aborted
            buffer.operations = []
            buffer.operationIndex = [:]
        }
    }

    private func stage(_ operation: WriteOperation) throws {
        try self.buffer.withLock { buffer in
            try Self.requireOpen(buffer.phase, txnID: self.txnID)
            let address = KeyAddress(agentID: operation.agentID, key: operation.key)
            if let index = buffer.operationIndex[address] {
                buffer.operations[index] = operation
            } else {
                buffer.operationIndex[address] = buffer.operations.count
                buffer.operations.append(operation)
            }
        }
    }

    private static func requireOpen(_ phase: Phase, txnID: String) throws {
        switch phase {
        case .open: return
        case .committed: throw StatehouseError.invalidArgument("transaction \(txnID) is already committed")
        case .aborted: throw StatehouseError.transactionNotFound("transaction \(txnID) was aborted")
        case .failed: throw StatehouseError.transactionNotFound("transaction \(txnID) already failed")
        }
    }
}

extension StatehouseClient {
    /// Begins a transaction; nothing is sent until it commits (see ``ClientTransaction``).
    ///
    /// - Parameter timeout: how long the transaction may stay open; the default is 30 s, as for transactions begun
    ///   on the daemon.
    public func beginTransaction(
        namespace: String = "default", timeout: Duration? = nil
    ) async throws -> ClientTransaction {
        try NameValidation.validateNamespace(namespace, limits: EngineLimits())
        if let timeout, timeout <= .zero {
            throw StatehouseError.invalidArgument("a transaction's timeout must be positive")
        }
        return ClientTransaction(
            client: self,
            txnID: TransactionID.make(),
            namespace: namespace,
            timeout: timeout ?? .seconds(30)
        )
    }

    /// Runs `body` in a transaction that commits when `body` returns and aborts when it throws.
    ///
    /// - Returns: what `body` returned and the commit's result.
    /// - Throws: what `body` throws (after aborting), or the commit's error
    ///   (``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` when a key it read changed: re-run
    ///   the whole closure to retry).
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
