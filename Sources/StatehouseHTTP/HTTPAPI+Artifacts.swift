import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StatehouseAccess
import StatehouseArtifacts
import StatehouseModel

// Artifacts over HTTP: PUT streams a request body into the store, GET streams a blob out (docs/api.md, "Artifacts").
extension HTTPAPI {
    var artifactRoutes: [HTTPRoute] {
        let path = "/v1/namespaces/{namespace}/artifacts"
        return [
            HTTPRoute(
                method: .post, path: path, operationID: "putArtifact",
                summary:
                    "Stores the request body (any bytes, streamed) as a blob named by its SHA-256, once per content; "
                    + "with ?sha256= only if it hashes to that.",
                query: ["sha256"],
                queryDocs: ["sha256": ("string", "The SHA-256 the body must have (64 lowercase hex digits).")],
                body: .bytes,
                answers: [
                    .init(status: 201, description: "Stored.", content: .schema("Artifact")),
                    .init(status: 200, description: "Already stored (deduplicated).", content: .schema("Artifact")),
                ]
            ) { request, _, input in
                let store = try self.artifactStore()
                let namespace = try input.path("namespace")
                try NameValidation.validateNamespace(namespace, limits: self.limits)
                let expected = try input.nonEmpty("sha256")
                if let expected, !ProvenanceSchema.isSHA256(expected) {
                    throw HTTPProblem.badRequest("sha256 must be 64 lowercase hex digits, got '\(expected.prefix(80))'")
                }
                let upload = try await store.upload(
                    namespace: namespace, limit: UInt64(self.access.quotas.configuration.artifactBytesPerNamespace))
                do {
                    for try await buffer in request.body {
                        try await upload.append(Data(buffer.readableBytesView))
                    }
                    let info = try await upload.finish(expected: expected)
                    var response = HTTPResponses.json(Self.artifactJSON(info))
                    response.status = info.deduplicated ? .ok : .created
                    return response
                } catch {
                    upload.abandon()
                    throw error
                }
            },
            HTTPRoute(
                method: .get, path: path + "/{sha256}", operationID: "getArtifact",
                summary:
                    "A blob's bytes, streamed. A stored file that no longer matches its digest ends the response "
                    + "early (the connection closes without the last chunk): discard what came.",
                answers: [
                    .init(
                        status: 200, description: "The bytes.",
                        content: .media("application/octet-stream", description: "The blob")),
                    .init(status: 404, description: "No such blob.", content: .schema("Problem")),
                ]
            ) { _, _, input in
                let store = try self.artifactStore()
                let namespace = try input.path("namespace")
                let sha256 = try input.path("sha256")
                let info = try await store.stat(namespace: namespace, sha256: sha256)
                guard info.exists else {
                    throw HTTPProblem(StatehouseError.notFound("no artifact \(sha256) in namespace '\(namespace)'"))
                }
                let logger = self.logger
                let body = ResponseBody(contentLength: Int(info.size)) { writer in
                    do {
                        try await store.read(namespace: namespace, sha256: sha256) { data in
                            try await writer.write(ByteBuffer(bytes: data))
                        }
                        try await writer.finish(nil)
                    } catch {
                        // The status is sent: ending without finishing closes the connection short of Content-Length.
                        logger.error("Artifact read failed", metadata: ["sha256": "\(sha256)", "error": "\(error)"])
                        throw error
                    }
                }
                return Response(
                    status: .ok,
                    headers: [.contentType: "application/octet-stream", .eTag: "\"\(sha256)\""],
                    body: body)
            },
            HTTPRoute(
                method: .get, path: path + "/{sha256}/stat", operationID: "statArtifact",
                summary:
                    "Whether the namespace holds a blob, and its size (exists false and size 0 when it does not), "
                    + "as StatArtifact answers.",
                answers: [.init(status: 200, description: "The blob's entry.", content: .schema("Artifact"))]
            ) { _, _, input in
                let info = try await self.artifactStore().stat(
                    namespace: try input.path("namespace"), sha256: try input.path("sha256"))
                return HTTPResponses.json(Self.artifactJSON(info))
            },
        ]
    }

    func artifactStore() throws -> any ArtifactStorage {
        guard let store = self.artifacts else {
            throw HTTPProblem(
                StatehouseError.unavailable("the artifact store needs a data directory; this daemon runs in memory"))
        }
        return store
    }

    static func artifactJSON(_ info: ArtifactInfo) -> JSONOutput {
        .object([
            ("namespace", .string(info.namespace)), ("sha256", .string(info.sha256)), ("size", .int(info.size)),
            ("exists", .bool(info.exists)), ("deduplicated", .bool(info.deduplicated)),
        ])
    }
}
