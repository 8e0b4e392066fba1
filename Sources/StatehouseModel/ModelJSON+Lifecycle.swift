/// The JSON forms of the lifecycle records (snapshots, copies, diffs, agent events, sessions, tasks, search hits),
/// shared by `statehousectl --format json` and the HTTP API.
extension ModelJSON {
    public static func snapshot(_ snapshot: SnapshotRecord) -> JSONOutput {
        .object([
            ("namespace", .string(snapshot.namespace)), ("name", .string(snapshot.name)),
            ("agent_id", snapshot.agentID.map { .string($0) } ?? .null), ("commit_ts", .int(snapshot.commitTS)),
            ("description", .string(snapshot.description)),
            ("metadata", snapshot.metadata.map { .raw($0.text) } ?? .null),
            ("created_at", self.time(snapshot.createdAt)),
            ("expires_at", snapshot.expiresAt.map { self.time($0) } ?? .null),
        ])
    }

    public static func copy(_ result: StateCopyResult) -> JSONOutput {
        .object([
            ("commit", self.commit(result.commit)), ("puts", .int(result.puts)), ("deletes", .int(result.deletes)),
            ("source_commit_ts", .int(result.sourceCommitTS)),
        ])
    }

    public static func diff(_ diff: StateDiff) -> JSONOutput {
        .object([
            ("namespace", .string(diff.namespace)), ("agent_id", .string(diff.agentID)),
            ("from_commit_ts", .int(diff.fromCommitTS)), ("to_commit_ts", .int(diff.toCommitTS)),
            (
                "differences",
                .array(
                    diff.differences.map {
                        .object([
                            ("key", .string($0.key)), ("change", .string($0.change.rawValue)),
                            ("before", $0.before?.value.map { .raw($0.text) } ?? .null),
                            ("after", $0.after?.value.map { .raw($0.text) } ?? .null),
                            ("patch", $0.patch.map { .raw($0.text) } ?? .null),
                        ])
                    })
            ),
        ])
    }

    public static func agentEvent(_ event: AgentEvent) -> JSONOutput {
        .object([
            ("id", .string(event.id)), ("agent_id", .string(event.agentID)), ("type", .string(event.type)),
            ("session_id", event.sessionID.map { .string($0) } ?? .null),
            ("actor", event.actor.map { .string($0) } ?? .null), ("content", .raw(event.content.text)),
            ("metadata", event.metadata.map { .raw($0.text) } ?? .null),
            ("occurred_at", self.time(event.occurredAt)), ("commit_ts", .int(event.commitTS)),
        ])
    }

    public static func session(_ session: AgentSession) -> JSONOutput {
        .object([
            ("id", .string(session.id)), ("agent_id", .string(session.agentID)), ("status", .string(session.status)),
            ("metadata", session.metadata.map { .raw($0.text) } ?? .null),
            ("started_at", self.time(session.startedAt)),
            ("ended_at", session.endedAt.map { self.time($0) } ?? .null),
        ])
    }

    public static func task(_ task: AgentTask) -> JSONOutput {
        .object([
            ("id", .string(task.id)), ("title", .string(task.title)), ("description", .string(task.description)),
            ("status", .string(task.status)), ("assigned_to", task.assignedTo.map { .string($0) } ?? .null),
            ("metadata", task.metadata.map { .raw($0.text) } ?? .null), ("created_at", self.time(task.createdAt)),
            ("updated_at", self.time(task.updatedAt)),
        ])
    }

    public static func hit(_ hit: SearchHit) -> JSONOutput {
        .object([
            ("kind", .string(hit.kind.rawValue)), ("score", .number(String(hit.score))),
            ("snippet", .string(hit.snippet)),
            ("commit_ts", .int(hit.commitTS)), ("committed_at", self.time(hit.committedAt)),
            ("agent_id", hit.agentID.map { .string($0) } ?? .null), ("key", hit.key.map { .string($0) } ?? .null),
            ("version", hit.version.map { .int($0) } ?? .null), ("event_id", hit.eventID.map { .string($0) } ?? .null),
            ("type", hit.type.map { .string($0) } ?? .null), ("session_id", hit.sessionID.map { .string($0) } ?? .null),
            ("actor", hit.actor.map { .string($0) } ?? .null),
        ])
    }

    public static func retention(_ retention: ResolvedRetention) -> JSONOutput {
        .object([
            ("namespace", .string(retention.namespace)), ("keep_versions", .int(retention.policy.keepVersions)),
            ("keep_for_seconds", .int(retention.policy.keepFor.components.seconds)),
            ("source", .string(retention.source.rawValue)), ("commit_ts", .int(retention.commitTS)),
        ])
    }

    public static func compaction(_ report: CompactionReport) -> JSONOutput {
        .object([
            ("namespace", .string(report.namespace)), ("versions_examined", .int(report.versionsExamined)),
            ("values_removed", .int(report.valuesRemoved)), ("value_bytes_removed", .int(report.valueBytesRemoved)),
            ("file_bytes_before", .int(report.fileBytesBefore)), ("file_bytes_after", .int(report.fileBytesAfter)),
            ("policy", self.retention(report.policy)),
        ])
    }
}
