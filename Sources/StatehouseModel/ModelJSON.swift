/// The JSON forms of the model's records, shared by `statehousectl --format json` and the HTTP API, so that a record
/// reads the same wherever it is shown. Stored values are embedded as their stored bytes, never re-encoded; times are
/// RFC 3339 strings beside the exact microsecond fields where a caller needs them.
public enum ModelJSON {
    /// A time: an RFC 3339 string, or null when there is none (a key never written).
    public static func time(_ micros: Microseconds) -> JSONOutput {
        micros > 0 ? .string(RFC3339.text(micros)) : .null
    }

    public static func record(_ record: StateRecord, namespace: String) -> JSONOutput {
        .object(
            [
                ("namespace", .string(namespace)),
                ("agent_id", .string(record.agentID)),
                ("key", .string(record.key)),
                ("value", record.value.map { .raw($0.text) } ?? .null),
                ("version", .int(record.version)),
                ("commit_ts", .int(record.commitTS)),
                ("committed_at", self.time(record.committedAt)),
                ("exists", .bool(record.exists)),
                ("deleted", .bool(record.deleted)),
            ] + (record.expiresAt.map { [("expires_at", self.time($0))] } ?? [])
                + (record.valueRemoved ? [("value_removed", .bool(true))] : []))
    }

    public static func commit(_ result: CommitResult) -> JSONOutput {
        .object([
            ("namespace", .string(result.namespace)),
            ("txn_id", .string(result.txnID)),
            ("commit_ts", .int(result.commitTS)),
            ("committed_at", self.time(result.committedAt)),
            ("versions", .array(result.versions.map { .int($0) })),
            ("hash", .string(result.hash.hex)),
        ])
    }

    public static func metadata(_ metadata: CommitMetadata) -> JSONOutput {
        var members: [(String, JSONOutput)] = []
        if let actor = metadata.actor { members.append(("actor", .string(actor))) }
        if let reason = metadata.reason { members.append(("reason", .string(reason))) }
        if !metadata.tags.isEmpty {
            members.append(
                ("tags", .object(metadata.tags.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        return .object(members)
    }

    /// One event; `agentID` (a replay of one agent) is named at the top, as the original CLI's did.
    public static func event(_ event: Event, agentID: String? = nil) -> JSONOutput {
        .object(
            [
                ("namespace", .string(event.namespace))
            ] + (agentID.map { [("agent_id", JSONOutput.string($0))] } ?? []) + [
                ("commit_ts", .int(event.commitTS)),
                ("txn_id", .string(event.txnID)),
                ("committed_at", self.time(event.committedAt)),
                (
                    "operations",
                    .array(
                        event.operations.map { operation in
                            .object(
                                [
                                    ("agent_id", .string(operation.agentID)),
                                    ("key", .string(operation.key)),
                                    ("op", .string(operation.kind == .put ? "put" : "delete")),
                                    ("value", operation.value.map { .raw($0.text) } ?? .null),
                                    ("version", .int(operation.version)),
                                ] + (operation.expiresAt.map { [("expires_at", self.time($0))] } ?? [])
                                    + (operation.removedValueDigest.map {
                                        [("value_removed", .bool(true)), ("value_digest", .string($0.hex))]
                                    } ?? []))
                        })
                ),
                ("metadata", self.metadata(event.metadata)),
                ("prev_hash", .string(event.prevHash.hex)),
                ("hash", .string(event.hash.hex)),
            ])
    }

    public static func agent(_ agent: AgentRecord) -> JSONOutput {
        .object([
            ("agent_id", .string(agent.agentID)), ("display_name", agent.displayName.map { .string($0) } ?? .null),
            ("status", .string(agent.status)), ("metadata", agent.metadata.map { .raw($0.text) } ?? .null),
            ("created_at", self.time(agent.createdAt)), ("updated_at", self.time(agent.updatedAt)),
            ("key_count", .int(agent.keyCount)), ("version_count", .int(agent.versionCount)),
            ("deleted", .bool(agent.deleted)),
        ])
    }

    public static func verification(_ report: VerificationReport) -> JSONOutput {
        .object([
            ("namespace", .string(report.namespace)), ("ok", .bool(report.isValid)),
            ("events_checked", .int(report.eventsChecked)),
            ("events_with_removed_values", .int(report.eventsWithRemovedValues)),
            ("first_bad_commit_ts", report.firstBadCommitTS.map { .int($0) } ?? .null),
            ("reason", report.reason.map { .string($0) } ?? .null),
            ("head_commit_ts", .int(report.head.commitTS)), ("head_hash", .string(report.head.hash.hex)),
        ])
    }

    public static func head(_ head: LogHead) -> JSONOutput {
        .object([
            ("namespace", .string(head.namespace)), ("commit_ts", .int(head.commitTS)),
            ("hash", .string(head.hash.hex)), ("committed_at", self.time(head.committedAt)),
        ])
    }
}
