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
    static func parse(_ bytes: [UInt8], namespace: String, limits: EngineLimits) throws -> AtomicCommit {
        // Validates UTF-8, syntax and depth with the same limits as a stored value (plus the wrapper's two levels).
        _ = try JSONValue(validating: bytes, maxDepth: limits.maxJSONDepth + 3)
        let document = try ParsedJSON(parsing: bytes)
        let members = try self.object(document, at: "the body")
        try self.allow(members, ["operations", "conditions", "idempotency_key", "metadata"], at: "the body")
        guard let operations = self.member(members, "operations") else {
            throw HTTPProblem.badRequest("the body has no 'operations' (a list of puts and deletes; it may be empty)")
        }
        let operationList = try self.array(operations, at: "operations")
        guard operationList.count <= limits.maxOperationsPerTransaction else {
            throw HTTPProblem.badRequest(
                "the commit has \(operationList.count) operations; the limit is \(limits.maxOperationsPerTransaction)")
        }
        return AtomicCommit(
            namespace: namespace,
            operations: try operationList.enumerated().map { try self.operation($0.element, at: "operations[\($0.offset)]") },
            conditions: try (self.member(members, "conditions").map { try self.array($0, at: "conditions") } ?? [])
                .enumerated().map { try self.condition($0.element, at: "conditions[\($0.offset)]") },
            idempotencyKey: try self.member(members, "idempotency_key").map { try self.string($0, at: "idempotency_key") },
            metadata: try self.member(members, "metadata").map { try self.metadata($0) } ?? CommitMetadata()
        )
    }

    static func operation(_ json: ParsedJSON, at path: String) throws -> WriteOperation {
        let members = try self.object(json, at: path)
        try self.allow(members, ["op", "agent_id", "key", "value", "expires_at"], at: path)
        let agentID = try self.required(members, "agent_id", at: path) { try self.string($0, at: "\(path).agent_id") }
        let key = try self.required(members, "key", at: path) { try self.string($0, at: "\(path).key") }
        let op = try self.required(members, "op", at: path) { try self.string($0, at: "\(path).op") }
        switch op {
        case "put":
            guard let value = self.member(members, "value") else {
                throw HTTPProblem.badRequest("\(path) is a put without a 'value'")
            }
            let expiresAt = try self.member(members, "expires_at").map { try self.time($0, at: "\(path).expires_at") }
            return .put(
                agentID: agentID, key: key, value: try JSONValue(validating: value.compactText), expiresAt: expiresAt)
        case "delete":
            guard self.member(members, "value") == nil, self.member(members, "expires_at") == nil else {
                throw HTTPProblem.badRequest("\(path) is a delete; it takes no 'value' or 'expires_at'")
            }
            return .delete(agentID: agentID, key: key)
        default:
            throw HTTPProblem.badRequest("\(path).op must be \"put\" or \"delete\", got \"\(op)\"")
        }
    }

    static func condition(_ json: ParsedJSON, at path: String) throws -> AtomicCommit.Condition {
        let members = try self.object(json, at: path)
        try self.allow(members, ["agent_id", "key", "version"], at: path)
        let agentID = try self.required(members, "agent_id", at: path) { try self.string($0, at: "\(path).agent_id") }
        let key = try self.required(members, "key", at: path) { try self.string($0, at: "\(path).key") }
        let version = try self.required(members, "version", at: path) { json -> Version in
            guard case .number(let text) = json, let version = Version(text) else {
                throw HTTPProblem.badRequest(
                    "\(path).version must be a key version (an integer; 0: the key must not exist)")
            }
            return version
        }
        return AtomicCommit.Condition(agentID: agentID, key: key, expected: version == 0 ? .absent : .version(version))
    }

    static func metadata(_ json: ParsedJSON) throws -> CommitMetadata {
        let members = try self.object(json, at: "metadata")
        try self.allow(members, ["actor", "reason", "tags"], at: "metadata")
        var tags: [String: String] = [:]
        if let tagsJSON = self.member(members, "tags") {
            for member in try self.object(tagsJSON, at: "metadata.tags") {
                tags[member.name] = try self.string(member.value, at: "metadata.tags.\(member.name)")
            }
        }
        return CommitMetadata(
            actor: try self.member(members, "actor").map { try self.string($0, at: "metadata.actor") },
            reason: try self.member(members, "reason").map { try self.string($0, at: "metadata.reason") },
            tags: tags)
    }

    // MARK: - Reading members

    private static func member(_ members: [ParsedJSON.Member], _ name: String) -> ParsedJSON? {
        members.first { $0.name == name }?.value
    }

    private static func required<T>(
        _ members: [ParsedJSON.Member], _ name: String, at path: String, _ read: (ParsedJSON) throws -> T
    ) throws -> T {
        guard let value = self.member(members, name) else { throw HTTPProblem.badRequest("\(path) has no '\(name)'") }
        return try read(value)
    }

    private static func allow(_ members: [ParsedJSON.Member], _ names: Set<String>, at path: String) throws {
        if let unknown = members.first(where: { !names.contains($0.name) }) {
            throw HTTPProblem.badRequest(
                "\(path) has an unknown member '\(unknown.name)'; known: \(names.sorted().joined(separator: ", "))")
        }
    }

    private static func object(_ json: ParsedJSON, at path: String) throws -> [ParsedJSON.Member] {
        guard case .object(let members) = json else { throw HTTPProblem.badRequest("\(path) must be a JSON object") }
        return members
    }

    private static func array(_ json: ParsedJSON, at path: String) throws -> [ParsedJSON] {
        guard case .array(let items) = json else { throw HTTPProblem.badRequest("\(path) must be a JSON array") }
        return items
    }

    private static func string(_ json: ParsedJSON, at path: String) throws -> String {
        guard case .string(let text) = json else { throw HTTPProblem.badRequest("\(path) must be a string") }
        return text
    }

    private static func time(_ json: ParsedJSON, at path: String) throws -> Microseconds {
        switch json {
        case .number(let text):
            guard let micros = Microseconds(text) else {
                throw HTTPProblem.badRequest("\(path) must be microseconds since the epoch or an RFC 3339 time")
            }
            return micros
        case .string(let text):
            guard let micros = RFC3339.micros(text) else {
                throw HTTPProblem.badRequest("\(path) must be an RFC 3339 time, got '\(text)'")
            }
            return micros
        default:
            throw HTTPProblem.badRequest("\(path) must be an RFC 3339 time or microseconds since the epoch")
        }
    }
}
