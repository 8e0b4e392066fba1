import Foundation
import StatehouseCore
import StatehouseProto

/// Conversions between Statehouse values and generated protobuf messages.
///
/// Kept in one place so that no generated type escapes this module and every wire field is validated the same way.
enum ProtoConversions {
    static func value(_ data: Data, limits: EngineLimits) throws -> JSONValue {
        guard data.count <= limits.maxValueBytes else {
            throw StatehouseError.invalidArgument(
                "value is \(data.count) bytes; the limit is \(limits.maxValueBytes) bytes"
            )
        }
        return try JSONValue(validating: [UInt8](data), maxDepth: limits.maxJSONDepth)
    }

    static func namespace(_ text: String) -> String {
        text.isEmpty ? "default" : text
    }

    static func limit(_ value: UInt32) -> Int {
        value == 0 ? 1000 : Int(value)
    }

    static func cursor(_ text: String) -> String? {
        text.isEmpty ? nil : text
    }

    static func metadata(_ proto: Statehouse_V2_Metadata) -> CommitMetadata {
        CommitMetadata(
            actor: proto.hasActor ? proto.actor : nil,
            reason: proto.hasReason ? proto.reason : nil,
            tags: proto.tags
        )
    }

    static func proto(_ metadata: CommitMetadata) -> Statehouse_V2_Metadata {
        var proto = Statehouse_V2_Metadata()
        if let actor = metadata.actor { proto.actor = actor }
        if let reason = metadata.reason { proto.reason = reason }
        proto.tags = metadata.tags
        return proto
    }

    static func readPoint(_ proto: Statehouse_V2_ReadPoint?) -> ReadPoint {
        switch proto?.point {
        case .commitTs(let commitTS): .commit(commitTS)
        case .asOfMicros(let time): .time(time)
        case nil: .latest
        }
    }

    static func operation(_ proto: Statehouse_V2_Operation, limits: EngineLimits) throws -> WriteOperation {
        switch proto.kind {
        case .put:
            return .put(agentID: proto.agentID, key: proto.key, value: try self.value(proto.value, limits: limits))
        case .delete:
            guard proto.value.isEmpty else { throw StatehouseError.invalidArgument("a delete takes no value") }
            return .delete(agentID: proto.agentID, key: proto.key)
        case .unspecified, .UNRECOGNIZED:
            throw StatehouseError.invalidArgument("operation kind must be PUT or DELETE")
        }
    }

    static func condition(_ proto: Statehouse_V2_Condition) throws -> AtomicCommit.Condition {
        switch proto.expectation {
        case .mustNotExist(true):
            return .init(agentID: proto.agentID, key: proto.key, expected: .absent)
        case .version(let version):
            return .init(agentID: proto.agentID, key: proto.key, expected: .version(version))
        case .mustNotExist(false), nil:
            throw StatehouseError.invalidArgument("a condition needs must_not_exist = true or a version")
        }
    }

    static func proto(_ record: StateRecord) -> Statehouse_V2_StateRecord {
        var proto = Statehouse_V2_StateRecord()
        proto.agentID = record.agentID
        proto.key = record.key
        if let value = record.value { proto.value = Data(value.utf8) }
        proto.exists = record.exists
        proto.version = record.version
        proto.commitTs = record.commitTS
        proto.committedAtMicros = record.committedAt
        proto.deleted = record.deleted
        return proto
    }

    static func proto(_ result: CommitResult) -> Statehouse_V2_CommitResponse {
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

    static func proto(_ head: LogHead) -> Statehouse_V2_LogHead {
        var proto = Statehouse_V2_LogHead()
        proto.namespace = head.namespace
        proto.commitTs = head.commitTS
        proto.hash = Data(head.hash.bytes)
        proto.committedAtMicros = head.committedAt
        return proto
    }

    static func proto(_ event: Event) -> Statehouse_V2_Event {
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
            return applied
        }
        if !event.metadata.isEmpty { proto.metadata = self.proto(event.metadata) }
        proto.prevHash = Data(event.prevHash.bytes)
        proto.hash = Data(event.hash.bytes)
        return proto
    }

    static func filter(_ proto: Statehouse_V2_LogFilter) -> LogFilter {
        LogFilter(
            namespace: self.namespace(proto.namespace),
            agentID: proto.agentID.isEmpty ? nil : proto.agentID,
            keyPrefix: proto.keyPrefix.isEmpty ? nil : proto.keyPrefix,
            fromCommitTS: proto.hasFromCommitTs ? proto.fromCommitTs : nil,
            toCommitTS: proto.hasToCommitTs ? proto.toCommitTs : nil,
            since: proto.hasSinceMicros ? proto.sinceMicros : nil,
            until: proto.hasUntilMicros ? proto.untilMicros : nil
        )
    }
}
