import Foundation
import GRPCCore
import StatehouseCore
import StatehouseProto

/// Conversions between the client's Statehouse types and generated messages, and errors back to ``StatehouseError``.
enum ClientConversions {
    /// Maps a status from the daemon back to the error the server threw (etcd keeps both directions side by side
    /// the same way).
    static func error(_ error: any Error, address: String) -> any Error {
        guard let rpcError = error as? RPCError else { return error }
        let message = rpcError.message
        switch rpcError.code {
        case .invalidArgument: return StatehouseError.invalidArgument(message)
        case .notFound: return StatehouseError.transactionNotFound(message)
        case .failedPrecondition: return StatehouseError.transactionExpired(message)
        case .aborted:
            let metadata = rpcError.metadata
            let agentID = metadata[stringValues: "statehouse-conflict-agent-id"].first(where: { _ in true }) ?? ""
            let key = metadata[stringValues: "statehouse-conflict-key"].first(where: { _ in true }) ?? ""
            let expected = metadata[stringValues: "statehouse-conflict-expected"].first(where: { _ in true }).flatMap { Version($0) }
            let actual = metadata[stringValues: "statehouse-conflict-actual"].first(where: { _ in true }).flatMap { Version($0) }
            return StatehouseError.conflict(agentID: agentID, key: key, expected: expected, actual: actual)
        case .resourceExhausted:
            if let resume = rpcError.metadata[stringValues: "statehouse-resume-from"].first(where: { _ in true }),
                let commitTS = CommitTS(resume)
            {
                return StatehouseError.subscriberTooSlow(resumeFrom: commitTS)
            }
            return StatehouseError.resourceExhausted(message)
        case .unavailable:
            if message.contains("shutting down") || message.contains("store") { return StatehouseError.unavailable(message) }
            return StatehouseError.unavailable("cannot reach statehoused at \(address): \(message)")
        case .dataLoss: return StatehouseError.dataCorruption(commitTS: 0, reason: message)
        case .deadlineExceeded, .cancelled: return StatehouseError.unavailable("the call to \(address) did not complete: \(message)")
        default: return StatehouseError.internalError(message)
        }
    }

    static func value(_ data: Data) -> JSONValue? {
        data.isEmpty ? nil : JSONValue(trusted: [UInt8](data))
    }

    static func record(_ proto: Statehouse_V2_StateRecord) -> StateRecord {
        StateRecord(
            agentID: proto.agentID,
            key: proto.key,
            value: proto.exists ? JSONValue(trusted: [UInt8](proto.value)) : nil,
            version: proto.version,
            commitTS: proto.commitTs,
            committedAt: proto.committedAtMicros,
            deleted: proto.deleted
        )
    }

    static func hash(_ data: Data) -> EventHash {
        EventHash(bytes: data) ?? .zero
    }

    static func result(_ proto: Statehouse_V2_CommitResponse) -> CommitResult {
        let result = proto.result
        return CommitResult(
            namespace: result.namespace,
            txnID: result.txnID,
            commitTS: result.commitTs,
            committedAt: result.committedAtMicros,
            versions: result.versions,
            hash: self.hash(result.hash)
        )
    }

    static func head(_ proto: Statehouse_V2_LogHead) -> LogHead {
        LogHead(namespace: proto.namespace, commitTS: proto.commitTs, hash: self.hash(proto.hash), committedAt: proto.committedAtMicros)
    }

    static func metadata(_ metadata: CommitMetadata) -> Statehouse_V2_Metadata {
        var proto = Statehouse_V2_Metadata()
        if let actor = metadata.actor { proto.actor = actor }
        if let reason = metadata.reason { proto.reason = reason }
        proto.tags = metadata.tags
        return proto
    }

    static func event(_ proto: Statehouse_V2_Event) -> Event {
        Event(
            namespace: proto.namespace,
            commitTS: proto.commitTs,
            txnID: proto.txnID,
            committedAt: proto.committedAtMicros,
            operations: proto.operations.map {
                AppliedOperation(
                    agentID: $0.agentID,
                    key: $0.key,
                    kind: $0.kind == .delete ? .delete : .put,
                    value: $0.kind == .delete ? nil : JSONValue(trusted: [UInt8]($0.value)),
                    version: $0.version
                )
            },
            metadata: CommitMetadata(
                actor: proto.metadata.hasActor ? proto.metadata.actor : nil,
                reason: proto.metadata.hasReason ? proto.metadata.reason : nil,
                tags: proto.metadata.tags
            ),
            prevHash: self.hash(proto.prevHash),
            hash: self.hash(proto.hash)
        )
    }

    static func readPoint(_ point: ReadPoint) throws -> Statehouse_V2_ReadPoint? {
        switch point {
        case .latest: return nil
        case .commit(let commitTS):
            var proto = Statehouse_V2_ReadPoint()
            proto.commitTs = commitTS
            return proto
        case .time(let time):
            var proto = Statehouse_V2_ReadPoint()
            proto.asOfMicros = time
            return proto
        case .version:
            throw StatehouseError.invalidArgument("use get(…, at: .version) only for a single key")
        }
    }

    static func apply(_ commit: AtomicCommit) -> Statehouse_V2_ApplyRequest {
        var request = Statehouse_V2_ApplyRequest()
        request.namespace = commit.namespace
        request.operations = commit.operations.map { operation in
            var proto = Statehouse_V2_Operation()
            proto.agentID = operation.agentID
            proto.key = operation.key
            proto.kind = operation.kind == .put ? .put : .delete
            if let value = operation.value { proto.value = Data(value.utf8) }
            return proto
        }
        request.conditions = commit.conditions.map { condition in
            var proto = Statehouse_V2_Condition()
            proto.agentID = condition.agentID
            proto.key = condition.key
            switch condition.expected {
            case .absent: proto.mustNotExist = true
            case .version(let version): proto.version = version
            }
            return proto
        }
        request.idempotencyKey = commit.idempotencyKey ?? ""
        if !commit.metadata.isEmpty { request.metadata = self.metadata(commit.metadata) }
        return request
    }

    static func filter(_ filter: LogFilter) -> Statehouse_V2_LogFilter {
        var proto = Statehouse_V2_LogFilter()
        proto.namespace = filter.namespace
        proto.agentID = filter.agentID ?? ""
        proto.keyPrefix = filter.keyPrefix ?? ""
        if let from = filter.fromCommitTS { proto.fromCommitTs = from }
        if let to = filter.toCommitTS { proto.toCommitTs = to }
        if let since = filter.since { proto.sinceMicros = since }
        if let until = filter.until { proto.untilMicros = until }
        return proto
    }
}
