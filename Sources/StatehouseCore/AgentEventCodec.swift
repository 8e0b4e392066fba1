/// The JSON value of an agent event's record (docs/architecture.md, "Events, sessions and tasks"):
///
/// ```
/// @events/<event id>   {"actor":"user"|null,"agent_id":"planner","content":<JSON>,"id":"<event id>",
///                       "metadata":<JSON>|null,"occurred_at":<µs>,"session_id":"s1"|null,"type":"message"}
/// ```
///
/// Members in byte order, no whitespace; `content` and `metadata` are the recorder's JSON text as given. Backends
/// read the same value to keep their event indexes, so the layout is one function each way, here.
package enum AgentEventCodec {
    /// The fields a backend indexes.
    package struct IndexFields: Sendable, Equatable {
        package var agentID: String
        package var sessionID: String?
        package var type: String
        package var actor: String?
        package var occurredAt: Microseconds
    }

    package static func value(_ draft: AgentEventDraft, id: String, occurredAt: Microseconds) -> JSONValue {
        var out = "{\"actor\":" + (draft.actor.map(JSONString.quoted) ?? "null")
        out += ",\"agent_id\":" + JSONString.quoted(draft.agentID)
        out += ",\"content\":" + draft.content.text
        out += ",\"id\":" + JSONString.quoted(id)
        out += ",\"metadata\":" + (draft.metadata?.text ?? "null")
        out += ",\"occurred_at\":\(occurredAt)"
        out += ",\"session_id\":" + (draft.sessionID.map(JSONString.quoted) ?? "null")
        out += ",\"type\":" + JSONString.quoted(draft.type) + "}"
        return JSONValue(trusted: Array(out.utf8))
    }

    /// The event a stored record holds, with the commit that wrote it.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` when it is not an event record.
    package static func event(_ record: StateRecord) throws -> AgentEvent {
        guard let value = record.value else { throw self.malformed(record.key, "a value") }
        let members = try self.members(value, key: record.key)
        guard case .string(let agentID)? = members[member: "agent_id"],
            case .string(let type)? = members[member: "type"],
            let content = members[member: "content"]
        else { throw self.malformed(record.key, "agent_id, type and content") }
        return AgentEvent(
            id: record.key, agentID: agentID, type: type, sessionID: self.string(members[member: "session_id"]),
            actor: self.string(members[member: "actor"]), content: JSONValue(trusted: Array(content.compactText.utf8)),
            metadata: members[member: "metadata"].flatMap { value in
                if case .null = value { return nil }
                return JSONValue(trusted: Array(value.compactText.utf8))
            },
            occurredAt: self.micros(members[member: "occurred_at"]) ?? record.committedAt, commitTS: record.commitTS,
            committedAt: record.committedAt)
    }

    /// What a backend indexes of a stored event record (parsed); `nil` when it is not one (never indexed, so a
    /// malformed record cannot fail a commit).
    package static func indexFields(_ members: ParsedJSON) -> IndexFields? {
        guard case .object = members else { return nil }
        guard case .string(let agentID)? = members[member: "agent_id"],
            case .string(let type)? = members[member: "type"]
        else {
            return nil
        }
        return IndexFields(
            agentID: agentID, sessionID: self.string(members[member: "session_id"]), type: type,
            actor: self.string(members[member: "actor"]), occurredAt: self.micros(members[member: "occurred_at"]) ?? 0)
    }

    private static func members(_ value: JSONValue, key: String) throws -> ParsedJSON {
        guard let parsed = try? ParsedJSON(parsing: value.utf8), case .object = parsed else {
            throw self.malformed(key, "an object")
        }
        return parsed
    }

    private static func string(_ value: ParsedJSON?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    private static func micros(_ value: ParsedJSON?) -> Microseconds? {
        if case .number(let text)? = value { return Microseconds(text) }
        return nil
    }

    private static func malformed(_ key: String, _ expected: String) -> StatehouseError {
        .dataCorruption(commitTS: 0, reason: "event record '\(key.prefix(64))' is not an event: expected \(expected)")
    }
}
