package import StatehouseModel
package import StatehouseProto

// Retention policies and compaction reports in both directions.
extension Wire {
    package static func proto(_ retention: ResolvedRetention) -> Statehouse_V2_RetentionPolicy {
        var proto = Statehouse_V2_RetentionPolicy()
        proto.namespace = retention.namespace
        proto.keepVersions = UInt32(clamping: retention.policy.keepVersions)
        proto.keepForSeconds = UInt64(max(0, retention.policy.keepFor.components.seconds))
        proto.source = retention.source.rawValue
        proto.commitTs = retention.commitTS
        return proto
    }

    package static func retention(_ proto: Statehouse_V2_RetentionPolicy) -> ResolvedRetention {
        ResolvedRetention(
            namespace: proto.namespace,
            policy: RetentionPolicy(
                keepVersions: Int(proto.keepVersions), keepFor: .seconds(Int64(clamping: proto.keepForSeconds))),
            source: ResolvedRetention.Source(rawValue: proto.source) ?? .none,
            commitTS: proto.commitTs)
    }

    /// The policy a `SetRetention` request asks for; `nil` to use the daemon's default again.
    package static func retentionPolicy(_ proto: Statehouse_V2_SetRetentionRequest) throws -> RetentionPolicy? {
        if proto.useDefault {
            guard proto.keepVersions == 0, proto.keepForSeconds == 0 else {
                throw StatehouseError.invalidArgument("use_default takes no rules (keep_versions, keep_for_seconds)")
            }
            return nil
        }
        guard proto.keepForSeconds <= UInt64(Int64.max / 1_000_000) else {
            throw StatehouseError.invalidArgument("keep_for_seconds \(proto.keepForSeconds) is too large")
        }
        return RetentionPolicy(keepVersions: Int(proto.keepVersions), keepFor: .seconds(Int64(proto.keepForSeconds)))
    }

    package static func proto(_ report: CompactionReport) -> Statehouse_V2_CompactResponse {
        var proto = Statehouse_V2_CompactResponse()
        proto.namespace = report.namespace
        proto.versionsExamined = UInt64(report.versionsExamined)
        proto.valuesRemoved = UInt64(report.valuesRemoved)
        proto.valueBytesRemoved = UInt64(report.valueBytesRemoved)
        proto.fileBytesBefore = UInt64(report.fileBytesBefore)
        proto.fileBytesAfter = UInt64(report.fileBytesAfter)
        proto.policy = self.proto(report.policy)
        return proto
    }

    package static func report(_ proto: Statehouse_V2_CompactResponse) -> CompactionReport {
        var report = CompactionReport(namespace: proto.namespace, policy: self.retention(proto.policy))
        report.versionsExamined = Int(proto.versionsExamined)
        report.valuesRemoved = Int(proto.valuesRemoved)
        report.valueBytesRemoved = Int(proto.valueBytesRemoved)
        report.fileBytesBefore = Int(proto.fileBytesBefore)
        report.fileBytesAfter = Int(proto.fileBytesAfter)
        return report
    }
}
