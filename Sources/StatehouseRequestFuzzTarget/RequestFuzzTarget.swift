import Dispatch
import Logging
import StatehouseCore
import StatehouseGRPC
import StatehouseProto
import StatehouseSQLite
import SwiftProtobuf
import Synchronization

/// The request-handling fuzz target: arbitrary bytes as a `SessionRequest` (any request kind, batches included)
/// handled by the real service over an in-memory engine.
///
/// Properties: no crash; every request the message carries is answered, with its own request id; no answer is an
/// INTERNAL error (that would be an unmapped failure); and every 4,096 inputs the log still verifies. The engine is
/// replaced every 50,000 inputs so that memory stays bounded over long runs.
public enum RequestFuzzTarget {
    private struct World: Sendable {
        var service: StatehouseGRPCService
        var engine: StatehouseEngine
        var runner: Task<Void, Never>
    }

    private static let state = Mutex<(world: World?, inputs: Int)>((nil, 0))

    private static func makeWorld() -> World {
        let semaphore = DispatchSemaphore(value: 0)
        let box = Mutex<World?>(nil)
        Task {
            let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
            let backend = try! await SQLiteBackend.open(configuration: .inMemory(), logger: logger)
            let configuration = EngineConfiguration.defaults {
                $0.limits.maxOperationsPerTransaction = 64
                $0.limits.maxValueBytes = 8192
                $0.limits.maxOpenTransactions = 256
            }
            let engine = StatehouseEngine(backend: backend, configuration: configuration, logger: logger)
            let runner = Task { await engine.run() }
            let service = StatehouseGRPCService(
                engine: engine, build: .init(version: "fuzz", gitSHA: "fuzz"), logger: logger)
            box.withLock { $0 = World(service: service, engine: engine, runner: runner) }
            semaphore.signal()
        }
        semaphore.wait()
        return box.withLock { $0! }
    }

    /// Runs `body` on the cooperative pool and waits for it (libFuzzer calls targets synchronously).
    private static func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let semaphore = DispatchSemaphore(value: 0)
        let box = Mutex<T?>(nil)
        Task {
            let value = await body()
            box.withLock { $0 = value }
            semaphore.signal()
        }
        semaphore.wait()
        return box.withLock { $0! }
    }

    public static func sessionRequest(_ bytes: [UInt8]) {
        let (world, inputs) = Self.state.withLock { state -> (World?, Int) in
            state.inputs += 1
            return (state.world, state.inputs)
        }
        var current = world ?? Self.makeWorld()
        if world == nil || inputs % 50_000 == 0 {
            if let old = world { old.runner.cancel() }
            current = world == nil ? current : Self.makeWorld()
            Self.state.withLock { $0.world = current }
        }
        let service = current.service
        guard let responses = Self.blocking({ await service.handle(serializedSessionRequest: bytes) }) else { return }
        let request = try! Statehouse_V2_SessionRequest(serializedBytes: bytes)
        var expected: [UInt64] = []
        // A message is answered unless it only carries a batch (no request of its own); an entry without a request
        // and without a batch of its own is answered with an error.
        func collect(_ message: Statehouse_V2_SessionRequest) {
            if message.batch.isEmpty || message.request != nil { expected.append(message.requestID) }
            for item in message.batch { collect(item) }
        }
        collect(request)
        precondition(responses.count == expected.count, "\(expected.count) requests, \(responses.count) answers")
        for (bytes, id) in zip(responses, expected) {
            let response = try! Statehouse_V2_SessionResponse(serializedBytes: bytes)
            precondition(response.requestID == id, "answer for \(response.requestID), expected \(id)")
            if case .error(let error) = response.response {
                precondition(error.code != 13, "INTERNAL for a request: \(error.message)")
            }
        }
        if inputs % 4096 == 0 {
            let engine = current.engine
            let valid = Self.blocking { (try? await engine.verify().isValid) ?? false }
            precondition(valid, "the log no longer verifies")
        }
    }
}
