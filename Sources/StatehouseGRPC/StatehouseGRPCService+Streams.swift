import GRPCCore
import GRPCProtobuf
import Logging
import StatehouseAccess
import StatehouseCore
import StatehouseModel
import StatehouseProto
import StatehouseWire
import SwiftProtobuf

extension ServiceImplementation {
    /// `Replay` and `Watch` registered again over the generated ones, with ``StatehouseWire/EventBatchSerializer``:
    /// their events are encoded straight from the model (``StatehouseWire/EventWireCodec``), which halves what a
    /// replay costs the daemon. The bytes are the ones the generated messages would make.
    func registerEventStreams<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        Self.registerEventStream(Statehouse_V2_StatehouseService.Method.Replay.descriptor, with: &router) {
            try await self.replay(request: $0, context: $1, send: $2)
        }
        Self.registerEventStream(Statehouse_V2_StatehouseService.Method.Watch.descriptor, with: &router) {
            try await self.watch(request: $0, context: $1, send: $2)
        }
    }

    /// Registers a method that takes one `Request` and answers with a stream of event batches, which `body` sends.
    private static func registerEventStream<Request: SwiftProtobuf.Message, Transport: ServerTransport>(
        _ method: MethodDescriptor, with router: inout RPCRouter<Transport>,
        _ body: @escaping @Sendable (Request, ServerContext, ([Event]) async throws -> Void) async throws -> Void
    ) {
        router.registerHandler(
            forMethod: method, deserializer: ProtobufDeserializer<Request>(), serializer: EventBatchSerializer()
        ) { request, context in
            let request = try await ServerRequest(stream: request)
            return StreamingServerResponse { writer in
                try await body(request.message, context) { try await writer.write(EventBatchMessage(events: $0)) }
                return [:]
            }
        }
    }

    /// The generated protocol's `Replay` (what ``registerEventStreams(with:)`` replaces when the service is
    /// registered), through the generated messages.
    func replay(
        request: Statehouse_V2_ReplayRequest,
        response: RPCWriter<Statehouse_V2_EventBatch>,
        context: ServerContext
    ) async throws {
        try await self.replay(request: request, context: context) { events in
            var batch = Statehouse_V2_EventBatch()
            batch.events = events.map(Wire.proto)
            try await response.write(batch)
        }
    }

    /// The generated protocol's `Watch` (replaced like `Replay`).
    func watch(
        request: Statehouse_V2_WatchRequest,
        response: RPCWriter<Statehouse_V2_EventBatch>,
        context: ServerContext
    ) async throws {
        try await self.watch(request: request, context: context) { events in
            var batch = Statehouse_V2_EventBatch()
            batch.events = events.map(Wire.proto)
            try await response.write(batch)
        }
    }

    /// Streams a range of the log in batches of up to 1,000 events (one message per batch), reading the next batch
    /// while the last one is sent.
    func replay(
        request: Statehouse_V2_ReplayRequest,
        context: ServerContext,
        send: ([Event]) async throws -> Void
    ) async throws {
        try self.access.authorize(.readLog, namespace: Wire.filter(request.filter).namespace)
        let filter = Wire.filter(request.filter)
        self.logger.info(
            "Replay started", metadata: ["namespace": "\(filter.namespace)", "rpc.peer": "\(context.remotePeer)"])
        let engine = self.engine
        var page = try await engine.readLog(filter, limit: 1000, cursor: nil, inHalves: false)
        var events = 0
        while true {
            try Task.checkCancellation()
            guard let cursor = page.nextCursor else {
                if !page.items.isEmpty { try await send(page.items) }
                events += page.items.count
                break
            }
            // The log only grows, so reading ahead returns what reading after the send would.
            async let next = engine.readLog(filter, limit: 1000, cursor: cursor, inHalves: false)
            if !page.items.isEmpty { try await send(page.items) }
            events += page.items.count
            page = try await next
        }
        self.logger.info("Replay finished", metadata: ["namespace": "\(filter.namespace)", "events": "\(events)"])
    }

    /// Follows the log: catch-up from storage, then live events, each available run of events as one message.
    func watch(
        request: Statehouse_V2_WatchRequest,
        context: ServerContext,
        send: ([Event]) async throws -> Void
    ) async throws {
        try self.authorize(.watch, request.namespace)
        let namespace = Wire.namespace(request.namespace)
        let subscription = try await self.engine.watch(
            namespace: namespace,
            agentID: request.agentID.isEmpty ? nil : request.agentID,
            from: request.hasFromCommitTs ? request.fromCommitTs : nil
        )
        self.logger.info(
            "Watch started",
            metadata: [
                "namespace": "\(namespace)", "watch.from": "\(subscription.nextCommitTS)",
            ])
        defer {
            self.logger.info(
                "Watch ended", metadata: ["namespace": "\(namespace)", "watch.next": "\(subscription.nextCommitTS)"])
        }
        // A client that goes away cancels the RPC, not this task: end the subscription then, or it would wait for
        // the next commit forever (and hold up graceful shutdown).
        let canceller = subscription.canceller
        // A watch holds one of its principal's watch slots, and ends when the principal's token is revoked or expires.
        try await self.access.quotas.withWatchSlot(namespace: namespace) {
            try await self.access.whileValid(onInvalid: { canceller.cancel() }) {
                try await withRPCCancellationHandler {
                    while let events = try await subscription.nextBatch() { try await send(events) }
                } onCancelRPC: {
                    canceller.cancel()
                }
            }
        }
    }
}
