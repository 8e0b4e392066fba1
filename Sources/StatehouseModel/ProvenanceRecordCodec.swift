/// The stored forms of provenance records and runs (docs/architecture.md, "Provenance"), members in byte order, no
/// whitespace; a payload is the caller's JSON text as given:
///
/// ```
/// @provenance/<kind>/<id>  {"agent_id":"planner","captured_at":<µs>,"payload":<JSON object>,"run_id":"…"|null}
/// @runs/<id>               {"agent_id":"planner","ended_at":<µs>|null,"metadata":<JSON>|null,
///                           "provenance":["code/…","environment/…"],"started_at":<µs>,"status":"running"}
/// ```
package enum ProvenanceRecordCodec {
    package static func value(_ record: ProvenanceRecord) -> JSONValue {
        var out = "{\"agent_id\":" + JSONString.quoted(record.agentID) + ",\"captured_at\":\(record.capturedAt)"
        out += ",\"payload\":" + record.payload.text
        out += ",\"run_id\":" + (record.runID.map(JSONString.quoted) ?? "null") + "}"
        return JSONValue(trusted: Array(out.utf8))
    }

    package static func record(_ stored: StateRecord) throws -> ProvenanceRecord {
        let key = stored.key
        // By UTF-8 byte, not by Character: an id may start with a combining mark, which would join the slash into
        // one grapheme cluster that `firstIndex(of: "/")` never finds.
        guard let slash = key.utf8.firstIndex(of: UInt8(ascii: "/")),
            let kind = ProvenanceKind(rawValue: String(key[..<slash])),
            let value = stored.value, let object = try? ParsedJSON(parsing: value.utf8), case .object = object,
            case .string(let agentID)? = object[member: "agent_id"],
            case .number(let capturedText)? = object[member: "captured_at"], let capturedAt = Int64(capturedText),
            let payload = object[member: "payload"]
        else {
            throw StatehouseError.dataCorruption(commitTS: stored.commitTS, reason: "provenance record '\(key)'")
        }
        var runID: String?
        if case .string(let text)? = object[member: "run_id"] { runID = text }
        return ProvenanceRecord(
            kind: kind, id: String(decoding: key.utf8[key.utf8.index(after: slash)...], as: UTF8.self),
            agentID: agentID,
            capturedAt: capturedAt,
            payload: JSONValue(trusted: Array(payload.compactText.utf8)), runID: runID, commitTS: stored.commitTS)
    }

    package static func value(_ run: AgentRun) -> JSONValue {
        var out = "{\"agent_id\":" + JSONString.quoted(run.agentID)
        out += ",\"ended_at\":" + (run.endedAt.map { "\($0)" } ?? "null")
        out += ",\"metadata\":" + (run.metadata?.text ?? "null")
        out += ",\"provenance\":[" + run.provenance.map(JSONString.quoted).joined(separator: ",") + "]"
        out += ",\"started_at\":\(run.startedAt),\"status\":" + JSONString.quoted(run.status) + "}"
        return JSONValue(trusted: Array(out.utf8))
    }

    package static func run(_ stored: StateRecord, startCommitTS: CommitTS) throws -> AgentRun {
        guard let value = stored.value, let object = try? ParsedJSON(parsing: value.utf8), case .object = object,
            case .string(let agentID)? = object[member: "agent_id"],
            case .string(let status)? = object[member: "status"],
            case .number(let startedText)? = object[member: "started_at"], let startedAt = Int64(startedText),
            case .array(let items)? = object[member: "provenance"]
        else { throw StatehouseError.dataCorruption(commitTS: stored.commitTS, reason: "run '\(stored.key)'") }
        var endedAt: Microseconds?
        if case .number(let text)? = object[member: "ended_at"] { endedAt = Int64(text) }
        // An ended run's record was last written by the commit that ended it.
        let endCommitTS: CommitTS? = endedAt == nil ? nil : stored.commitTS
        var metadata: JSONValue?
        switch object[member: "metadata"] {
        case nil, .null?: metadata = nil
        case let member?: metadata = JSONValue(trusted: Array(member.compactText.utf8))
        }
        return AgentRun(
            id: stored.key, agentID: agentID, status: status, startedAt: startedAt, endedAt: endedAt,
            startCommitTS: startCommitTS, endCommitTS: endCommitTS,
            provenance: items.compactMap { if case .string(let key) = $0 { key } else { nil } }, metadata: metadata)
    }
}
