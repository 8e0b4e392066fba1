import Foundation
import GRPCCore
import GRPCInProcessTransport
import Logging
import StatehouseCore
import StatehouseGRPC
import StatehouseProto
import StatehouseSQLite
import StatehouseTesting
import Testing

typealias Client = Statehouse_V2_StatehouseService.Client<InProcessTransport.Client>

typealias V1Client = Statehouse_V1_StatehouseService.Client<InProcessTransport.Client>

/// Runs `body` with a client connected over an in-process transport to a service over a fresh in-memory engine.
func withTestService(
    configuration: EngineConfiguration = EngineConfiguration(),
    clock: any StatehouseClock = SystemClock(),
    _ body: @Sendable (Client, StatehouseEngine) async throws -> Void
) async throws {
    try await withBothServices(configuration: configuration, clock: clock) { client, _, engine in
        try await body(client, engine)
    }
}

/// Runs `body` with clients of both APIs (statehouse.v2 and the original statehouse.v1, registered on one server
/// as statehoused does) over a fresh in-memory engine.
func withBothServices(
    configuration: EngineConfiguration = EngineConfiguration(),
    clock: any StatehouseClock = SystemClock(),
    _ body: @Sendable (Client, V1Client, StatehouseEngine) async throws -> Void
) async throws {
    try await withInProcessServer(configuration: configuration, clock: clock) { client, engine in
        try await body(Client(wrapping: client), V1Client(wrapping: client), engine)
    }
}

/// Expects `body` to fail with `code`, and returns the error's message.
@discardableResult
func expectCode<T>(
    _ code: RPCError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async -> String {
    do {
        _ = try await body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
        return ""
    } catch let error as RPCError {
        #expect(error.code == code, "message: \(error.message)", sourceLocation: sourceLocation)
        return error.message
    } catch {
        Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
        return ""
    }
}

func putRequest(_ agent: String, _ key: String, _ json: String, namespace: String = "") -> Statehouse_V2_ApplyRequest {
    var operation = Statehouse_V2_Operation()
    operation.agentID = agent
    operation.key = key
    operation.kind = .put
    operation.value = Data(json.utf8)
    var request = Statehouse_V2_ApplyRequest()
    request.namespace = namespace
    request.operations = [operation]
    return request
}

func getRequest(_ agent: String, _ key: String) -> Statehouse_V2_GetStateRequest {
    var request = Statehouse_V2_GetStateRequest()
    request.agentID = agent
    request.key = key
    return request
}

extension Statehouse_V2_StateRecord {
    var text: String { String(decoding: self.value, as: UTF8.self) }
}
