import GRPCCore
import Logging
import StatehouseAccess
import StatehouseCore
import StatehouseProto
import StatehouseWire

extension ServiceImplementation {
    /// Streams a range of the log in batches of up to 1,000 events (one message per batch).
    func replay(
        request: Statehouse_V2_ReplayRequest,
        response: RPCWriter<Statehouse_V2_EventBatch>,
        context: ServerContext
    ) async throws {
        try self.access.authorize(.readLog, namespace: Wire.filter(request.filter).namespace)
        let filter = Wire.filter(request.filter)
        self.logger.info(
            "Replay started", metadata: ["namespace": "\(filter.namespace)", "rpc.peer": "\(context.remotePeer)"])
        var cursor: String?
        var events = 0
        repeat {
            try Task.checkCancellation()
            let page = try await self.engine.readLog(filter, limit: 1000, cursor: cursor)
            if !page.items.isEmpty {
                var batch = Statehouse_V2_EventBatch()
                batch.events = page.items.map(Wire.proto)
                try await response.write(batch)
                events += page.items.count
            }
            cursor = page.nextCursor
        } while cursor != nil
        self.logger.info("Replay finished", metadata: ["namespace": "\(filter.namespace)", "events": "\(events)"])
    }

    /// Follows the log: catch-up from storage, then live events, each available run of events as one message.
    func watch(
        request: Statehouse_V2_WatchRequest,
        response: RPCWriter<Statehouse_V2_EventBatch>,
        context: ServerContext
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
                    while let events = try await subscription.nextBatch() {
                        var batch = Statehouse_V2_EventBatch()
                        batch.events = events.map(Wire.proto)
                        try await response.write(batch)
                    }
                } onCancelRPC: {
                    canceller.cancel()
                }
            }
        }
    }
}
