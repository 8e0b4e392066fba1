/// The JSON values of the lifecycle records (docs/architecture.md, "Agents and snapshots"): what a user sees when
/// reading the reserved agents, so the layout is documented and stable.
///
/// ```
/// @agents/<agent_id>      {"deleted":false,"display_name":"Planner"|null,"metadata":<JSON>|null,"status":"active"}
/// @snapshots/<name>       {"agent_id":"planner"|null,"commit_ts":42,"created_at":<µs>,"description":"...",
///                          "expires_at":<µs>|null,"metadata":<JSON>|null}
/// @sessions/<id>          {"agent_id":"planner","ended_at":<µs>|null,"metadata":<JSON>|null,"started_at":<µs>,
///                          "status":"active"}
/// @tasks/<id>             {"assigned_to":"planner"|null,"created_at":<µs>,"description":"...","metadata":<JSON>|null,
///                          "status":"pending","title":"...","updated_at":<µs>}
/// @settings/retention     {"keep_for_seconds":3600,"keep_versions":5}
/// ```
///
/// Members are written in byte order with no whitespace; metadata is the caller's JSON text as given.
enum LifecycleRecordCodec {
    /// The fields an agent's record holds (the rest of ``StatehouseModel/AgentRecord`` comes from its keys).
    struct AgentFields: Equatable {
        var displayName: String?
        var status = AgentRecord.defaultStatus
        var metadata: JSONValue?
        var deleted = false
    }

    static func value(_ fields: AgentFields) -> JSONValue {
        var out = "{\"deleted\":\(fields.deleted),\"display_name\":"
        out += fields.displayName.map(JSONString.quoted) ?? "null"
        out += ",\"metadata\":" + (fields.metadata?.text ?? "null")
        out += ",\"status\":" + JSONString.quoted(fields.status) + "}"
        return JSONValue(trusted: Array(out.utf8))
    }

    static func value(_ snapshot: SnapshotRecord) -> JSONValue {
        var out = "{\"agent_id\":" + (snapshot.agentID.map(JSONString.quoted) ?? "null")
        out += ",\"commit_ts\":\(snapshot.commitTS),\"created_at\":\(snapshot.createdAt)"
        out += ",\"description\":" + JSONString.quoted(snapshot.description)
        out += ",\"expires_at\":" + (snapshot.expiresAt.map { "\($0)" } ?? "null")
        out += ",\"metadata\":" + (snapshot.metadata?.text ?? "null") + "}"
        return JSONValue(trusted: Array(out.utf8))
    }

    static func value(_ session: AgentSession) -> JSONValue {
        var out = "{\"agent_id\":" + JSONString.quoted(session.agentID)
        out += ",\"ended_at\":" + (session.endedAt.map { "\($0)" } ?? "null")
        out += ",\"metadata\":" + (session.metadata?.text ?? "null")
        out += ",\"started_at\":\(session.startedAt),\"status\":" + JSONString.quoted(session.status) + "}"
        return JSONValue(trusted: Array(out.utf8))
    }

    static func value(_ task: AgentTask) -> JSONValue {
        var out = "{\"assigned_to\":" + (task.assignedTo.map(JSONString.quoted) ?? "null")
        out += ",\"created_at\":\(task.createdAt),\"description\":" + JSONString.quoted(task.description)
        out += ",\"metadata\":" + (task.metadata?.text ?? "null")
        out += ",\"status\":" + JSONString.quoted(task.status) + ",\"title\":" + JSONString.quoted(task.title)
        out += ",\"updated_at\":\(task.updatedAt)}"
        return JSONValue(trusted: Array(out.utf8))
    }

    static func session(_ value: JSONValue, id: String) throws -> AgentSession {
        let object = try self.object(value, what: "session '\(id)'")
        guard let agentID = try self.optionalString(object[member: "agent_id"], "agent_id") else {
            throw self.malformed("session '\(id)'", "agent_id")
        }
        return AgentSession(
            id: id, agentID: agentID, status: try self.optionalString(object[member: "status"], "status") ?? "active",
            metadata: self.optionalJSON(object[member: "metadata"]),
            startedAt: self.micros(object[member: "started_at"]) ?? 0, endedAt: self.micros(object[member: "ended_at"]))
    }

    static func task(_ value: JSONValue, id: String) throws -> AgentTask {
        let object = try self.object(value, what: "task '\(id)'")
        return AgentTask(
            id: id, title: try self.optionalString(object[member: "title"], "title") ?? "",
            description: try self.optionalString(object[member: "description"], "description") ?? "",
            status: try self.optionalString(object[member: "status"], "status") ?? "pending",
            assignedTo: try self.optionalString(object[member: "assigned_to"], "assigned_to"),
            metadata: self.optionalJSON(object[member: "metadata"]),
            createdAt: self.micros(object[member: "created_at"]) ?? 0,
            updatedAt: self.micros(object[member: "updated_at"]) ?? 0)
    }

    static func value(_ policy: RetentionPolicy) -> JSONValue {
        JSONValue(
            trusted: Array(
                "{\"keep_for_seconds\":\(policy.keepFor.components.seconds),\"keep_versions\":\(policy.keepVersions)}"
                    .utf8))
    }

    /// Reads a namespace's retention policy record.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` when it is not one.
    static func retention(_ value: JSONValue) throws -> RetentionPolicy {
        let object = try self.object(value, what: "the retention policy")
        guard case .number(let versions)? = object[member: "keep_versions"], let keepVersions = Int(versions),
            case .number(let seconds)? = object[member: "keep_for_seconds"], let keepFor = Int64(seconds)
        else { throw self.malformed("the retention policy", "keep_versions and keep_for_seconds as integers") }
        return RetentionPolicy(keepVersions: keepVersions, keepFor: .seconds(keepFor))
    }

    private static func micros(_ member: ParsedJSON?) -> Microseconds? {
        if case .number(let text)? = member { return Microseconds(text) }
        return nil
    }

    /// Reads an agent's record.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` when it is not one.
    static func agentFields(_ value: JSONValue) throws -> AgentFields {
        let object = try self.object(value, what: "an agent record")
        var fields = AgentFields()
        fields.displayName = try self.optionalString(object[member: "display_name"], "display_name")
        fields.status = try self.optionalString(object[member: "status"], "status") ?? AgentRecord.defaultStatus
        fields.metadata = self.optionalJSON(object[member: "metadata"])
        if case .bool(let deleted)? = object[member: "deleted"] { fields.deleted = deleted }
        return fields
    }

    /// Reads a snapshot's record.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` when it is not one.
    static func snapshot(_ value: JSONValue, namespace: String, name: String) throws -> SnapshotRecord {
        let object = try self.object(value, what: "snapshot '\(name)'")
        guard case .number(let commitTS)? = object[member: "commit_ts"], let commitTS = CommitTS(commitTS) else {
            throw self.malformed("snapshot '\(name)'", "commit_ts")
        }
        var createdAt: Microseconds = 0
        if case .number(let text)? = object[member: "created_at"], let value = Microseconds(text) { createdAt = value }
        var expiresAt: Microseconds?
        if case .number(let text)? = object[member: "expires_at"] { expiresAt = Microseconds(text) }
        return SnapshotRecord(
            namespace: namespace, name: name, agentID: try self.optionalString(object[member: "agent_id"], "agent_id"),
            commitTS: commitTS,
            description: try self.optionalString(object[member: "description"], "description") ?? "",
            metadata: self.optionalJSON(object[member: "metadata"]), createdAt: createdAt, expiresAt: expiresAt)
    }

    private static func object(_ value: JSONValue, what: String) throws -> ParsedJSON {
        guard let parsed = try? ParsedJSON(parsing: value.utf8), case .object = parsed else {
            throw self.malformed(what, "an object")
        }
        return parsed
    }

    private static func optionalString(_ member: ParsedJSON?, _ name: String) throws -> String? {
        switch member {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw self.malformed("a record", "\(name) as a string")
        }
    }

    private static func optionalJSON(_ member: ParsedJSON?) -> JSONValue? {
        switch member {
        case nil, .null?: return nil
        case let value?: return JSONValue(trusted: Array(value.compactText.utf8))
        }
    }

    private static func malformed(_ what: String, _ expected: String) -> StatehouseError {
        .dataCorruption(commitTS: 0, reason: "\(what) is not a Statehouse record: expected \(expected)")
    }
}
