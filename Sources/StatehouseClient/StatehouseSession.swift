import Foundation
import GRPCCore
public import StatehouseModel
import StatehouseProto
import StatehouseWire
import Synchronization

/// A pipelined session: many requests in flight on one stream, each answered as it completes.
///
/// A unary call costs about 80 µs of server CPU here, a streamed message a few µs, so concurrent work (many agents,
/// a load generator) should share a session. Use it from any number of tasks inside
/// ``StatehouseClient/withSession(_:)``.
public struct StatehouseSession: Sendable {
    let exchange: SessionExchange
    let address: String

    /// One-shot atomic commit.
    public func commit(_ commit: AtomicCommit) async throws -> CommitResult {
        var request = Statehouse_V2_SessionRequest()
        request.apply = Wire.proto(commit)
        return Wire.result(
            try await self.send(request) {
                if case .commit(let value) = $0 { return value }
                return nil
            })
    }

    /// One key at a point in history.
    public func get(
        namespace: String = "default", agentID: String, key: String, at point: ReadPoint = .latest
    ) async throws
        -> StateRecord
    {
        var request = Statehouse_V2_SessionRequest()
        if case .version(let version) = point {
            var get = Statehouse_V2_GetStateAtVersionRequest()
            get.namespace = namespace
            get.agentID = agentID
            get.key = key
            get.version = version
            request.getAtVersion = get
        } else {
            var get = Statehouse_V2_GetStateRequest()
            get.namespace = namespace
            get.agentID = agentID
            get.key = key
            if let at = try Wire.proto(point) { get.at = at }
            request.get = get
        }
        return Wire.record(
            try await self.send(request) {
                if case .get(let value) = $0 { return value }
                return nil
            }.record)
    }

    /// Live keys with values under a prefix (one page).
    public func scan(
        namespace: String = "default", agentID: String, prefix: String, limit: Int = 100
    ) async throws -> [StateRecord] {
        var scan = Statehouse_V2_ScanPrefixRequest()
        scan.namespace = namespace
        scan.agentID = agentID
        scan.prefix = prefix
        scan.limit = UInt32(clamping: limit)
        var request = Statehouse_V2_SessionRequest()
        request.scanPrefix = scan
        return try await self.send(request) {
            if case .scanPrefix(let value) = $0 { return value }
            return nil
        }.records.map(Wire.record)
    }

    /// Runs a transaction over the session in one request: begun by the client (its own id) and committed with its
    /// operations (`Commit` with `begun_by_client`), exactly once by that id.
    public func transaction(namespace: String = "default", operations: [WriteOperation]) async throws -> CommitResult {
        var commit = Statehouse_V2_SessionRequest()
        commit.commit.txnID = TransactionID.make()
        commit.commit.begunByClient = true
        commit.commit.namespace = namespace
        commit.commit.operations = operations.map(Wire.proto)
        return Wire.result(
            try await self.send(commit) {
                if case .commit(let value) = $0 { return value }
                return nil
            })
    }

    private func send<T>(
        _ request: Statehouse_V2_SessionRequest,
        _ extract: (Statehouse_V2_SessionResponse.OneOf_Response) -> T?
    ) async throws -> T {
        let response = try await self.exchange.send(request)
        switch response.response {
        case .error(let failure):
            if let error = Wire.error(failure) { throw error }
            let code = Status.Code(rawValue: Int(failure.code)).flatMap { RPCError.Code($0) } ?? .internalError
            throw ClientErrors.error(RPCError(code: code, message: failure.message), address: self.address)
        case let value?:
            guard let extracted = extract(value) else {
                throw StatehouseError.internalError(
                    "the daemon answered session request \(response.requestID) with the wrong kind of response")
            }
            return extracted
        case nil:
            throw StatehouseError.internalError("the daemon sent an empty session response")
        }
    }
}

/// Request ids, waiting callers and the queue of requests to write for one session stream.
final class SessionExchange: Sendable {
    private struct State {
        var nextID: UInt64 = 1
        var waiting: [UInt64: CheckedContinuation<Statehouse_V2_SessionResponse, any Error>] = [:]
        var outgoing: [Statehouse_V2_SessionRequest] = []
        var writer: CheckedContinuation<Void, Never>?
        var closed: (any Error)?
        var finished = false
    }

    private let state = Mutex(State())

    func send(_ request: Statehouse_V2_SessionRequest) async throws -> Statehouse_V2_SessionResponse {
        try await withCheckedThrowingContinuation { continuation in
            let (failure, writer) = self.state.withLock { state -> ((any Error)?, CheckedContinuation<Void, Never>?) in
                if let closed = state.closed { return (closed, nil) }
                var request = request
                request.requestID = state.nextID
                state.nextID += 1
                state.waiting[request.requestID] = continuation
                state.outgoing.append(request)
                defer { state.writer = nil }
                return (nil, state.writer)
            }
            if let failure { continuation.resume(throwing: failure) }
            writer?.resume()
        }
    }

    /// Requests queued since the last call (waiting for at least one), or `nil` once the session is finished.
    func takeOutgoing() async -> [Statehouse_V2_SessionRequest]? {
        while true {
            let taken = self.state.withLock { state -> [Statehouse_V2_SessionRequest]?? in
                if !state.outgoing.isEmpty {
                    defer { state.outgoing.removeAll(keepingCapacity: true) }
                    return .some(state.outgoing)
                }
                return state.finished ? .some(nil) : nil
            }
            if let taken { return taken }
            await withCheckedContinuation { continuation in
                let resumeNow = self.state.withLock { state -> Bool in
                    if !state.outgoing.isEmpty || state.finished { return true }
                    state.writer = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    func deliver(_ response: Statehouse_V2_SessionResponse) {
        let waiter = self.state.withLock { $0.waiting.removeValue(forKey: response.requestID) }
        waiter?.resume(returning: response)
    }

    /// Stops taking requests; callers still waiting get `error`.
    func close(_ error: any Error) {
        let (waiters, writer) = self.state.withLock {
            state -> (
                [CheckedContinuation<Statehouse_V2_SessionResponse, any Error>], CheckedContinuation<Void, Never>?
            ) in
            state.closed = state.closed ?? error
            state.finished = true
            defer {
                state.waiting = [:]
                state.writer = nil
            }
            return (Array(state.waiting.values), state.writer)
        }
        for waiter in waiters { waiter.resume(throwing: error) }
        writer?.resume()
    }
}

extension StatehouseClient {
    /// Opens a pipelined session for `body`, which may call it from many tasks at once; closes it when `body` returns.
    public func withSession<Result: Sendable>(
        _ body: @Sendable @escaping (StatehouseSession) async throws -> Result
    ) async throws -> Result {
        let exchange = SessionExchange()
        let session = StatehouseSession(exchange: exchange, address: self.address)
        return try await self.call {
            try await self.stub.session { writer in
                while let requests = await exchange.takeOutgoing() {
                    try await writer.write(contentsOf: requests)
                }
            } onResponse: { response in
                try await withThrowingTaskGroup(of: Result?.self) { group in
                    group.addTask {
                        do {
                            for try await message in response.messages { exchange.deliver(message) }
                            exchange.close(StatehouseError.unavailable("the session ended"))
                        } catch {
                            exchange.close(ClientErrors.error(error, address: self.address))
                        }
                        return nil
                    }
                    let result: Result
                    do {
                        result = try await body(session)
                    } catch {
                        exchange.close(StatehouseError.unavailable("the session was closed"))
                        throw error
                    }
                    exchange.close(StatehouseError.unavailable("the session was closed"))
                    try await group.waitForAll()
                    return result
                }
            }
        }
    }
}
