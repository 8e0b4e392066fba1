package import Foundation
package import StatehouseModel
package import StatehouseProto

/// Proto → model.
extension Wire {
    // MARK: Requests (validated: they come from any client)

    /// A request's JSON value, checked against the limits (size, depth, JSON syntax).
    package static func value(_ data: Data, limits: EngineLimits) throws -> JSONValue {
        guard data.count <= limits.maxValueBytes else {
            throw StatehouseError.invalidArgument(
                "value is \(data.count) bytes; the limit is \(limits.maxValueBytes) bytes: store large content as an "
                    + "artifact (PutArtifact, statehousectl artifact put) and keep its SHA-256 in the value"
            )
        }
        return try JSONValue(validating: [UInt8](data), maxDepth: limits.maxJSONDepth)
    }

    /// An empty namespace field means "default".
    package static func namespace(_ text: String) -> String {
        text.isEmpty ? "default" : text
    }

    /// A zero page limit means the default page of 1,000.
    package static func limit(_ value: UInt32) -> Int {
        value == 0 ? 1000 : Int(value)
    }

    /// An empty cursor means "from the start".
    package static func cursor(_ text: String) -> String? {
        text.isEmpty ? nil : text
    }

    package static func metadata(_ proto: Statehouse_V2_Metadata) -> CommitMetadata {
        CommitMetadata(
            actor: proto.hasActor ? proto.actor : nil,
            reason: proto.hasReason ? proto.reason : nil,
            tags: proto.tags
        )
    }

    /// No point set means the latest state.
    package static func readPoint(_ proto: Statehouse_V2_ReadPoint?) -> ReadPoint {
        switch proto?.point {
        case .commitTs(let commitTS): .commit(commitTS)
        case .asOfMicros(let time): .time(time)
        case nil: .latest
        }
    }

    package static func operation(_ proto: Statehouse_V2_Operation, limits: EngineLimits) throws -> WriteOperation {
        switch proto.kind {
        case .put:
            return .put(
                agentID: proto.agentID, key: proto.key, value: try self.value(proto.value, limits: limits),
                expiresAt: proto.hasExpiresAtMicros ? proto.expiresAtMicros : nil)
        case .delete:
            guard proto.value.isEmpty else { throw StatehouseError.invalidArgument("a delete takes no value") }
            guard !proto.hasExpiresAtMicros else {
                throw StatehouseError.invalidArgument("a delete takes no expiry (expires_at_micros)")
            }
            return .delete(agentID: proto.agentID, key: proto.key)
        case .unspecified, .UNRECOGNIZED:
            throw StatehouseError.invalidArgument("operation kind must be PUT or DELETE")
        }
    }

    package static func condition(_ proto: Statehouse_V2_Condition) throws -> AtomicCommit.Condition {
        switch proto.expectation {
        case .mustNotExist(true):
            return .init(agentID: proto.agentID, key: proto.key, expected: .absent)
        case .version(let version):
            return .init(agentID: proto.agentID, key: proto.key, expected: .version(version))
        case .mustNotExist(false), nil:
            throw StatehouseError.invalidArgument("a condition needs must_not_exist = true or a version")
        }
    }

    package static func filter(_ proto: Statehouse_V2_LogFilter) -> LogFilter {
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

    // MARK: Replies (trusted: the daemon validated every value when it was written)

    /// A stored value from a reply; nil for empty bytes (no value).
    package static func storedValue(_ data: Data) -> JSONValue? {
        data.isEmpty ? nil : JSONValue(trusted: [UInt8](data))
    }

    package static func record(_ proto: Statehouse_V2_StateRecord) -> StateRecord {
        var record = StateRecord(
            agentID: proto.agentID,
            key: proto.key,
            value: proto.exists && !proto.valueRemoved ? JSONValue(trusted: [UInt8](proto.value)) : nil,
            version: proto.version,
            commitTS: proto.commitTs,
            committedAt: proto.committedAtMicros,
            deleted: proto.deleted,
            expiresAt: proto.hasExpiresAtMicros ? proto.expiresAtMicros : nil
        )
        record.valueRemoved = proto.valueRemoved
        return record
    }

    /// A hash from a reply; all zeros when the field is not 32 bytes long.
    package static func hash(_ data: Data) -> EventHash {
        EventHash(bytes: data) ?? .zero
    }

    package static func result(_ proto: Statehouse_V2_CommitResponse) -> CommitResult {
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

    package static func head(_ proto: Statehouse_V2_LogHead) -> LogHead {
        LogHead(
            namespace: proto.namespace,
            commitTS: proto.commitTs,
            hash: self.hash(proto.hash),
            committedAt: proto.committedAtMicros
        )
    }

    package static func event(_ proto: Statehouse_V2_Event) -> Event {
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
                    value: $0.kind == .delete || !$0.removedValueDigest.isEmpty
                        ? nil : JSONValue(trusted: [UInt8]($0.value)),
                    version: $0.version,
                    expiresAt: $0.hasExpiresAtMicros ? $0.expiresAtMicros : nil,
                    removedValueDigest: EventHash(bytes: $0.removedValueDigest)
                )
            },
            metadata: self.metadata(proto.metadata),
            prevHash: self.hash(proto.prevHash),
            hash: self.hash(proto.hash)
        )
    }

    package static func artifactInfo(_ proto: Statehouse_V2_ArtifactInfo) -> ArtifactInfo {
        ArtifactInfo(
            namespace: proto.namespace, sha256: proto.sha256, size: proto.size, exists: proto.exists,
            deduplicated: proto.deduplicated)
    }
}
