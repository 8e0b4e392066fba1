import StatehouseModel

/// The body of `POST /v1/namespaces/{namespace}/commits`, read into an ``StatehouseModel/AtomicCommit``:
///
/// ```json
/// {"operations": [{"op": "put", "agent_id": "a", "key": "k", "value": {"x": 1}, "expires_at": "2027-01-01T00:00:00Z"},
///                 {"op": "delete", "agent_id": "a", "key": "old"}],
///  "conditions": [{"agent_id": "a", "key": "k", "version": 3}],
///  "idempotency_key": "run-7-step-2",
///  "metadata": {"actor": "planner", "reason": "step 2", "tags": {"run": "7"}}}
/// ```
///
/// A condition's `version` 0 means "the key must not exist". Unknown members are refused with their name, so a
/// misspelt `condtions` cannot turn a conditional commit into an unconditional one. A value is stored as its compact
/// JSON text: whitespace goes, numbers and strings keep their exact text.
enum HTTPCommitBody {
    static let metadataMembers: Set<String> = ["actor", "reason", "tags"]

    static func parse(_ bytes: [UInt8], namespace: String, limits: EngineLimits) throws -> AtomicCommit {
        let body = try HTTPJSONObject.parse(
            bytes, limits: limits, allowing: ["operations", "conditions", "idempotency_key", "metadata"])
        guard
            let operations = try body.objects("operations", allowing: ["op", "agent_id", "key", "value", "expires_at"])
        else {
            throw HTTPProblem.badRequest("the body has no 'operations' (a list of puts and deletes; it may be empty)")
        }
        guard operations.count <= limits.maxOperationsPerTransaction else {
            throw HTTPProblem.badRequest(
                "the commit has \(operations.count) operations; the limit is \(limits.maxOperationsPerTransaction)")
        }
        return AtomicCommit(
            namespace: namespace,
            operations: try operations.map(Self.operation),
            conditions: try (body.objects("conditions", allowing: ["agent_id", "key", "version"]) ?? []).map(
                Self.condition),
            idempotencyKey: try body.string("idempotency_key"),
            metadata: try body.object("metadata", allowing: Self.metadataMembers).map(Self.metadata) ?? CommitMetadata()
        )
    }

    static func operation(_ json: HTTPJSONObject) throws -> WriteOperation {
        let agentID = try json.required("agent_id", json.string)
        let key = try json.required("key", json.string)
        switch try json.required("op", json.string) {
        case "put":
            guard let value = try json.json("value") else {
                throw HTTPProblem.badRequest("\(json.path) is a put without a 'value'")
            }
            return .put(agentID: agentID, key: key, value: value, expiresAt: try json.time("expires_at"))
        case "delete":
            guard json.value("value") == nil, json.value("expires_at") == nil else {
                throw HTTPProblem.badRequest("\(json.path) is a delete; it takes no 'value' or 'expires_at'")
            }
            return .delete(agentID: agentID, key: key)
        case let op:
            throw HTTPProblem.badRequest("\(json.path).op must be \"put\" or \"delete\", got \"\(op)\"")
        }
    }

    static func condition(_ json: HTTPJSONObject) throws -> AtomicCommit.Condition {
        let version = try json.required("version", json.uint64)
        return AtomicCommit.Condition(
            agentID: try json.required("agent_id", json.string), key: try json.required("key", json.string),
            expected: version == 0 ? .absent : .version(version))
    }

    static func metadata(_ json: HTTPJSONObject) throws -> CommitMetadata {
        CommitMetadata(
            actor: try json.string("actor"), reason: try json.string("reason"), tags: try json.stringMap("tags"))
    }
}
