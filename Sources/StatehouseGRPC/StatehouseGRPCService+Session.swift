import GRPCCore
import Logging
import StatehouseAccess
import StatehouseCore
import StatehouseProto
import StatehouseWire
import Synchronization

extension ServiceImplementation {
    /// A pipelined session: requests are handled concurrently (up to `maxSessionRequestsInFlight`), and responses are
    /// written as they complete, several per write when they are ready together.
    ///
    /// A session lives as long as its client keeps it open, so a graceful shutdown would wait for it forever: when
    /// ``SessionRegistry/endAll()`` is called the session stops taking requests, answers those in flight, and ends
    /// with UNAVAILABLE (UNAUTHENTICATED when its token is revoked). Requests the client sent after that get no answer; the client sees the status and retries
    /// them elsewhere (commits are exactly-once, so a retried commit is safe).
    func session(
        request: RPCAsyncSequence<Statehouse_V2_SessionRequest, any Error>,
        response: RPCWriter<Statehouse_V2_SessionResponse>,
        context: ServerContext
    ) async throws {
        let outbox = SessionOutbox()
        let permits = SessionPermits(limit: self.maxSessionRequestsInFlight)
        // Set once the client says it reads `batch` responses (SessionRequest.batch_responses).
        let batchesResponses = SessionFlag()
        let (inbox, inboxInput) = AsyncStream<Statehouse_V2_SessionRequest>.makeStream()
        guard let registration = self.sessions.register({ inboxInput.finish() }) else {
            throw RPCError(code: .unavailable, message: Self.shuttingDownMessage)
        }
        defer { self.sessions.unregister(registration) }

        // A session of a token that is revoked (or expires) meanwhile stops taking requests as at shutdown, answers
        // those in flight, and ends with UNAUTHENTICATED.
        let endSession: @Sendable () -> Void = { inboxInput.finish() }
        try await self.access.whileValid(onInvalid: endSession) {
            enum Child { case writer, reader }
            try await withThrowingTaskGroup(of: Child.self) { group in
                group.addTask {
                    while let responses = await outbox.take() {
                        if responses.count > 1, batchesResponses.isSet {
                            // One message for all that is ready: a client that reads message by message (Python's
                            // grpc.aio) pays per message, not per byte.
                            var carrier = Statehouse_V2_SessionResponse()
                            carrier.batch = responses
                            try await response.write(carrier)
                        } else {
                            try await response.write(contentsOf: responses)
                        }
                    }
                    return .writer
                }
                group.addTask {
                    defer { inboxInput.finish() }
                    reading: for try await message in request {
                        if message.batchResponses { batchesResponses.set() }
                        for item in Self.unbatched(message) {
                            await permits.acquire()
                            if case .terminated = inboxInput.yield(item) {
                                permits.release()  // the session is ending: this request stays unanswered
                                break reading
                            }
                        }
                    }
                    return .reader
                }
                await withDiscardingTaskGroup { handlers in
                    for await message in inbox {
                        handlers.addTask {
                            outbox.put(await self.handle(message, context: context))
                            permits.release()
                        }
                    }
                }
                outbox.finish()
                // Wait for the writer to flush every answer; then stop reading requests (at shutdown the client may
                // still be sending).
                while let child = try await group.next() {
                    if child == .writer { group.cancelAll() }
                }
            }
        }
        if self.sessions.isEnding {
            throw RPCError(code: .unavailable, message: Self.shuttingDownMessage)
        }
    }

    /// The requests one stream message carries: itself (unless it is only a carrier of a batch), then its batch.
    static func unbatched(_ message: Statehouse_V2_SessionRequest) -> [Statehouse_V2_SessionRequest] {
        guard !message.batch.isEmpty else { return [message] }
        var items: [Statehouse_V2_SessionRequest] = []
        if message.request != nil {
            var own = message
            own.batch = []
            items.append(own)
        }
        for item in message.batch { items.append(contentsOf: Self.unbatched(item)) }
        return items
    }

    static var shuttingDownMessage: String { "the daemon is shutting down; reconnect and retry" }

    /// Handles one session request; failures become a `SessionError` with the status code the unary RPC would use.
    func handle(_ message: Statehouse_V2_SessionRequest, context: ServerContext) async -> Statehouse_V2_SessionResponse
    {
        var reply = Statehouse_V2_SessionResponse()
        reply.requestID = message.requestID
        do {
            switch message.request {
            case .apply(let request): reply.commit = try await self.apply(request: request, context: context)
            case .get(let request): reply.get = try await self.getState(request: request, context: context)
            case .getAtVersion(let request):
                reply.get = try await self.getStateAtVersion(request: request, context: context)
            case .getMany(let request): reply.getMany = try await self.getMany(request: request, context: context)
            case .begin(let request): reply.begin = try await self.beginTransaction(request: request, context: context)
            case .write(let request): reply.write = try await self.write(request: request, context: context)
            case .delete(let request): reply.delete = try await self.delete(request: request, context: context)
            case .transactionGet(let request):
                reply.get = try await self.transactionGet(request: request, context: context)
            case .commit(let request): reply.commit = try await self.commit(request: request, context: context)
            case .abort(let request): reply.abort = try await self.abort(request: request, context: context)
            case .listKeys(let request): reply.listKeys = try await self.listKeys(request: request, context: context)
            case .scanPrefix(let request):
                reply.scanPrefix = try await self.scanPrefix(request: request, context: context)
            case .history(let request): reply.history = try await self.history(request: request, context: context)
            case .readLog(let request): reply.readLog = try await self.readLog(request: request, context: context)
            case nil: throw StatehouseError.invalidArgument("session request \(message.requestID) carries no request")
            }
        } catch {
            reply.error = Wire.sessionError(error)
        }
        return reply
    }
}

/// Responses of one session waiting to be written; the writer takes all that are ready at once.
final class SessionOutbox: Sendable {
    private struct State {
        var ready: [Statehouse_V2_SessionResponse] = []
        var finished = false
    }

    private let handOff = AsyncHandOff(State())

    func put(_ response: Statehouse_V2_SessionResponse) {
        self.handOff.update { $0.ready.append(response) }
    }

    func finish() {
        self.handOff.update { $0.finished = true }
    }

    /// The responses ready now (waiting for at least one), or `nil` once finished and drained.
    func take() async -> [Statehouse_V2_SessionResponse]? {
        await self.handOff.next(
            { state -> [Statehouse_V2_SessionResponse]?? in
                if !state.ready.isEmpty {
                    defer { state.ready.removeAll(keepingCapacity: true) }
                    return .some(state.ready)
                }
                return state.finished ? .some(nil) : nil
            }  // no cancellation handler: the session's reader always ends the writer with finish()
        )
    }
}

/// Limits the requests of one session in flight: the reader waits for a permit before taking the next request, so a
/// client that floods the stream is held back by HTTP/2 flow control instead of filling memory.
final class SessionPermits: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(limit: Int) {
        self.state = Mutex(State(available: limit))
    }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = self.state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume()
    }
}

/// The open sessions of a service, so that a graceful shutdown can end them (see `session`).
public final class SessionRegistry: Sendable {
    private struct State {
        var ending = false
        var next = 0
        var sessions: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Registers a session's end handler; `nil` when sessions are already ending.
    func register(_ end: @escaping @Sendable () -> Void) -> Int? {
        self.state.withLock { state in
            guard !state.ending else { return nil }
            state.next += 1
            state.sessions[state.next] = end
            return state.next
        }
    }

    func unregister(_ id: Int) {
        _ = self.state.withLock { $0.sessions.removeValue(forKey: id) }
    }

    var isEnding: Bool { self.state.withLock { $0.ending } }

    /// Sessions open now (a gauge for `/metrics`).
    public var count: Int { self.state.withLock { $0.sessions.count } }

    /// Ends every open session (they answer what is in flight, then close with UNAVAILABLE) and refuses new ones.
    public func endAll() {
        let ends = self.state.withLock { state -> [@Sendable () -> Void] in
            state.ending = true
            return Array(state.sessions.values)
        }
        for end in ends { end() }
    }
}

/// A flag a session's reader sets and its writer reads (whether the client reads batched responses).
final class SessionFlag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { self.value.store(true, ordering: .relaxed) }

    var isSet: Bool { self.value.load(ordering: .relaxed) }
}
