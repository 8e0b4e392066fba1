import Foundation
package import StatehouseModel
package import StatehouseProto

/// Model → proto.
extension Wire {
    package static func proto(_ metadata: CommitMetadata) -> Statehouse_V2_Metadata {
        var proto = Statehouse_V2_Metadata()
        if let actor = metadata.actor { proto.actor = actor }
        if let reason = metadata.reason { proto.reason = reason }
        proto.tags = metadata.tags
        return proto
    }

    /// A read point as a request field; nil for the latest state.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for `.version`, which only a single-key
    ///   read takes (in its own request field).
    package static func proto(_ point: ReadPoint) throws -> Statehouse_V2_ReadPoint? {
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

    package static func proto(_ operation: WriteOperation) -> Statehouse_V2_Operation {
        var proto = Statehouse_V2_Operation()
        proto.agentID = operation.agentID
        proto.key = operation.key
        proto.kind = operation.kind == .put ? .put : .delete
        if let value = operation.value { proto.value = Data(value.utf8) }
        if let expiresAt = operation.expiresAt { proto.expiresAtMicros = expiresAt }
        return proto
    }

    package static func proto(_ condition: AtomicCommit.Condition) -> Statehouse_V2_Condition {
        var proto = Statehouse_V2_Condition()
        proto.agentID = condition.agentID
        proto.key = condition.key
        switch condition.expected {
        case .absent: proto.mustNotExist = true
        case .version(let version): proto.version = version
        }
        return proto
    }

    package static func proto(_ commit: AtomicCommit) -> Statehouse_V2_ApplyRequest {
        var request = Statehouse_V2_ApplyRequest()
        request.namespace = commit.namespace
        request.operations = commit.operations.map(self.proto)
        request.conditions = commit.conditions.map(self.proto)
        request.idempotencyKey = commit.idempotencyKey ?? ""
        if !commit.metadata.isEmpty { request.metadata = self.proto(commit.metadata) }
        request.events = commit.events.map(self.proto)
        return request
    }

    package static func proto(_ filter: LogFilter) -> Statehouse_V2_LogFilter {
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

    package static func proto(_ record: StateRecord) -> Statehouse_V2_StateRecord {
        var proto = Statehouse_V2_StateRecord()
        proto.agentID = record.agentID
        proto.key = record.key
        if let value = record.value { proto.value = Data(value.utf8) }
        // A version whose value retention removed still existed (history): exists, with value_removed and no value.
        proto.exists = record.exists || record.valueRemoved
        proto.version = record.version
        proto.commitTs = record.commitTS
        proto.committedAtMicros = record.committedAt
        proto.deleted = record.deleted
        if let expiresAt = record.expiresAt { proto.expiresAtMicros = expiresAt }
        proto.valueRemoved = record.valueRemoved
        return proto
    }

    package static func proto(_ result: CommitResult) -> Statehouse_V2_CommitResponse {
        var proto = Statehouse_V2_CommitResult()
        proto.namespace = result.namespace
        proto.txnID = result.txnID
        proto.commitTs = result.commitTS
        proto.committedAtMicros = result.committedAt
        proto.versions = result.versions
        proto.hash = Data(result.hash.bytes)
        var response = Statehouse_V2_CommitResponse()
        response.result = proto
        return response
    }

    package static func proto(_ head: LogHead) -> Statehouse_V2_LogHead {
        var proto = Statehouse_V2_LogHead()
        proto.namespace = head.namespace
        proto.commitTs = head.commitTS
        proto.hash = Data(head.hash.bytes)
        proto.committedAtMicros = head.committedAt
        return proto
    }

    package static func proto(_ event: Event) -> Statehouse_V2_Event {
        var proto = Statehouse_V2_Event()
        proto.namespace = event.namespace
        proto.commitTs = event.commitTS
        proto.txnID = event.txnID
        proto.committedAtMicros = event.committedAt
        proto.operations = event.operations.map { operation in
            var applied = Statehouse_V2_AppliedOperation()
            applied.agentID = operation.agentID
            applied.key = operation.key
            applied.kind = operation.kind == .put ? .put : .delete
            if let value = operation.value { applied.value = Data(value.utf8) }
            applied.version = operation.version
            if let expiresAt = operation.expiresAt { applied.expiresAtMicros = expiresAt }
            if let digest = operation.removedValueDigest { applied.removedValueDigest = Data(digest.bytes) }
            return applied
        }
        if !event.metadata.isEmpty { proto.metadata = self.proto(event.metadata) }
        proto.prevHash = Data(event.prevHash.bytes)
        proto.hash = Data(event.hash.bytes)
        return proto
    }

    package static func proto(_ info: ArtifactInfo) -> Statehouse_V2_ArtifactInfo {
        var proto = Statehouse_V2_ArtifactInfo()
        proto.namespace = info.namespace
        proto.sha256 = info.sha256
        proto.size = info.size
        proto.exists = info.exists
        proto.deduplicated = info.deduplicated
        return proto
    }
}
