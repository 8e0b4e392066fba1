import Foundation
import GRPCCore
import StatehouseAccess
import StatehouseArtifacts
import StatehouseCore
import StatehouseProto
import StatehouseWire

// Artifacts: content-addressed blobs streamed in and out (docs/api.md, "Artifacts").
extension ServiceImplementation {
    func artifactStore() throws -> any ArtifactStorage {
        guard let store = self.artifacts else {
            throw StatehouseError.unavailable("the artifact store needs a data directory; this daemon runs in memory")
        }
        return store
    }

    func putArtifact(
        request: RPCAsyncSequence<Statehouse_V2_ArtifactChunk, any Error>, context: ServerContext
    ) async throws -> Statehouse_V2_ArtifactInfo {
        var upload: (any ArtifactUpload)?
        var expected: String?
        do {
            for try await chunk in request {
                if upload == nil {
                    let namespace = Wire.namespace(chunk.namespace)
                    try NameValidation.validateNamespace(namespace, limits: self.limits)
                    try self.authorize(.commit, namespace)
                    if !chunk.expectedSha256.isEmpty {
                        guard ProvenanceSchema.isSHA256(chunk.expectedSha256) else {
                            throw StatehouseError.invalidArgument(
                                "expected_sha256 must be 64 lowercase hex digits, got '\(chunk.expectedSha256.prefix(80))'"
                            )
                        }
                        expected = chunk.expectedSha256
                    }
                    // Access first: a caller without the grant learns nothing of the store.
                    upload = try await self.artifactStore().upload(
                        namespace: namespace, limit: UInt64(self.access.quotas.configuration.artifactBytesPerNamespace))
                }
                if !chunk.data.isEmpty { try await upload!.append(chunk.data) }
            }
            guard let upload else { throw StatehouseError.invalidArgument("the upload sent no message") }
            return Wire.proto(try await upload.finish(expected: expected))
        } catch {
            upload?.abandon()
            throw error
        }
    }

    func getArtifact(
        request: Statehouse_V2_GetArtifactRequest, response: RPCWriter<Statehouse_V2_ArtifactChunk>,
        context: ServerContext
    ) async throws {
        let namespace = Wire.namespace(request.namespace)
        try self.authorize(.readState, namespace)
        try await self.artifactStore().read(namespace: namespace, sha256: request.sha256) { data in
            var chunk = Statehouse_V2_ArtifactChunk()
            chunk.data = data
            try await response.write(chunk)
        }
    }

    func statArtifact(
        request: Statehouse_V2_GetArtifactRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ArtifactInfo {
        let namespace = Wire.namespace(request.namespace)
        try self.authorize(.readState, namespace)
        return Wire.proto(try await self.artifactStore().stat(namespace: namespace, sha256: request.sha256))
    }
}

extension ServiceImplementation {
    func collectArtifacts(
        request: Statehouse_V2_CollectArtifactsRequest, context: ServerContext
    ) async throws -> Statehouse_V2_CollectArtifactsResponse {
        let namespace = Wire.namespace(request.namespace)
        try self.authorize(.retention, namespace)
        let store = try self.artifactStore()
        let referenced = try await self.engine.referencedDigests(namespace: namespace)
        let minimumAge = Duration.seconds(Int64(clamping: request.hasMinAgeSeconds ? request.minAgeSeconds : 3600))
        let collection = try await store.collect(namespace: namespace, referenced: referenced, minimumAge: minimumAge)
        await self.access.audit(
            action: "collect artifacts", namespace: namespace,
            details: [("removed", "\(collection.removed)"), ("bytes_removed", "\(collection.bytesRemoved)")])
        var response = Statehouse_V2_CollectArtifactsResponse()
        response.examined = UInt64(collection.examined)
        response.removed = UInt64(collection.removed)
        response.bytesRemoved = collection.bytesRemoved
        return response
    }
}
