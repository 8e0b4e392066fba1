import GRPCCore
import StatehouseProto
import SwiftProtobuf

extension StatehouseGRPCService {
    /// Handles one serialized `SessionRequest` exactly as the Session stream would (its batch included) and returns
    /// the serialized responses, or `nil` when the bytes are not a `SessionRequest`. Used by the request-handling fuzz
    /// target, which has no transport.
    package func handle(serializedSessionRequest bytes: [UInt8]) async -> [[UInt8]]? {
        guard let message = try? Statehouse_V2_SessionRequest(serializedBytes: bytes) else { return nil }
        let context = ServerContext(
            descriptor: MethodDescriptor(fullyQualifiedService: "statehouse.v2.StatehouseService", method: "Session"),
            remotePeer: "in-process:fuzz",
            localPeer: "in-process:fuzz",
            cancellation: ServerContext.RPCCancellationHandle()
        )
        var responses: [[UInt8]] = []
        for item in ServiceImplementation.unbatched(message) {
            let response = await self.implementation.handle(item, context: context)
            responses.append((try? response.serializedBytes()) ?? [])
        }
        return responses
    }
}
