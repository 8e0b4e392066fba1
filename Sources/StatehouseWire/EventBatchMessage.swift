package import GRPCCore
package import StatehouseModel

/// A `statehouse.v2.EventBatch` (a replay or watch message) as the model's events.
///
/// The daemon registers `Replay` and `Watch` with ``EventBatchSerializer`` and the Swift client calls them with
/// ``EventBatchDeserializer``, so neither builds the generated messages for the log (``EventWireCodec``); the bytes
/// on the wire are the same, so other clients see no difference.
package struct EventBatchMessage: Sendable {
    package var events: [Event]

    package init(events: [Event]) {
        self.events = events
    }
}

/// Writes an ``EventBatchMessage`` as `EventBatch` protobuf, measured first and encoded into the transport's buffer.
package struct EventBatchSerializer: MessageSerializer {
    package init() {}

    package func serialize<Bytes: GRPCContiguousBytes>(_ message: EventBatchMessage) throws -> Bytes {
        var bytes = Bytes(repeating: 0, count: EventWireCodec.batchSize(message.events))
        bytes.withUnsafeMutableBytes { EventWireCodec.encodeBatch(message.events, into: $0) }
        return bytes
    }
}

/// Reads an `EventBatch` into an ``EventBatchMessage``; bytes that are not one fail the call with INTERNAL.
package struct EventBatchDeserializer: MessageDeserializer {
    package init() {}

    package func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> EventBatchMessage {
        let decoded = serializedMessageBytes.withUnsafeBytes { buffer in
            Result { () throws(EventWireCodec.MalformedInput) -> [Event] in try EventWireCodec.decodeBatch(buffer) }
        }
        switch decoded {
        case .success(let events):
            return EventBatchMessage(events: events)
        case .failure(let error):
            throw RPCError(code: .internalError, message: "the daemon sent an event batch that is not valid: \(error)")
        }
    }
}
