import GRPCCore
import GRPCProtobuf
public import StatehouseModel
import StatehouseProto
import StatehouseWire
import SwiftProtobuf

/// The events of a replay or watch, one at a time, valid inside the closure that received it.
public struct ClientEventSequence: AsyncSequence, Sendable {
    public typealias Element = Event

    let batches: RPCAsyncSequence<EventBatchMessage, any Error>
    let address: String

    public func makeAsyncIterator() -> Iterator {
        Iterator(batches: self.batches.makeAsyncIterator(), address: self.address)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var batches: RPCAsyncSequence<EventBatchMessage, any Error>.AsyncIterator
        let address: String
        var pending: [Event] = []
        var index = 0

        public mutating func next() async throws -> Event? {
            while self.index == self.pending.count {
                do {
                    guard let batch = try await self.batches.next() else { return nil }
                    self.pending = batch.events
                    self.index = 0
                } catch {
                    throw ClientErrors.error(error, address: self.address)
                }
            }
            defer { self.index += 1 }
            return self.pending[self.index]
        }
    }
}

extension StatehouseClient {
    /// One page of the log.
    public func readLog(_ filter: LogFilter, limit: Int = 1000, cursor: String? = nil) async throws -> Page<Event> {
        var request = Statehouse_V2_ReadLogRequest()
        request.filter = Wire.proto(filter)
        request.limit = UInt32(clamping: limit)
        request.cursor = cursor ?? ""
        let response = try await self.call { try await self.stub.readLog(request) }
        return Page(
            items: response.events.map(Wire.event), nextCursor: response.nextCursor.isEmpty ? nil : response.nextCursor)
    }

    /// Streams the events of `filter` (up to the end of the log) to `body`.
    public func replay<Result: Sendable>(
        _ filter: LogFilter,
        _ body: @Sendable @escaping (ClientEventSequence) async throws -> Result
    ) async throws -> Result {
        var request = Statehouse_V2_ReplayRequest()
        request.filter = Wire.proto(filter)
        return try await self.eventStream(Statehouse_V2_StatehouseService.Method.Replay.descriptor, request, body)
    }

    /// Follows a namespace's log from `from` (default: only new commits); ends when `body` returns.
    ///
    /// A watcher that falls behind gets ``StatehouseModel/StatehouseError/subscriberTooSlow(resumeFrom:)``; call
    /// `watch` again from that commit_ts.
    public func watch<Result: Sendable>(
        namespace: String = "default",
        agentID: String? = nil,
        from: CommitTS? = nil,
        _ body: @Sendable @escaping (ClientEventSequence) async throws -> Result
    ) async throws -> Result {
        var request = Statehouse_V2_WatchRequest()
        request.namespace = namespace
        request.agentID = agentID ?? ""
        if let from { request.fromCommitTs = from }
        return try await self.eventStream(Statehouse_V2_StatehouseService.Method.Watch.descriptor, request, body)
    }

    /// Calls `Replay` or `Watch` and hands `body` their events, decoded without the generated messages.
    private func eventStream<Request: SwiftProtobuf.Message, Result: Sendable>(
        _ method: MethodDescriptor,
        _ request: Request,
        _ body: @Sendable @escaping (ClientEventSequence) async throws -> Result
    ) async throws -> Result {
        try await self.call {
            try await self.streams.serverStreaming(
                request: ClientRequest(message: request),
                descriptor: method,
                serializer: ProtobufSerializer<Request>(),
                deserializer: EventBatchDeserializer(),
                options: .defaults
            ) { response in
                try await body(ClientEventSequence(batches: response.messages, address: self.address))
            }
        }
    }

    /// Recomputes a namespace's hash chain on the daemon.
    public func verify(
        namespace: String = "default", from: CommitTS = 1, to: CommitTS? = nil
    ) async throws -> VerificationReport {
        var request = Statehouse_V2_VerifyRequest()
        request.namespace = namespace
        request.fromCommitTs = from
        request.toCommitTs = to ?? 0
        let response: Statehouse_V2_VerifyResponse
        do {
            response = try await self.call { try await self.stub.verify(request) }
        } catch StatehouseError.transactionNotFound(let message) {
            throw StatehouseError.notFound(message)  // Verify names no transaction: NOT_FOUND is the namespace
        }
        var report = VerificationReport(
            namespace: namespace,
            fromCommitTS: response.fromCommitTs,
            toCommitTS: response.toCommitTs,
            eventsChecked: Int(response.eventsChecked),
            head: Wire.head(response.head),
            firstBadCommitTS: response.ok ? nil : response.firstBadCommitTs,
            reason: response.ok ? nil : response.reason
        )
        report.eventsWithRemovedValues = Int(response.eventsWithRemovedValues)
        return report
    }
}
