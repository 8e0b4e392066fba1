import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StatehouseCore
import StatehouseModel

/// One key: its value (GET), a write (PUT) or a delete (DELETE) conditioned by `If-Match` / `If-None-Match`, and its
/// history. The key is one path segment, percent-encoded (`plan%2Fstep-1` for `plan/step-1`).
extension HTTPAPI {
    static let actorHeader = HTTPField.Name("Statehouse-Actor")!
    static let reasonHeader = HTTPField.Name("Statehouse-Reason")!
    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!
    static let versionHeader = HTTPField.Name("Statehouse-Version")!
    static let commitTSHeader = HTTPField.Name("Statehouse-Commit-Ts")!

    var keyRoutes: [HTTPRoute] {
        let keyPath = "/v1/namespaces/{namespace}/agents/{agent}/keys/{key}"
        return [
            HTTPRoute(
                method: .get, path: keyPath, operationID: "getValue",
                summary:
                    "A key's value: the stored JSON bytes, with ETag (the version), Statehouse-Version and "
                    + "Statehouse-Commit-Ts. As of a version, a commit_ts (at) or a time (as_of).",
                query: ["version", "at", "as_of"], headers: ["If-None-Match"],
                answers: [
                    .init(
                        status: 200, description: "The value.",
                        content: .media("application/json", description: "The stored value")),
                    .init(status: 304, description: "If-None-Match names the current version.", content: .none),
                    .init(
                        status: 404, description: "The key does not exist there (or is deleted).",
                        content: .schema("Problem")),
                    .init(
                        status: 412, description: "The retention policy removed the value asked for.",
                        content: .schema("Problem")),
                ]
            ) { request, _, input in
                try await self.getValue(request, input)
            },
            HTTPRoute(
                method: .put, path: keyPath, operationID: "putValue",
                summary:
                    "Writes a value in one commit. If-Match: \"N\" commits only if the key is at version N; "
                    + "If-None-Match: * only if it does not exist. The body is stored as sent.",
                query: ["expires_at"],
                headers: ["If-Match", "If-None-Match", "Idempotency-Key", "Statehouse-Actor", "Statehouse-Reason"],
                body: .value,
                answers: [
                    .init(
                        status: 200, description: "Committed; ETag is the new version.",
                        content: .schema("CommitResult")),
                    .init(
                        status: 201, description: "Committed, and the key did not exist before.",
                        content: .schema("CommitResult")),
                    .init(
                        status: 412, description: "The If-Match / If-None-Match condition failed.",
                        content: .schema("Problem")),
                    .init(status: 413, description: "The value is larger than the limit.", content: .schema("Problem")),
                    .init(status: 415, description: "The body is not application/json.", content: .schema("Problem")),
                ]
            ) { request, context, input in
                try await self.putValue(request, context, input)
            },
            HTTPRoute(
                method: .delete, path: keyPath, operationID: "deleteValue",
                summary:
                    "Deletes a key in one commit (a tombstone version; history stays), with the same conditions as PUT.",
                headers: ["If-Match", "Idempotency-Key", "Statehouse-Actor", "Statehouse-Reason"],
                answers: [
                    .init(status: 200, description: "Committed.", content: .schema("CommitResult")),
                    .init(status: 412, description: "The If-Match condition failed.", content: .schema("Problem")),
                ]
            ) { request, _, input in
                let address = try self.address(input)
                let conditions = try self.conditions(request.headers, address: address)
                let commit = AtomicCommit(
                    namespace: address.namespace,
                    operations: [.delete(agentID: address.agentID, key: address.key)],
                    conditions: conditions, idempotencyKey: request.headers[Self.idempotencyHeader],
                    metadata: self.metadata(request.headers))
                return try await self.commitResponse(commit, conditional: !conditions.isEmpty, status: .ok)
            },
            HTTPRoute(
                method: .get, path: keyPath + "/history", operationID: "keyHistory",
                summary: "Every version of a key, newest first (tombstones included), each with its commit's metadata.",
                query: ["limit", "cursor"],
                answers: [.init(status: 200, description: "A page of versions.", content: .schema("HistoryPage"))]
            ) { _, _, input in
                let address = try self.address(input)
                let page = try await self.engine.history(
                    namespace: address.namespace, agentID: address.agentID, key: address.key,
                    limit: try input.limit(default: 100, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"))
                let metadata = try await self.engine.commitMetadata(namespace: address.namespace, of: page.items)
                let items = zip(page.items, metadata).map { record, metadata -> JSONOutput in
                    guard case .object(let members) = ModelJSON.record(record, namespace: address.namespace) else {
                        return .null
                    }
                    return .object(members + [("metadata", ModelJSON.metadata(metadata))])
                }
                return HTTPResponses.json(
                    .object([("items", .array(items)), ("next_cursor", page.nextCursor.map { .string($0) } ?? .null)]))
            },
        ]
    }

    struct Address {
        var namespace: String
        var agentID: String
        var key: String
    }

    func address(_ input: HTTPInput) throws -> Address {
        Address(namespace: try input.path("namespace"), agentID: try input.path("agent"), key: try input.path("key"))
    }

    private func getValue(_ request: Request, _ input: HTTPInput) async throws -> Response {
        let address = try self.address(input)
        let record = try await self.engine.get(
            namespace: address.namespace, agentID: address.agentID, key: address.key, at: try input.readPoint())
        guard let value = record.value else {
            if record.valueRemoved {  // as the engine says when it refuses such a read itself
                throw StatehouseError.failedPrecondition(
                    "version \(record.version) of key '\(address.key)' had its value removed by the retention policy")
            }
            throw HTTPProblem(
                status: .notFound, code: "not_found",
                detail: record.deleted
                    ? "key '\(address.key)' of agent '\(address.agentID)' is deleted (version \(record.version))"
                    : "key '\(address.key)' of agent '\(address.agentID)' does not exist")
        }
        var headers: HTTPFields = [
            .eTag: HTTPResponses.etag(record.version), Self.versionHeader: "\(record.version)",
            Self.commitTSHeader: "\(record.commitTS)",
        ]
        if let wanted = request.headers[.ifNoneMatch],
            wanted == "*" || (try? request.headers.version(HTTPField.Name.ifNoneMatch)) == record.version
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value.utf8)))
    }

    private func putValue(
        _ request: Request, _ context: HTTPRequestContext, _ input: HTTPInput
    ) async throws -> Response {
        let address = try self.address(input)
        try Self.requireJSON(request)
        let bytes = try await Self.body(request, limit: self.limits.maxValueBytes, what: "a value")
        let value = try JSONValue(validating: bytes, maxDepth: self.limits.maxJSONDepth)
        let conditions = try self.conditions(request.headers, address: address, allowStar: true)
        let commit = AtomicCommit(
            namespace: address.namespace,
            operations: [
                .put(agentID: address.agentID, key: address.key, value: value, expiresAt: try input.time("expires_at"))
            ],
            conditions: conditions, idempotencyKey: request.headers[Self.idempotencyHeader],
            metadata: self.metadata(request.headers))
        return try await self.commitResponse(commit, conditional: !conditions.isEmpty, status: nil)
    }

    /// `If-Match: "N"` (the key is at version N) and `If-None-Match: *` (it does not exist) as commit conditions.
    private func conditions(
        _ headers: HTTPFields, address: Address, allowStar: Bool = false
    ) throws -> [AtomicCommit.Condition] {
        var conditions: [AtomicCommit.Condition] = []
        if let version = try headers.version(HTTPField.Name.ifMatch) {
            conditions.append(.init(agentID: address.agentID, key: address.key, expected: .version(version)))
        }
        if let noneMatch = headers[.ifNoneMatch] {
            guard allowStar else {
                throw HTTPProblem.badRequest("If-None-Match is for PUT (If-None-Match: *); a DELETE takes If-Match")
            }
            guard noneMatch.trimmingCharacters(in: .whitespaces) == "*" else {
                throw HTTPProblem.badRequest("If-None-Match on a PUT must be *, got '\(noneMatch)'")
            }
            guard conditions.isEmpty else {
                throw HTTPProblem.badRequest("give If-Match or If-None-Match, not both")
            }
            conditions.append(.init(agentID: address.agentID, key: address.key, expected: .absent))
        }
        return conditions
    }

    func metadata(_ headers: HTTPFields) -> CommitMetadata {
        CommitMetadata(actor: headers[Self.actorHeader], reason: headers[Self.reasonHeader])
    }

    /// Commits and answers with the result, `ETag` set to the (last) new version; `status` nil picks 201 for a key that
    /// did not exist before (its first version) and 200 otherwise.
    func commitResponse(
        _ commit: AtomicCommit, conditional: Bool, status: HTTPResponse.Status?
    ) async throws -> Response {
        let result: CommitResult
        do {
            result = try await self.engine.commit(commit)
        } catch let error as StatehouseError {
            throw HTTPProblem(error, conditional: conditional)
        }
        var headers: HTTPFields = [:]
        if result.versions.count == 1, let version = result.versions.first {
            headers[.eTag] = HTTPResponses.etag(version)
        }
        let created = result.versions.count == 1 && result.versions[0] == 1 && commit.operations.first?.kind == .put
        return HTTPResponses.json(
            ModelJSON.commit(result), status: status ?? (created ? .created : .ok), headers: headers)
    }

    /// A request body must be JSON (`application/json` or a `+json` type), with or without a charset.
    static func requireJSON(_ request: Request) throws {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
            .lowercased()
        guard let type, type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json")) else {
            throw HTTPProblem(
                status: .unsupportedMediaType, code: "unsupported_media_type",
                detail:
                    "the body must be application/json, got \(request.headers[.contentType].map { "'\($0)'" } ?? "no Content-Type")"
            )
        }
    }

    /// Reads the body, refusing one over `limit` bytes with 413 before reading the rest.
    static func body(_ request: Request, limit: Int, what: String) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw HTTPProblem(
                status: .contentTooLarge, code: "too_large",
                detail: "\(what) of \(length) bytes is over the limit of \(limit) bytes")
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw HTTPProblem(
                status: .contentTooLarge, code: "too_large", detail: "\(what) is over the limit of \(limit) bytes")
        }
    }
}
