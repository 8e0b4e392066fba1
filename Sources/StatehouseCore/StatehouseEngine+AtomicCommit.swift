import Crypto
import Logging

extension StatehouseEngine {
    /// Commits operations atomically, subject to conditions, and returns once the commit is durable.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for bad input (nothing is queued);
    ///   ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` when a condition does not hold.
    public func commit(_ commit: AtomicCommit) async throws -> CommitResult {
        let request = try self.makeRequest(commit)
        let result = try await self.admitted(request)
        self.logger.debug(
            "Atomic commit",
            metadata: [
                "namespace": "\(commit.namespace)", "commit.ts": "\(result.commitTS)",
                "operations": "\(commit.operations.count)",
            ])
        return result
    }

    /// Validates a one-shot commit and turns it into a pipeline request.
    func makeRequest(_ commit: AtomicCommit) throws -> CommitRequest {
        try self.validateNamespace(commit.namespace)
        guard commit.operations.count + commit.events.count <= self.limits.maxOperationsPerTransaction else {
            throw StatehouseError.invalidArgument(
                "transaction has \(commit.operations.count + commit.events.count) operations and events; the limit is "
                    + "\(self.limits.maxOperationsPerTransaction)"
            )
        }
        var bytes = 0
        var seen = Set<TransactionTable.AgentKey>()
        seen.reserveCapacity(commit.operations.count)
        for operation in commit.operations {
            try self.validate(operation)
            bytes += operation.accountedBytes
            guard seen.insert(.init(agentID: operation.agentID, key: operation.key)).inserted else {
                throw StatehouseError.invalidArgument(
                    "agent '\(operation.agentID.prefix(64))' key '\(operation.key.prefix(64))' appears more than "
                        + "once in the transaction"
                )
            }
        }
        guard bytes <= self.limits.maxTransactionBytes else {
            throw StatehouseError.invalidArgument(
                "transaction would write \(bytes) bytes; the limit is \(self.limits.maxTransactionBytes) bytes"
            )
        }
        guard commit.conditions.count <= self.limits.maxOperationsPerTransaction else {
            throw StatehouseError.invalidArgument(
                "transaction has \(commit.conditions.count) conditions; the limit is "
                    + "\(self.limits.maxOperationsPerTransaction)"
            )
        }
        var conditioned = Set<TransactionTable.AgentKey>()
        for condition in commit.conditions {
            try NameValidation.validateAgentID(condition.agentID, limits: self.limits)
            try NameValidation.validateKey(condition.key, limits: self.limits)
            if case .version(0) = condition.expected {
                throw StatehouseError.invalidArgument("expected version must be at least 1; use absent for a new key")
            }
            guard conditioned.insert(.init(agentID: condition.agentID, key: condition.key)).inserted else {
                throw StatehouseError.invalidArgument(
                    "agent '\(condition.agentID.prefix(64))' key '\(condition.key.prefix(64))' has more than one "
                        + "condition"
                )
            }
        }
        try self.validateClientMetadata(commit.metadata)
        // Events become writes under @events; a commit without events (nearly all) copies nothing for them.
        var operations = commit.operations
        var conditions = commit.conditions.map {
            KeyCondition(agentID: $0.agentID, key: $0.key, requirement: .expected($0.expected))
        }
        if !commit.events.isEmpty {
            let events = try self.eventWrites(commit.events)
            bytes += events.reduce(0) { $0 + $1.0.accountedBytes }
            guard bytes <= self.limits.maxTransactionBytes else {
                throw StatehouseError.invalidArgument(
                    "transaction would write \(bytes) bytes with its events; the limit is "
                        + "\(self.limits.maxTransactionBytes) bytes")
            }
            operations += events.map(\.0)
            conditions += events.map(\.1)
        }
        var digest: [UInt8] = []
        if let idempotencyKey = commit.idempotencyKey {
            try NameValidation.validateText(
                idempotencyKey,
                field: "idempotency key",
                maxBytes: self.limits.maxIdempotencyKeyBytes,
                allowEmpty: false
            )
            digest = Self.digest(of: commit)
        }
        return CommitRequest(
            namespace: commit.namespace,
            txnID: TransactionID.make(wallMicroseconds: self.clock.wallMicroseconds()),
            operations: operations,
            conditions: conditions,
            idempotencyKey: commit.idempotencyKey,
            requestDigest: digest,
            metadata: self.attributed(commit.metadata),
            mayBeRetry: false
        )
    }

    /// A digest of everything a one-shot commit asks for, to detect an idempotency key reused for other content.
    static func digest(of commit: AtomicCommit) -> [UInt8] {
        var buffer: [UInt8] = []
        CanonicalEncoding.appendString(commit.namespace, to: &buffer)
        CanonicalEncoding.appendUInt32(UInt32(commit.operations.count), to: &buffer)
        for operation in commit.operations {
            CanonicalEncoding.appendString(operation.agentID, to: &buffer)
            CanonicalEncoding.appendString(operation.key, to: &buffer)
            buffer.append(operation.kind.rawValue)
            let value = operation.value?.utf8 ?? []
            CanonicalEncoding.appendUInt32(UInt32(value.count), to: &buffer)
            buffer.append(contentsOf: value)
        }
        CanonicalEncoding.appendUInt32(UInt32(commit.conditions.count), to: &buffer)
        for condition in commit.conditions {
            CanonicalEncoding.appendString(condition.agentID, to: &buffer)
            CanonicalEncoding.appendString(condition.key, to: &buffer)
            switch condition.expected {
            case .absent: CanonicalEncoding.appendUInt64(0, to: &buffer)
            case .version(let version): CanonicalEncoding.appendUInt64(version, to: &buffer)
            }
        }
        CanonicalEncoding.appendMetadata(commit.metadata, to: &buffer)
        // Events as sent (an id the daemon makes is not part of the request).
        CanonicalEncoding.appendUInt32(UInt32(commit.events.count), to: &buffer)
        for event in commit.events {
            for text in [event.id, event.agentID, event.type, event.sessionID, event.actor] {
                CanonicalEncoding.appendString(text ?? "\u{0}", to: &buffer)
            }
            for value in [event.content, event.metadata] {
                CanonicalEncoding.appendString(value?.text ?? "\u{0}", to: &buffer)
            }
            CanonicalEncoding.appendUInt64(UInt64(bitPattern: event.occurredAt ?? -1), to: &buffer)
        }
        return Array(SHA256.hash(data: buffer))
    }
}
