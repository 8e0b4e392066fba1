import Synchronization

/// The open interactive transactions: their staged writes, read sets and deadlines.
///
/// All decisions are made by the pure ``State`` under one lock; the table never does I/O. Finished transactions
/// are remembered (bounded) so that a late write or commit gets a precise error ("aborted", "expired") instead of
/// "not found", and so that a repeated commit of an empty transaction returns its first result.
final class TransactionTable: Sendable {
    private let state: Mutex<State>

    init(limits: EngineLimits, finishedMemory: Int) {
        self.state = Mutex(State(limits: limits, finishedMemory: finishedMemory))
    }

    func withState<T>(_ body: (inout State) throws -> T) rethrows -> T {
        try self.state.withLock { try body(&$0) }
    }

    var openCount: Int { self.state.withLock { $0.open.count } }
}

extension TransactionTable {
    struct AgentKey: Hashable {
        var agentID: String
        var key: String
    }

    struct OpenTransaction {
        /// nil until the first staged operation names one (a transaction begun without a namespace, as the original
        /// API's are); a commit of a transaction that never bound one goes to "default".
        var namespace: String?
        var deadline: UInt64
        /// The principal that began it (``CommitAttribution``); `nil` without auth.
        var owner: String?
        var operations: [WriteOperation] = []
        var operationIndex: [AgentKey: Int] = [:]
        var reads: [AgentKey: Version] = [:]
        var readOrder: [AgentKey] = []
        var bytes = 0
        var metadata = CommitMetadata()
        /// Set once a commit was submitted, so that a concurrent retry resubmits the same request.
        var committing: CommitRequest?
    }

    enum Finished: Equatable {
        case committed(CommitResult)
        case aborted
        case expired
        case failed(StatehouseError)
    }

    /// What a commit of a transaction id should do.
    enum CommitDecision {
        case submit(CommitRequest)
        case alreadyCommitted(CommitResult)
        /// Not open and not remembered: the caller looks for it in storage.
        case unknown
    }

    /// A staged write of the key, if the transaction has one.
    enum StagedLookup {
        case staged(WriteOperation)
        case notStaged(namespace: String)
    }

    struct State {
        let limits: EngineLimits
        let finishedMemory: Int
        var open: [String: OpenTransaction] = [:]
        var finished: [String: Finished] = [:]
        var finishedOrder: [String] = []
        var finishedOrderStart = 0

        init(limits: EngineLimits, finishedMemory: Int) {
            self.limits = limits
            self.finishedMemory = max(1, finishedMemory)
        }

        mutating func begin(id: String, namespace: String?, owner: String?, timeout: Duration, now: UInt64) throws {
            guard self.open.count < self.limits.maxOpenTransactions else {
                throw StatehouseError.resourceExhausted(
                    "too many open transactions (limit \(self.limits.maxOpenTransactions)); commit or abort some"
                )
            }
            let deadline = now &+ UInt64(max(0, timeout.nanoseconds))
            self.open[id] = OpenTransaction(namespace: namespace, deadline: deadline, owner: owner)
        }

        /// How many open transactions a principal began (`nil`: without auth, all of them).
        func openCount(owner: String?) -> Int {
            guard let owner else { return self.open.count }
            return self.open.values.reduce(0) { $0 + ($1.owner == owner ? 1 : 0) }
        }

        /// The namespace (`nil` while unbound) and owner of an open transaction; `nil` when it is not open.
        func access(of id: String) -> TransactionAccess? {
            self.open[id].map { TransactionAccess(namespace: $0.namespace, owner: $0.owner) }
        }

        /// Returns the open transaction or throws the precise reason it is not open.
        private mutating func requireOpen(_ id: String, now: UInt64) throws -> OpenTransaction {
            guard let transaction = self.open[id] else { throw self.notOpenError(id) }
            if transaction.deadline <= now {
                self.open[id] = nil
                self.remember(id, .expired)
                throw StatehouseError.transactionExpired("transaction \(id) expired and was rolled back")
            }
            return transaction
        }

        func notOpenError(_ id: String) -> StatehouseError {
            switch self.finished[id] {
            case .committed:
                return .transactionNotFound("transaction \(id) is already committed")
            case .aborted:
                return .transactionNotFound("transaction \(id) was aborted")
            case .expired:
                return .transactionExpired("transaction \(id) expired and was rolled back")
            case .failed(let error):
                return .transactionNotFound("transaction \(id) already failed: \(error)")
            case nil:
                return .transactionNotFound("transaction \(id) not found")
            }
        }

        /// Stages an operation; `namespace` (when given) must be the transaction's, or binds an unbound one.
        mutating func stage(_ operation: WriteOperation, in id: String, namespace: String? = nil, now: UInt64) throws {
            var transaction = try self.requireOpen(id, now: now)
            guard transaction.committing == nil else {
                throw StatehouseError.invalidArgument("transaction \(id) is committing; it cannot take more writes")
            }
            if let namespace {
                if let bound = transaction.namespace, bound != namespace {
                    throw StatehouseError.invalidArgument(
                        "transaction \(id) writes to namespace '\(bound)'; it cannot also write to '\(namespace)' "
                            + "(each namespace has its own log: use one transaction per namespace)"
                    )
                }
                transaction.namespace = namespace
            }
            let ref = AgentKey(agentID: operation.agentID, key: operation.key)
            if let index = transaction.operationIndex[ref] {
                let newBytes =
                    transaction.bytes - transaction.operations[index].accountedBytes + operation.accountedBytes
                try self.checkBytes(newBytes)
                transaction.operations[index] = operation
                transaction.bytes = newBytes
            } else {
                guard transaction.operations.count < self.limits.maxOperationsPerTransaction else {
                    throw StatehouseError.invalidArgument(
                        "transaction has reached the limit of \(self.limits.maxOperationsPerTransaction) operations"
                    )
                }
                let newBytes = transaction.bytes + operation.accountedBytes
                try self.checkBytes(newBytes)
                transaction.operationIndex[ref] = transaction.operations.count
                transaction.operations.append(operation)
                transaction.bytes = newBytes
            }
            self.open[id] = transaction
        }

        private func checkBytes(_ bytes: Int) throws {
            guard bytes <= self.limits.maxTransactionBytes else {
                throw StatehouseError.invalidArgument(
                    "transaction would write \(bytes) bytes; the limit is \(self.limits.maxTransactionBytes) bytes"
                )
            }
        }

        /// The transaction's staged write of a key, or the namespace to read it from; a read binds an unbound
        /// transaction to "default" (what it reads is recorded for the conflict check of that namespace's commit).
        mutating func lookupStaged(agentID: String, key: String, in id: String, now: UInt64) throws -> StagedLookup {
            var transaction = try self.requireOpen(id, now: now)
            if let index = transaction.operationIndex[AgentKey(agentID: agentID, key: key)] {
                return .staged(transaction.operations[index])
            }
            if transaction.namespace == nil {
                transaction.namespace = "default"
                self.open[id] = transaction
            }
            return .notStaged(namespace: transaction.namespace!)
        }

        func status(of id: String) -> TransactionStatus {
            if self.open[id] != nil { return .open }
            switch self.finished[id] {
            case .committed(let result): return .committed(result)
            case .aborted: return .aborted
            case .expired: return .expired
            case .failed(let error): return .failed(error)
            case nil: return .unknown
            }
        }

        /// Records that the transaction read `version` of a key (0: never written); the first read counts.
        mutating func recordRead(agentID: String, key: String, version: Version, in id: String, now: UInt64) throws {
            var transaction = try self.requireOpen(id, now: now)
            let ref = AgentKey(agentID: agentID, key: key)
            guard transaction.reads[ref] == nil else { return }
            transaction.reads[ref] = version
            transaction.readOrder.append(ref)
            self.open[id] = transaction
        }

        mutating func setMetadata(_ metadata: CommitMetadata, in id: String, now: UInt64) throws {
            var transaction = try self.requireOpen(id, now: now)
            transaction.metadata = metadata
            self.open[id] = transaction
        }

        /// Decides what a commit does; first stages `staging` (all or none) into a transaction that is open and not
        /// yet committing. `conditions` are checked with the recorded reads.
        mutating func beginCommit(
            _ id: String,
            staging: [WriteOperation] = [],
            conditions: [KeyCondition] = [],
            metadata: CommitMetadata?,
            now: UInt64
        ) throws -> CommitDecision {
            if self.open[id] == nil {
                if case .committed(let result) = self.finished[id] { return .alreadyCommitted(result) }
                if self.finished[id] != nil { throw self.notOpenError(id) }
                return .unknown
            }
            let before = try self.requireOpen(id, now: now)
            if let request = before.committing { return .submit(request) }
            do {
                for operation in staging { try self.stage(operation, in: id, now: now) }
            } catch {
                self.open[id] = before
                throw error
            }
            var transaction = self.open[id]!
            if let metadata { transaction.metadata = metadata }
            let request = CommitRequest(
                namespace: transaction.namespace ?? "default",
                txnID: id,
                operations: transaction.operations,
                conditions: transaction.readOrder.map {
                    KeyCondition(
                        agentID: $0.agentID,
                        key: $0.key,
                        requirement: .unchangedSinceRead(transaction.reads[$0]!)
                    )
                } + conditions,
                metadata: transaction.metadata
            )
            transaction.committing = request
            self.open[id] = transaction
            return .submit(request)
        }

        /// Ends a commit: the transaction is finished, unless the store failed as a whole (then it stays open
        /// so that the client can retry the commit).
        mutating func finishCommit(_ id: String, result: Result<CommitResult, StatehouseError>) {
            switch result {
            case .success(let commit):
                self.open[id] = nil
                self.remember(id, .committed(commit))
            case .failure(let error):
                switch error {
                case .resourceExhausted, .unavailable, .internalError:
                    self.open[id]?.committing = nil
                default:
                    self.open[id] = nil
                    self.remember(id, .failed(error))
                }
            }
        }

        mutating func abort(_ id: String, now: UInt64) throws {
            let transaction = try self.requireOpen(id, now: now)
            guard transaction.committing == nil else {
                throw StatehouseError.invalidArgument("transaction \(id) is committing and can no longer be aborted")
            }
            self.open[id] = nil
            self.remember(id, .aborted)
        }

        /// Removes every transaction whose deadline passed; returns their ids.
        mutating func reapExpired(now: UInt64) -> [String] {
            let expired = self.open.compactMap { id, transaction in
                transaction.deadline <= now && transaction.committing == nil ? id : nil
            }
            for id in expired {
                self.open[id] = nil
                self.remember(id, .expired)
            }
            return expired
        }

        private mutating func remember(_ id: String, _ outcome: Finished) {
            if self.finished.updateValue(outcome, forKey: id) == nil {
                self.finishedOrder.append(id)
            }
            if self.finishedOrder.count - self.finishedOrderStart > self.finishedMemory {
                self.finished[self.finishedOrder[self.finishedOrderStart]] = nil
                self.finishedOrderStart += 1
                if self.finishedOrderStart > 4096 && self.finishedOrderStart * 2 > self.finishedOrder.count {
                    self.finishedOrder.removeFirst(self.finishedOrderStart)
                    self.finishedOrderStart = 0
                }
            }
        }
    }
}
