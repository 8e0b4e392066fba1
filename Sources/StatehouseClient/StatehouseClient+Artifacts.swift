public import Foundation
import GRPCCore
public import StatehouseModel
import StatehouseProto
import StatehouseWire

// Artifacts: content-addressed blobs streamed in and out (docs/api.md, "Artifacts").
extension StatehouseClient {
    /// What the daemon holds of a blob (the model's type; the name this client has always used).
    public typealias ArtifactInfo = StatehouseModel.ArtifactInfo

    /// Uploads a file's bytes in 1 MiB chunks; with `expectedSHA256` the daemon stores them only if they hash to it.
    public func putArtifact(
        namespace: String = "default", file path: String, expectedSHA256: String? = nil
    ) async throws -> ArtifactInfo {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StatehouseError.invalidArgument("cannot read \(path)")
        }
        defer { try? handle.close() }
        return try await self.call {
            Wire.artifactInfo(
                try await self.stub.putArtifact(
                    requestProducer: { writer in
                        var first = Statehouse_V2_ArtifactChunk()
                        first.namespace = namespace
                        first.expectedSha256 = expectedSHA256 ?? ""
                        try await writer.write(first)
                        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                            var chunk = Statehouse_V2_ArtifactChunk()
                            chunk.data = data
                            try await writer.write(chunk)
                        }
                    }))
        }
    }

    /// Downloads a blob into a new file (replacing one there); on any failure, DATA_LOSS included, the file is removed.
    /// Returns the bytes written.
    @discardableResult
    public func getArtifact(namespace: String = "default", sha256: String, to path: String) async throws -> UInt64 {
        var request = Statehouse_V2_GetArtifactRequest()
        request.namespace = namespace
        request.sha256 = sha256
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw StatehouseError.invalidArgument("cannot write \(path)") }
        do {
            let written = try await self.call {
                try await self.stub.getArtifact(request) { response in
                    var written: UInt64 = 0
                    for try await chunk in response.messages {
                        try handle.write(contentsOf: chunk.data)
                        written += UInt64(chunk.data.count)
                    }
                    return written
                }
            }
            try handle.close()
            return written
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    public func statArtifact(namespace: String = "default", sha256: String) async throws -> ArtifactInfo {
        var request = Statehouse_V2_GetArtifactRequest()
        request.namespace = namespace
        request.sha256 = sha256
        return try await self.call { Wire.artifactInfo(try await self.stub.statArtifact(request)) }
    }
}

extension StatehouseClient {
    /// Removes the namespace's blobs no stored value mentions and older than `minimumAgeSeconds` (default 3600).
    public func collectArtifacts(
        namespace: String = "default", minimumAgeSeconds: UInt64? = nil
    ) async throws -> (examined: UInt64, removed: UInt64, bytesRemoved: UInt64) {
        var request = Statehouse_V2_CollectArtifactsRequest()
        request.namespace = namespace
        if let minimumAgeSeconds { request.minAgeSeconds = minimumAgeSeconds }
        return try await self.call {
            let response = try await self.stub.collectArtifacts(request)
            return (response.examined, response.removed, response.bytesRemoved)
        }
    }
}
