import GRPCCore
import Logging
import StatehouseCore
import StatehouseProto
import Synchronization

extension ServiceImplementation {
    /// A pipelined session: requests are handled concurrently (up to `maxSessionRequestsInFlight`), and responses are
    /// written as they complete, several per write when they are ready together.
    func session(
        request: RPCAsyncSequence<Statehouse_V1_SessionRequest, any Error>,
        response: RPCWriter<Statehouse_V1_SessionResponse>,
        context: ServerContext
    ) async throws {
        let outbox = SessionOutbox()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while let responses = await outbox.take() {
                    try await response.write(contentsOf: responses)
                }
            }
            do {
                try await withThrowingTaskGroup(of: Void.self) { handlers in
                    var running = 0
                    for try await message in request {
                        if running >= self.maxSessionRequestsInFlight {
                            try await handlers.next()
                            running -= 1
                        }
                        handlers.addTask { outbox.put(await self.handle(message, context: context)) }
                        running += 1
                    }
                    try await handlers.waitForAll()
                }
            } catch {
                outbox.finish()
                throw error
            }
            outbox.finish()
            try await group.waitForAll()
        }
    }

    /// Handles one session request; failures become a `SessionError` with the status code the unary RPC would use.
    func handle(_ message: Statehouse_V1_SessionRequest, context: ServerContext) async -> Statehouse_V1_SessionResponse {
        var reply = Statehouse_V1_SessionResponse()
        reply.requestID = message.requestID
        do {
            switch message.request {
            case .apply(let request): reply.commit = try await self.apply(request: request, context: context)
            case .get(let request): reply.get = try await self.getState(request: request, context: context)
            case .getAtVersion(let request): reply.get = try await self.getStateAtVersion(request: request, context: context)
            case .getMany(let request): reply.getMany = try await self.getMany(request: request, context: context)
            case .begin(let request): reply.begin = try await self.beginTransaction(request: request, context: context)
            case .write(let request): reply.write = try await self.write(request: request, context: context)
            case .delete(let request): reply.delete = try await self.delete(request: request, context: context)
            case .transactionGet(let request): reply.get = try await self.transactionGet(request: request, context: context)
            case .commit(let request): reply.commit = try await self.commit(request: request, context: context)
            case .abort(let request): reply.abort = try await self.abort(request: request, context: context)
            case .listKeys(let request): reply.listKeys = try await self.listKeys(request: request, context: context)
            case .scanPrefix(let request): reply.scanPrefix = try await self.scanPrefix(request: request, context: context)
            case .history(let request): reply.history = try await self.history(request: request, context: context)
            case .readLog(let request): reply.readLog = try await self.readLog(request: request, context: context)
            case nil: throw StatehouseError.invalidArgument("session request \(message.requestID) carries no request")
            }
        } catch {
            let rpcError = (error as? StatehouseError).map { RPCError($0) }
                ?? RPCError(code: .internalError, message: "internal error")
            var failure = Statehouse_V1_SessionError()
            failure.code = Int32(rpcError.code.rawValue)
            failure.message = rpcError.message
            reply.error = failure
        }
        return reply
    }
}

/// Responses of one session waiting to be written; the writer takes all that are ready at once.
final class SessionOutbox: Sendable {
    private struct State {
        var ready: [Statehouse_V1_SessionResponse] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    func put(_ response: Statehouse_V1_SessionResponse) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.ready.append(response)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func finish() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The responses ready now (waiting for at least one), or `nil` once finished and drained.
    func take() async -> [Statehouse_V1_SessionResponse]? {
        while true {
            let taken = self.state.withLock { state -> [Statehouse_V1_SessionResponse]?? in
                if !state.ready.isEmpty {
                    defer { state.ready.removeAll(keepingCapacity: true) }
                    return .some(state.ready)
                }
                return state.finished ? .some(nil) : nil
            }
            if let taken { return taken }
            await withCheckedContinuation { continuation in
                let resumeNow = self.state.withLock { state -> Bool in
                    if !state.ready.isEmpty || state.finished { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }
}
